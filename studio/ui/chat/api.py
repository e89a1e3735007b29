"""/chat, /chat_with_model, /chat_with_reasoning and /chat_with_image: the Chat tab's API, for
gradio_client, curl and MCP.

    chat, chat_with_model ─ studio.chat.turn.stream_turn (as the page's turn) ─ (reply, history)
    chat_with_reasoning ─ the same, with the Thinking setting ─ (reply, thinking, history)
    chat_with_image ─ the same, the message with a picture (studio.ui.chat.pictures)

/chat answers with the reply alone, as it always did: a reasoning model's thinking is apart
from it, and /chat_with_reasoning gives it as a second output.

Async generators, so that Stop reaches them at once: Gradio cancels the task, and leaving the
stream closes the upstream connection without waiting for the next token. Updates come at most
once per 40 ms (more apart while many stream: studio.chat.pacing) however fast the model
writes, each with all the text so far; the history State rides only on the last. A failure
the stream ends with is raised here as the message an API caller gets (`shows_errors`, the one
place), after the text that came.
"""

from __future__ import annotations

import contextlib
from typing import NoReturn

import gradio as gr

from studio.chat.turn import Turn, stream_turn
from studio.classroom.people import with_caller
from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.tasks.chat import ChatSettings, content_text
from studio.ui.chat.pictures import with_picture
from studio.ui.common import notify_progress, shows_errors

DEFAULTS = ChatSettings()


class ChatApi:
    """The API's handlers for one configuration. They keep no state of their own: each
    caller's conversation lives in their API session's State."""

    def __init__(self, config: Config, folder: str | None = None) -> None:
        self.config = config
        self.folder = folder  # Gradio's cache: the pictures /chat_with_image reads come from it

    async def chat(
        self,
        message: str,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: int | None = None,
        history: list | None = None,
        *,
        caller: Caller | None = None,
    ):
        """Send a message to the chat model; yields the reply so far as it streams.

        The conversation is kept per client session: a new Client starts a new one. As an MCP
        tool each call starts a new conversation.

        Args:
            message: the message to the model
            system_prompt: instructions for the whole conversation, e.g. answer briefly (optional)
            temperature: 0 to 1 (default 0.7): 0 always picks the likeliest word
            top_p: 0.05 to 1 (default 0.95): sample from the likeliest words adding up to this
            max_new_tokens: the longest reply, in tokens, 1 to 4096 (default 512)
            repetition_penalty: 1 to 2 (default 1): above 1 discourages repeating words
            seed: a random seed for a reproducible reply, 0 to 2**63 - 1 (optional)

        Returns:
            the model's reply
        """
        settings = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        replying = self.chat_with_model(
            message, system_prompt, *settings, None, history, caller=caller
        )
        async with contextlib.aclosing(replying) as updates:
            async for update in updates:
                yield update

    async def chat_with_model(
        self,
        message: str,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: int | None = None,
        model: str | None = None,
        history: list | None = None,
        *,
        caller: Caller | None = None,
    ):
        """Send a message to a chat model the server serves; yields the reply so far as it
        streams. The conversation is kept per client session, shared with chat.

        Args:
            message: the message to the model
            system_prompt: instructions for the whole conversation, e.g. answer briefly (optional)
            temperature: 0 to 1 (default 0.7): 0 always picks the likeliest word
            top_p: 0.05 to 1 (default 0.95): sample from the likeliest words adding up to this
            max_new_tokens: the longest reply, in tokens, 1 to 4096 (default 512)
            repetition_penalty: 1 to 2 (default 1): above 1 discourages repeating words
            seed: a random seed for a reproducible reply, 0 to 2**63 - 1 (optional)
            model: a model the chat server serves; empty: the configured one

        Returns:
            the model's reply
        """
        settings = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        asked = content_text(message)
        replying = self._replies(asked, system_prompt, settings, model, history, caller)
        async with contextlib.aclosing(replying) as updates:
            async for reply, _, kept in updates:
                yield reply, kept

    async def chat_with_reasoning(
        self,
        message: str,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: int | None = None,
        thinking: str = "",
        model: str | None = None,
        history: list | None = None,
        *,
        caller: Caller | None = None,
    ):
        """Send a message to a chat model; yields the reply so far and, apart from it, the
        model's thinking so far (empty for a model that does not think). The conversation is
        kept per client session, shared with chat; the thinking is never sent back to the model.

        Args:
            message: the message to the model
            system_prompt: instructions for the whole conversation, e.g. answer briefly (optional)
            temperature: 0 to 1 (default 0.7): 0 always picks the likeliest word
            top_p: 0.05 to 1 (default 0.95): sample from the likeliest words adding up to this
            max_new_tokens: the longest reply, thinking included, in tokens, 1 to 4096 (default 512)
            repetition_penalty: 1 to 2 (default 1): above 1 discourages repeating words
            seed: a random seed for a reproducible reply, 0 to 2**63 - 1 (optional)
            thinking: empty (the model's default), off, low, medium or high, sent where the
                server takes it (the reply's notes say where not)
            model: a model the chat server serves; empty: the configured one

        Returns:
            the model's reply, and its thinking
        """
        settings = (temperature, top_p, max_new_tokens, repetition_penalty, seed, thinking)
        asked = content_text(message)
        replying = self._replies(asked, system_prompt, settings, model, history, caller)
        async with contextlib.aclosing(replying) as updates:
            async for update in updates:
                yield update

    async def chat_with_image(
        self,
        message: str,
        image: dict | None = None,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: int | None = None,
        model: str | None = None,
        history: list | None = None,
        *,
        caller: Caller | None = None,
    ):
        """Send a message with a picture to a chat model that reads images; yields the reply so
        far as it streams. The conversation is kept per client session, shared with chat: the
        picture goes again with every later message.

        Args:
            message: the message to the model, about the picture
            image: a picture: an http(s) URL, a data: URL (base64) or a file uploaded to the studio
            system_prompt: instructions for the whole conversation, e.g. answer briefly (optional)
            temperature: 0 to 1 (default 0.7): 0 always picks the likeliest word
            top_p: 0.05 to 1 (default 0.95): sample from the likeliest words adding up to this
            max_new_tokens: the longest reply, in tokens, 1 to 4096 (default 512)
            repetition_penalty: 1 to 2 (default 1): above 1 discourages repeating words
            seed: a random seed for a reproducible reply, 0 to 2**63 - 1 (optional)
            model: a model the chat server serves that reads images; empty: the configured one

        Returns:
            the model's reply
        """
        history = history if history is not None else []
        side = self.config.max_image_side
        asked = await with_picture(message, image, history, self.folder, max_side=side)
        settings = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        replying = self._replies(asked, system_prompt, settings, model, history, caller)
        async with contextlib.aclosing(replying) as updates:
            async for reply, _, kept in updates:
                yield reply, kept

    async def _replies(self, asked, system_prompt, settings, model, history, caller):
        """(reply, thinking, history or gr.skip()) as the turn streams, for the user message
        `asked` (text, or text and pictures); the failure it ends with raised for the caller."""
        # The session's own list, kept current in place as the reply grows: a reply stopped
        # midway stays in the conversation, and updates need not carry it (gr.skip()). Only the
        # one that ends the reply does, when its text is new.
        history = history if history is not None else []
        asked = [*history, {"role": "user", "content": asked}]
        turn = Turn(asked, system_prompt, settings, model=model)
        said, thought, sent = "", "", False
        shown = stream_turn(self.config, turn, progress=notify_progress, caller=caller)
        async with contextlib.aclosing(shown) as states:
            async for state in states:
                sent = sent or state.sent is not None
                if state.failure is not None:
                    if sent:  # the question, what came, and the note stay in the conversation
                        history[:] = state.chat
                        yield state.reply, state.thinking, history
                    raise_for_person(state.failure)
                if (state.reply, state.thinking) != (said, thought):
                    said, thought, history[:] = state.reply, state.thinking, state.chat
                    yield said, thought, history if state.ended else gr.skip()
                elif state.ended and not said:  # no text at all: the question stays
                    history[:] = state.chat
                    yield "", thought, history


@shows_errors
def raise_for_person(exc: Exception) -> NoReturn:
    """Raise `exc` as the message an API caller sees: shows_errors, the one place, makes it."""
    raise exc


def api_endpoint(
    api: ChatApi,
    settings: list,
    meter: Meter | None = None,
    *,
    picks_model: bool = False,
    takes_images: bool = False,
) -> None:
    """/chat for gradio_client and curl: the message first, the settings optional, and the
    history kept in the caller's session. Hidden components: the page has its own chat. The
    seed is a number here, as it always was for API callers; the page's is a text box.

    /chat keeps the seven inputs it was published with (Gradio's REST API needs every input,
    so one more would break every curl script). Where the server serves several models,
    /chat_with_model takes the model as an eighth (empty: the configured one).
    /chat_with_reasoning takes Thinking and the model after the seven, and answers the
    thinking as a second output. Where requests carry pictures, /chat_with_image takes a picture
    second and the model last. All share the session's conversation. Not preprocessed: the
    settings' own rules check what arrives, and a picture is read only from Gradio's cache."""
    message = gr.Textbox(label="Message", visible=False)  # the page's box takes pictures too
    history = gr.State([])
    reply = gr.Textbox(label="Reply", visible=False)
    thought = gr.Textbox(label="Thinking", visible=False)
    seed = gr.Number(label="Seed (empty: random)", value=None, precision=0, visible=False)
    model = gr.Textbox("", label="Model (empty: the configured one)", visible=False)
    thinking = gr.Textbox("", label="Thinking (empty: the model's default)", visible=False)
    inputs = [message, *settings[:-1], seed]
    endpoints = [(api.chat, inputs, [reply])]
    if picks_model:
        endpoints.append((api.chat_with_model, [*inputs, model], [reply]))
    endpoints.append((api.chat_with_reasoning, [*inputs, thinking, model], [reply, thought]))
    if takes_images:
        image = gr.Image(label="Image", type="filepath", visible=False)
        endpoints.append((api.chat_with_image, [message, image, *inputs[1:], model], [reply]))
    for fn, given, answered in endpoints:
        gr.Button(visible=False).click(
            with_caller(fn, meter),
            [*given, history],
            [*answered, history],
            api_name=fn.__name__,
            preprocess=False,
        )
