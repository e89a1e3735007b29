"""A line at the top of every tab when the teacher has opened a round on the class wall, so a
student on Chat or Imagine sees it too; choosing it opens the Class tab (studio.ui.wall).

The page asks `/wall/now` (studio.classroom.wall_page) every few seconds, from the browser: a
small JSON answer in front of Gradio's routes, with no place in its queue and no event on the
server, so a class that never opens a round costs a few bytes a student.
"""

from __future__ import annotations

import json

import gradio as gr

POLL_MS = 5000
ELEM_ID = "wall-notice"

# The Class tab's own button is found by its title; the line hides while that tab is open.
_LOOK = """() => {
  const title = %(title)s;
  const box = document.getElementById(%(id)s);
  if (!box) return [];
  const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
  const now = new URL("wall/now", root.endsWith("/") ? root : root + "/");
  const tab = () => [...document.querySelectorAll('[role="tab"]')]
    .find((button) => button.textContent.trim() === title);
  const line = document.createElement("button");
  line.type = "button";
  line.className = "wall-notice-line";
  line.addEventListener("click", () => { const button = tab(); if (button) button.click(); });
  box.replaceChildren(line);
  box.style.display = "none";  // the whole block, so no gap stands above the tabs
  let round = {};
  function show() {
    const button = tab();
    const onIt = button && button.getAttribute("aria-selected") === "true";
    box.style.display = !round.open || onIt ? "none" : "";
    if (round.open) {
      line.textContent = `Round ${round.id} is open: ${round.what}. Open the ${title} tab.`;
    }
  }
  async function look() {
    try {
      const answer = await fetch(now, {cache: "no-store", credentials: "same-origin"});
      if (answer.ok) round = await answer.json();
    } catch (error) {}  // the studio is away for a moment: keep what is shown
    show();
  }
  look();
  setInterval(look, %(every)d);
  document.addEventListener("click", () => setTimeout(show, 0));  // a tab chosen: hide or show
  return [];
}"""


def notice(app: gr.Blocks, class_title: str) -> None:
    """The line, empty until a round opens, above the tabs of `app`."""
    gr.HTML("", elem_id=ELEM_ID, padding=False)
    js = _LOOK % {"id": json.dumps(ELEM_ID), "every": POLL_MS, "title": json.dumps(class_title)}
    app.load(None, None, None, js=js, queue=False, api_visibility="private")
