"""What "Show the code" costs an answer: its snippets and card, written in this process.

Every answer's page event ends with `studio.ui.code_panel.panel_values(...)` (Summarize, Entities,
Caption, Imagine, the game) or `chat_shown(...)` (Chat): the reproducibility card and the code
in four forms (requests, huggingface_hub or openai, curl, gradio_client), written from the
request the backend builds. Nothing is sent. This times each, per answer, for:

    summary       a short text, and the longest Summarize takes (100,000 characters), on the
                  router and on a server of one's own
    caption       a photo (its JPEG bytes, about 60 KB, are the call's input)
    picture       a prompt with every option, on HF's own provider
    chat reply    a conversation of `--turns` turns, on an OpenAI-compatible server and on TGI

and prints the median time per answer over `--repeats` rounds (with the fastest and slowest
round) and how much text the panel sends to the page, to set beside what the request itself
costs (bench.limits: 6 to 10 ms of the studio's CPU for a summary served through Gradio, and
the model's seconds).

    python -m bench.code_panel [--answers 200] [--repeats 5] [--turns 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from studio.backends import registry as backends
from studio.backends.base import ChatSettings
from studio.chat.stats import ReplyStats
from studio.config import load_config
from studio.tasks.chat import Delta
from studio.tasks.reproduce import Call
from studio.ui.code_panel import chat_shown, panel_values
from tests.conftest import ROOT

TOKEN = "hf_bench_placeholder_token_0123456789"
SENTENCE = "The tower is 324 metres (1,063 ft) tall, about as high as an 81-storey building. "


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200, help="answers per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds")
    parser.add_argument("--turns", type=int, default=20, help="turns in the chat's conversation")
    return parser.parse_args()


def per_answer(write: Callable[[], tuple], answers: int, repeats: int) -> list[float]:
    """Seconds per answer in each round."""
    write()  # imports and caches, untimed
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(answers):
            write()
        rounds.append((time.perf_counter() - started) / answers)
    return rounds


def task_answers() -> dict[str, Callable[[], tuple]]:
    router = load_config({"HF_TOKEN": TOKEN, "STUDIO_IMAGE_PROVIDER": "hf-inference"})
    own = load_config({"HF_API_SUMMARY_BASE": "http://127.0.0.1:8080/summarize"})
    short, longest = SENTENCE * 3, (SENTENCE * 1200)[:100_000]
    photo = (ROOT / "assets" / "chelsea.jpg").read_bytes()

    def summary(config, text: str) -> Callable[[], tuple]:
        call = Call(config.endpoint("summarize"), text, {"max_length": 40}, seconds=1.2)
        return lambda: panel_values(config, "Summary", [call], "/summarize", [text, None, 40])

    caption = Call(router.endpoint("caption"), photo, None, "image/jpeg", seconds=0.8)
    options = {
        "negative_prompt": "fog",
        "num_inference_steps": 25,
        "guidance_scale": 7.0,
        "width": 512,
        "height": 512,
        "seed": 1234,
    }
    prompt = "A lighthouse at dawn"
    picture = Call(router.endpoint("image"), prompt, options, seconds=4.8, seed=1234)
    picture_args = [prompt, "fog", 25, 7.0, 512, 512, 1234]
    return {
        "summary, short, router": summary(router, short),
        "summary, 100,000 chars, router": summary(router, longest),
        "summary, short, own server": summary(own, short),
        "caption (60 KB JPEG), router": lambda: panel_values(
            router, "Caption", [caption], "/caption", ["photo"]
        ),
        "picture, every option, router": lambda: panel_values(
            router, "Image", [picture], "/generate_image", picture_args, picture=True
        ),
    }


def chat_answers(turns: int) -> dict[str, Callable[[], tuple]]:
    answers = {}
    for name, env in {
        "OpenAI-compatible": {"STUDIO_CHAT_BASE": "http://127.0.0.1:8000/v1"},
        "TGI": {"HF_API_FALCOM_BASE": "http://127.0.0.1:8080"},
    }.items():
        config = load_config({**env, "STUDIO_CHAT_MODEL": "bench/chat"})
        messages = [{"role": "system", "content": "Be brief."}]
        for turn in range(turns):
            messages.append({"role": "user", "content": f"Question {turn}: {SENTENCE}"})
            messages.append({"role": "assistant", "content": f"Answer {turn}: {SENTENCE}"})
        messages.append({"role": "user", "content": "And in one sentence?"})
        settings = ChatSettings(temperature=0.2, max_new_tokens=64)
        request = backends.chat_request(config.endpoint("chat"), messages, settings)
        stats = ReplyStats()
        for delta in (Delta("One"), Delta(" sentence"), Delta(".", "stop")):
            stats.add(delta)

        def reply(config=config, request=request, stats=stats) -> tuple:
            controls = ("Be brief.", 0.2, 0.95, 64, 1.0, None)
            return chat_shown(config, request, stats, "And in one sentence?", *controls)

        answers[f"chat reply, {turns} turns, {name}"] = reply
    return answers


def main() -> None:
    args = parse_args()
    answers = {**task_answers(), **chat_answers(args.turns)}
    print(
        f'"Show the code" and the card for one answer: median of {args.repeats} rounds of '
        f"{args.answers} (fastest to slowest round)"
    )
    for name, write in answers.items():
        card, code, _ = write()  # the code box follows the code kept in the page's state
        texts = [card, *(text for text in code.values() if isinstance(text, str))]
        if not card or not code or TOKEN in "".join(texts):
            raise RuntimeError(f"{name}: the panel is empty or shows the token: {code!r}")
        rounds = per_answer(write, args.answers, args.repeats)
        size = sum(len(text) for text in texts)
        print(
            f"  {name:40} {statistics.median(rounds) * 1000:6.2f} ms"
            f"   ({min(rounds) * 1000:.2f} to {max(rounds) * 1000:.2f})"
            f"   {size / 1000:6.1f} kB of card and code written"
        )


if __name__ == "__main__":
    main()
