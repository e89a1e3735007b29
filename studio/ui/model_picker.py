"""A model picker for tabs whose server lists the models it serves (a chat completions server's
`GET /v1/models`), filled when the page opens and again on Refresh, and any id typed in.

Under it, one plain line of what the server's list says of the chosen model (the router's price,
context length, speed and provider: `services.model_line`), empty where it says nothing.

The choice is the Dropdown's value, which Gradio keeps per session: each person picks their
own, and nobody's choice changes anyone else's or needs a restart. Handlers pass it on as the
`model` of a service (`services.with_model`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.endpoint import Endpoint
from studio.services import lists_models, model_line, served_model_choices

PRIVATE = dict(api_visibility="private", show_progress="hidden")
TYPE_ANY = "Pick one the server serves, or type a model's id."


def model_picker(endpoint: Endpoint, *, label: str = "Model") -> gr.Dropdown | None:
    """The picker, or None when the endpoint's model is fixed where the studio runs (its server
    lists no models to pick from)."""
    if not lists_models(endpoint):
        return None
    with gr.Row(elem_classes=["model-picker"]):
        picker = gr.Dropdown(
            choices=[endpoint.model] if endpoint.model else [],
            value=endpoint.model or None,
            allow_custom_value=True,
            filterable=True,
            label=label,
            info=TYPE_ANY,
            scale=4,
            elem_id=f"{endpoint.task}-model",
        )
        refresh = gr.Button("Refresh", size="sm", scale=1, min_width=80)
    facts = gr.Markdown("", elem_id=f"{endpoint.task}-model-facts", elem_classes=["model-facts"])
    # No triggers: on page load. The list is asked once per server; Refresh asks again.
    gr.on(None, lambda: filled(endpoint, None), None, [picker, facts], queue=False, **PRIVATE)
    refresh.click(
        lambda chosen: filled(endpoint, chosen, refresh=True), [picker], [picker, facts], **PRIVATE
    )
    picker.change(lambda chosen: model_line(endpoint, chosen), [picker], [facts], **PRIVATE)
    return picker


def filled(endpoint: Endpoint, chosen: str | None, *, refresh: bool = False) -> tuple[Any, str]:
    """The picker's update (the server's list, and the person's choice kept if they made one),
    and the line of what the list says of the chosen model."""
    offer = served_model_choices(endpoint, refresh=refresh)
    value = chosen or offer.default or None
    choices = list(offer.choices) + ([value] if value and value not in offer.choices else [])
    update = gr.update(choices=choices, value=value, info=offer.problem or TYPE_ANY)
    return update, model_line(endpoint, value)
