"""Branching from a token: a reply as written, and what the model writes when one of its tokens
is swapped for an alternative, side by side, so a class sees where one word changed the rest.

    a reply's tokens, a token's place and an alternative ─ branch_start ─ the reply up to that
    token, and the alternative: the text the model is asked to write on from (as Continue does)
    the branches ─ branches_html ─ columns: as written, then each branch, the chosen token marked

Pure: no Gradio, no HTTP.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from studio.errors import InputError
from studio.tasks.token_probs import TokenProb

MAX_BRANCHES = 3  # beside the reply as written: more would not fit a projector's width
EXACT = "The model wrote on from inside its reply."
RESTARTED = (
    "This server cannot end a prompt inside a reply: the studio sent the reply up to the chosen "
    "token and asked the model to continue it."
)


@dataclass(frozen=True)
class Branch:
    """One column: the reply up to the chosen token, that token, and what came after it."""

    before: str
    token: str
    after: str = ""
    note: str = ""  # how it continued, or why it stopped


def chosen_place(data: object) -> tuple[int, int] | None:
    """The token's place and the alternative's rank from a click's data, or None (not a
    branch button, or data the page would not send)."""
    if not isinstance(data, Mapping):
        return None
    try:
        at, alt = int(str(data.get("at"))), int(str(data.get("alt")))
    except ValueError:
        return None
    return (at, alt) if at >= 0 and alt >= 0 else None


def written(tokens: Sequence[TokenProb], answer: str) -> list[str]:
    """The tokens' texts as the reply shows them: a raw text server's first token comes with a
    leading space the studio drops from the answer (studio.backends), so it goes here too."""
    texts = [token.token for token in tokens]
    if texts and not answer[:1].isspace():
        texts[0] = texts[0].lstrip()
    return texts


def branch_start(tokens: Sequence[TokenProb], answer: str, at: int, alt: int) -> tuple[str, str]:
    """The reply up to token `at`, and the alternative `alt` of that token's place."""
    if at >= len(tokens) or alt >= len(tokens[at].top):
        raise InputError("That token is no longer in the latest reply: choose one again.")
    alternative = tokens[at].top[alt][0]
    if at == 0 and not answer[:1].isspace():
        alternative = alternative.lstrip()
    return "".join(written(tokens, answer)[:at]), alternative


def as_written(tokens: Sequence[TokenProb], answer: str, at: int) -> Branch:
    """The reply as the model wrote it, split at token `at`."""
    texts = written(tokens, answer)
    return Branch("".join(texts[:at]), texts[at], "".join(texts[at + 1 :]))


def column_html(title: str, branch: Branch) -> str:
    text = (
        f'{html.escape(branch.before)}<mark class="branch-token">{html.escape(branch.token)}'
        f"</mark>{html.escape(branch.after)}"
    )
    note = f'<p class="branch-note">{html.escape(branch.note)}</p>' if branch.note else ""
    return (
        f'<div class="branch"><h4>{html.escape(title)}</h4>'
        f'<div class="branch-text">{text}</div>{note}</div>'
    )


def branches_html(written: Branch, branches: Sequence[Branch]) -> str:
    """The reply as written, then each branch (the newest MAX_BRANCHES), side by side."""
    columns = [column_html("As written", written)]
    columns += [
        column_html(f"Branch: {branch.token.strip() or repr(branch.token)}", branch)
        for branch in branches[-MAX_BRANCHES:]
    ]
    return f'<div class="branches">{"".join(columns)}</div>'


# Scoped to the branches' view by Gradio: columns that wrap under each other on a phone.
CSS = """
.branches { display: flex; flex-wrap: wrap; gap: 12px; }
.branch { flex: 1 1 240px; border: 2px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 12px; }
.branch h4 { margin: 0 0 6px 0; }
.branch-text { white-space: pre-wrap; font-size: 1.1rem; line-height: 1.7; }
.branch-token { font-weight: 700; text-decoration: underline 2px; padding: 0 2px; }
.branch-note { font-size: 0.9rem; opacity: 0.85; margin: 6px 0 0 0; }
"""
