"""A model id a person typed or picked, checked before it goes in a request."""

from __future__ import annotations

from studio.errors import InputError

MAX_MODEL_ID = 200  # the Hub's longest ids are well under this; a server's own names too


def checked_model_id(text: str | None) -> str | None:
    """The id, stripped; None when nothing was chosen. An id holds no spaces or control
    characters and is not a paragraph: InputError, saying so, for anything else."""
    model = (text or "").strip()
    if not model:
        return None
    if len(model) > MAX_MODEL_ID:
        raise InputError(
            f"A model name is at most {MAX_MODEL_ID} characters; pick one from the list."
        )
    if any(char.isspace() or not char.isprintable() for char in model):
        raise InputError("A model name has no spaces: pick one from the list, or type its id.")
    return model
