"""How the studio looks beyond Gradio's theme: readable labels, the tabs' status lines, entity
marks, round cards, phones, and presentation mode, which is only this style sheet: a class on
the page's body (`?view=projector`, or the toggle) that enlarges every type and control, so no
tab has layout code of its own for it. On a phone, a tab's result is brought into view when it
arrives (`in_view_on_phone`)."""

from __future__ import annotations

import json

import gradio as gr

PROJECTOR_CLASS = "projector"

# Gradio's theme sets its sizes on :root, each derived size from the base ones there; so
# presentation mode sets the base sizes and derives the others again, on the body.
_PROJECTOR = """
body.projector {
  --text-xxs: 13px; --text-xs: 15px; --text-sm: 18px; --text-md: 22px;
  --text-lg: 26px; --text-xl: 34px; --text-xxl: 42px;
  --spacing-sm: 6px; --spacing-md: 10px; --spacing-lg: 14px; --spacing-xl: 18px;
  --body-text-size: var(--text-md);
  --prose-text-size: var(--text-md);
  --block-label-text-size: var(--text-md);
  --block-info-text-size: var(--text-sm);
  --block-title-text-size: var(--text-lg);
  --section-header-text-size: var(--text-lg);
  --input-text-size: var(--text-lg);
  --checkbox-label-text-size: var(--text-md);
  --button-small-text-size: var(--text-md);
  --button-medium-text-size: var(--text-lg);
  --button-large-text-size: var(--text-lg);
  --chatbot-text-size: var(--text-lg);
  --block-label-text-weight: 600;
}
body.projector .gradio-container { max-width: none !important; }
body.projector .tab-container button, body.projector [role="tab"] { font-size: var(--text-lg); }
body.projector .studio-title p { font-size: var(--text-lg); }
"""

_READABLE = """
.gradio-container {
  --block-label-text-color: var(--body-text-color);
  --block-title-text-color: var(--body-text-color);
  --block-info-text-color: var(--body-text-color);
}
/* 16px keeps a phone from zooming into a field when it is tapped */
.gradio-container { --input-text-size: max(16px, var(--text-md)); }
.studio-title h1 { margin-bottom: 0.2em; }
#presentation-mode { flex: 0 0 auto !important; width: auto !important; align-self: flex-start; }
.studio-title p { font-size: var(--text-lg); margin-top: 0; }
/* a reproducibility card lines up its columns, as it does when copied */
.studio-card textarea { font-family: var(--font-mono); }
/* Gradio sizes a code box from a line height it measures while the box is still hidden in its
   closed accordion, so a short snippet could get a box five times its height: size by lines
   (at most studio.ui.code_panel.CODE_LINES, then it scrolls) */
.studio-code .cm-scroller { min-height: 4lh !important; max-height: 12lh !important; }
/* a model picker's Refresh sits beside the list at its height, not the height of the block */
.model-picker { align-items: flex-end; }
.model-picker > button { flex-grow: 0; align-self: flex-end;
  margin-bottom: calc(10px + var(--block-border-width, 1px));  /* the block's padding under it */
  min-height: calc(var(--input-text-size) * 2.75); }
"""

# The chat's height follows the screen's, so that its message box stays in the first screen of
# a laptop (1366x768), in presentation mode too, under the title and the tabs.
_CHAT = """
:root { --chat-height: clamp(240px, calc(100dvh - 380px), 760px); }
body.projector { --chat-height: clamp(240px, calc(100dvh - 440px), 960px); }
/* While a reply is awaited, the status line floats over the foot of the conversation, where the
   reply will show: it takes no room, so the message box does not move out of the first screen. */
#chat-conversation { position: relative; }
#chat-status { position: absolute; z-index: 5; left: var(--spacing-xl); right: var(--spacing-xl);
  width: auto;
  top: var(--chat-height); transform: translateY(calc(-100% - var(--spacing-lg))); }
#chat-status .studio-line { box-shadow: var(--shadow-drop-lg); }
"""

_STATUS = """
.studio-status:not(:has(.studio-line)) { display: none; }
.studio-line { padding: 0.5em 0.8em; border-radius: var(--radius-md); font-size: var(--text-md);
  border: 1px solid var(--border-color-primary); }
.studio-line.waiting { background: var(--color-accent-soft); }
.studio-line.done, .studio-line.stopped { border-style: dashed; }
.studio-line.failed { border: 2px solid #b91c1c; background: #fef2f2; color: #7f1d1d; }
.dark .studio-line.failed { background: #450a0a; color: #fecaca; }
"""

_ENTITIES = """
.entities-text { line-height: 2.2; font-size: var(--text-lg); }
mark.entity { display: inline-block; line-height: 1.5; color: inherit; padding: 0 0.3em;
  border-radius: 4px;
  background: color-mix(in srgb, var(--entity-colour) 22%, transparent);
  border-bottom: 3px solid var(--entity-colour); }
.entity-type { margin-left: 0.35em; font-size: 0.7em; font-weight: 700;
  text-transform: uppercase; letter-spacing: 0.04em; }
.entity-legend { margin-top: 0.6em; display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; }
.legend-item { border-left: 1.2em solid var(--entity-colour); padding-left: 0.4em; }
.no-entities { font-size: var(--text-lg); }
"""

_PICTURES = """
.round-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: var(--spacing-md); }
.round-card.unused { display: none; }
.round-card .round-text p { overflow-wrap: anywhere; }
#imagine-gallery .caption-label, #imagine-gallery figcaption { white-space: normal; }
.shape-buttons button { min-width: 0 !important; }
"""

_WALL = """
.wall-notice-line { width: 100%; text-align: left; font-size: var(--text-lg); font-weight: 600;
  padding: 0.5em 0.8em; border-radius: var(--radius-md); cursor: pointer;
  border: 2px solid var(--color-accent); background: var(--color-accent-soft); }
"""

_PHONE = """
@media (max-width: 640px) {
  .studio-title p { font-size: var(--text-md); }
  [role="tab"] { padding-left: 10px; padding-right: 10px; }
  #imagine-gallery .grid-container { --grid-cols: 2 !important; }
  /* read, not typed into (so no zoom to fear): small enough to keep its two columns */
  .studio-card textarea { font-size: 13px; }
  /* a phone is not a projector: its toggle gives its line to the chat */
  #presentation-mode { display: none !important; }
  /* the tabs wrap onto three lines: the chat gives way, so its box shows too. (Set on the
     conversation: Gradio puts its container before every selector in a media query, so a
     :root here would match nothing.) */
  #chat-conversation { --chat-height: clamp(200px, calc(100dvh - 480px), 600px); }
  /* an empty chat: its line and examples fit that height instead of stretching it */
  #chat-bot .placeholder { flex: 0 0 auto; min-height: 0; height: auto; padding: 1.8em 0 0.5em; }
  #chat-bot .example { padding: 0.5em 0.8em; }
  .wall-notice-line { font-size: var(--text-md); padding: 0.3em 0.6em; }
}
"""

CSS = _READABLE + _CHAT + _STATUS + _ENTITIES + _PICTURES + _WALL + _PHONE + _PROJECTOR

# The toggle's value says whether the page is in presentation mode; the address keeps it, so a
# reload (or the link) opens the same way.
APPLY_VIEW = f"""(on) => {{
  document.body.classList.toggle("{PROJECTOR_CLASS}", on);
  const url = new URL(window.location.href);
  if (on) url.searchParams.set("view", "{PROJECTOR_CLASS}");
  else url.searchParams.delete("view");
  window.history.replaceState(null, "", url);
}}"""
# A phone stacks a tab's columns: the result lands below the button. When a result arrives with
# its start out of sight on a narrow screen, scroll to it; a wide screen shows it beside the
# button, and a result already in sight is left where the person is reading.
_BRING_INTO_VIEW = """(value) => {
  const box = document.getElementById(%s);
  const empty = !value || (Array.isArray(value) && value.length === 0);
  if (empty || !box || window.innerWidth > 640) return [];
  const where = box.getBoundingClientRect();
  if (where.top < 0 || where.top > window.innerHeight - 100) {  // its start is out of sight
    box.scrollIntoView({block: "start", behavior: "smooth"});
  }
  return [];
}"""


def in_view_on_phone(result: gr.components.Component) -> None:
    """On a narrow screen, scroll to `result` when a new value arrives out of sight. In the
    browser alone: the server hears nothing of it."""
    js = _BRING_INTO_VIEW % json.dumps(result.elem_id)
    result.change(None, result, None, js=js, queue=False, api_visibility="private")


READ_VIEW = f"() => new URLSearchParams(window.location.search).get('view') === '{PROJECTOR_CLASS}'"
