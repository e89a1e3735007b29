"""A reply's tokens shaded by how likely the model found them, as HTML for the Chat tab.

Each token falls in one of four levels (sure, likely, unsure, surprising). A level is drawn three
ways at once, so that it reads on a washed-out projector and for people who do not tell colours
apart: a background of one hue, stronger as the token was less likely; an underline whose style
changes (none, solid, dashed, wavy); and its percentage, said when the token is focused or
hovered, where its alternatives show too. Tokens are focusable, so a click or Tab chooses one
with no script and no request. Token text is the model's: it is always escaped.

Pure: no Gradio, no HTTP.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from studio.tasks.token_probs import TokenProb

# (lowest probability of the level, its name, what it means), likeliest first.
LEVELS = (
    (0.9, "sure", "90% or more"),
    (0.5, "likely", "50 to 90%"),
    (0.2, "unsure", "20 to 50%"),
    (0.0, "surprising", "under 20%"),
)
NO_ALTERNATIVES = "No alternatives kept: choose a number of them in Settings, Token probabilities."

# Scoped to the view by Gradio. One hue at rising strength; the underline tells the same story.
CSS = """
.probs-reply { white-space: pre-wrap; line-height: 2.4; font-size: 1.15rem; }
.probs-t { position: relative; }
.probs-tok { cursor: pointer; border-radius: 3px; text-underline-offset: 5px; }
.probs-tok:focus { outline: 3px solid var(--color-accent); outline-offset: 1px; }
.probs-sure { }
.probs-likely { background: rgba(230, 140, 0, 0.18); text-decoration: underline solid 1px; }
.probs-unsure { background: rgba(230, 140, 0, 0.40); text-decoration: underline dashed 2px; }
.probs-surprising { background: rgba(230, 140, 0, 0.65); text-decoration: underline wavy 2px;
  font-weight: 700; }
.probs-alts { display: none; position: absolute; top: 1.6em; left: 0; z-index: 20;
  white-space: nowrap; line-height: 1.5; font-size: 1rem; font-weight: 400; padding: 6px 10px;
  background: var(--background-fill-primary); border: 2px solid var(--border-color-primary);
  border-radius: 6px; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25); }
/* Open while the token or a button in it has focus (a click), or the pointer is over it. */
.probs-t:focus-within .probs-alts, .probs-t:hover .probs-alts { display: block; }
.probs-branch { margin-left: 0.5em; padding: 0 6px; font-size: 0.9rem; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: 4px; }
.probs-alts ol { margin: 4px 0 0 1.2em; padding: 0; }
.probs-alts code { white-space: pre; }
.probs-picked { font-weight: 700; }
.probs-legend { display: flex; flex-wrap: wrap; gap: 0.4em 1em; margin: 0.3em 0; }
.probs-caption { margin: 0.2em 0; opacity: 0.85; }
"""


def level(prob: float) -> str:
    """The name of the level a probability falls in."""
    return next(name for lowest, name, _ in LEVELS if prob >= lowest)


def percent(prob: float) -> str:
    """A probability as a person reads it: whole percents, never a rounded 0% or 100%."""
    if prob < 0.005:
        return "under 1%"
    if prob > 0.995 and prob < 1.0:
        return "over 99%"
    return f"{round(prob * 100)}%"


def shown_token(text: str) -> str:
    """A token as quoted text, its spaces and line breaks visible (the alternatives list)."""
    return html.escape(text.replace("\n", "\u21b5"), quote=True) or "(nothing)"


def alternatives_html(token: TokenProb, at: int | None = None) -> str:
    """The token's percentage, then its alternatives likeliest first, the one written in bold;
    with the token's place `at`, each other one has a button to branch from it."""
    head = f"<strong>{percent(token.prob)}</strong> sure of <code>{shown_token(token.token)}</code>"
    if not token.top:
        return f"{head}<br>{NO_ALTERNATIVES}"
    rows = []
    for rank, (text, logprob) in enumerate(token.top):
        picked = ' class="probs-picked"' if text == token.token else ""
        chance = percent(TokenProb(text, logprob).prob)
        button = "" if picked or at is None else branch_button(at, rank, text)
        rows.append(f"<li{picked}><code>{shown_token(text)}</code> {chance}{button}</li>")
    return f"{head}<br>Its alternatives:<ol>{''.join(rows)}</ol>"


def branch_button(at: int, rank: int, text: str) -> str:
    label = html.escape(f"Write on from {text!r} instead", quote=True)
    return (
        f' <button type="button" class="probs-branch" data-at="{at}" data-alt="{rank}" '
        f'aria-label="{label}">write on from here</button>'
    )


def token_html(token: TokenProb, at: int | None = None) -> str:
    name = level(token.prob)
    label = html.escape(f"{token.token!r}, {percent(token.prob)}, {name}", quote=True)
    return (
        f'<span class="probs-t"><span class="probs-tok probs-{name}" tabindex="0" '
        f'role="button" aria-label="{label}">{html.escape(token.token)}</span>'
        f'<span class="probs-alts">{alternatives_html(token, at)}</span></span>'
    )


def legend_html() -> str:
    """What each level looks like and means, drawn as the tokens are."""
    samples = (
        f'<span class="probs-tok probs-{name}">{name}</span> {meaning}'
        for _, name, meaning in LEVELS
    )
    items = "".join(f"<span>{sample}</span>" for sample in samples)
    return f'<div class="probs-legend" aria-label="Legend">{items}</div>'


def reply_html(tokens: Sequence[TokenProb], caption: str = "") -> str:
    """The whole view: a caption, the legend, and the reply's tokens shaded."""
    shaded = "".join(token_html(token, at) for at, token in enumerate(tokens))
    hint = (
        "Click a token (or Tab to it) to see how sure the model was and what it nearly wrote; "
        "from an alternative, the model can write on."
    )
    top = f'<p class="probs-caption">{html.escape(caption)} {hint}</p>'
    return f'{top}{legend_html()}<div class="probs-reply">{shaded}</div>'


def note_html(text: str) -> str:
    """A line in place of the tokens: why there are none to show."""
    return f'<p class="probs-caption">{html.escape(text)}</p>'
