"""The class wall's page for a projector: the form that opens and closes a round, and the wall,
redrawn by a few lines of JavaScript that poll `wall/state` whenever it changed.

Everything a student typed reaches the page as JSON and is put in with `textContent`, never as
HTML. Large type and thick bars with their counts in words, so the back row reads them and
nobody needs the colours to.
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class wall</title>
<style>
body { font: 22px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #111; background: #fff; }
form { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; font-size: .8em;
  padding: .5em; border: 1px solid #ccc; border-radius: 6px; }
form input[name=prompt] { flex: 1 1 20em; font-size: 1em; padding: .3em; }
button, select { font-size: 1em; padding: .3em .8em; }
#prompt { font-size: 1.8em; font-weight: 600; margin: .4em 0; }
#status { font-size: .9em; color: #444; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 2em; }
.bar { display: grid; grid-template-columns: minmax(4em, 9em) 1fr 4.5em; gap: .5em;
  align-items: center; margin: .3em 0; }
.guess { font-family: ui-monospace, monospace; overflow: hidden; text-overflow: ellipsis;
  white-space: pre; }
.track { background: #e5e7eb; height: 1.3em; border-radius: 3px; overflow: hidden; }
.fill { display: block; height: 100%; background: #1d4ed8; }
.model .fill { background: repeating-linear-gradient(45deg, #b45309 0 6px, #f59e0b 6px 12px); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: .6em; }
.grid figure { margin: 0; } .grid img { width: 100%; border-radius: 4px; }
.grid figcaption { font-size: .7em; }
</style></head><body>
<h1>Class wall</h1>
<form method="post" action="wall">
  <select name="kind" aria-label="Kind of round">
    <option value="next_word">Guess the next token</option>
    <option value="paint">Paint this prompt</option>
  </select>
  <input name="prompt" aria-label="Prompt" maxlength="300" required
    placeholder="The prompt the class sees, e.g. The best thing about a rainy day is">
  <button name="do" value="open">Open a round</button>
</form>
<form method="post" action="wall"><button name="do" value="close">Close the round</button>
</form>
<p id="status" role="status">Loading the wall...</p>
<div id="prompt"></div>
<div id="wall"></div>
<script>
(function () {
  let shown = -1;
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const bar = (label, share, words) => {
    const row = el("div", "bar");
    const track = el("span", "track"), fill = el("span", "fill");
    fill.style.width = (100 * share).toFixed(1) + "%";
    track.appendChild(fill);
    row.append(el("code", "guess", label), track, el("b", "", words));
    return row;
  };
  function draw(state) {
    const wall = document.getElementById("wall");
    wall.replaceChildren();
    const round = state.round;
    document.getElementById("prompt").textContent = round ? state.prompt : "";
    if (!round) { document.getElementById("status").textContent = state.message; return; }
    const open = round.open ? "open" : "closed";
    document.getElementById("status").textContent =
      `Round ${round.id}, ${open}: ${state.what}. ` +
      (round.kind === "paint" ? `${state.pictures.length} pictures.` : `${state.answers} answers.`);
    if (round.kind === "paint") {
      const grid = el("div", "grid");
      for (const p of state.pictures) {
        const fig = el("figure"), img = el("img");
        img.src = `wall/picture?round=${round.id}&n=${p.n}`;
        img.alt = `Picture with seed ${p.seed}`;
        fig.append(img, el("figcaption", "", `seed ${p.seed}` + (p.name ? ` · ${p.name}` : "")));
        grid.appendChild(fig);
      }
      wall.appendChild(grid);
      return;
    }
    const columns = el("div", "columns"), guesses = el("section", "guesses");
    guesses.appendChild(el("h2", "", "The class's guesses"));
    if (!state.bars.length) guesses.appendChild(el("p", "", "No guesses yet."));
    for (const b of state.bars) guesses.appendChild(bar(b.text, b.share, `${b.count}`));
    const model = el("section", "model");
    model.appendChild(el("h2", "", "The model's own top choices"));
    if (state.model_note) model.appendChild(el("p", "", state.model_note));
    for (const m of state.model) {
      model.appendChild(bar(m.token, m.probability, `${(100 * m.probability).toFixed(0)}%`));
    }
    columns.append(guesses, model);
    wall.appendChild(columns);
    if (state.names.length) wall.appendChild(el("p", "", "Answered: " + state.names.join(", ")));
  }
  async function poll() {
    try {
      const answer = await fetch("wall/state", {cache: "no-store"});
      if (answer.status === 503) {  // the replicas' shared wall is away: the studio's words
        document.getElementById("status").textContent = (await answer.json()).message;
        shown = -1;
      } else {
        if (!answer.ok) throw new Error(`the studio answered ${answer.status}`);
        const state = await answer.json();
        if (state.version !== shown) { draw(state); shown = state.version; }
      }
    } catch (error) {
      document.getElementById("status").textContent =
        "The wall cannot reach the studio (" + error.message + "); it keeps trying.";
      shown = -1;
    }
    setTimeout(poll, 1500);
  }
  poll();
})();
</script></body></html>
"""
