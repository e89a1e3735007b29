"""The same requests with a client library: huggingface_hub's InferenceClient for the task API
and the Inference Providers, openai for chat completions, and for models in this process the
transformers (or diffusers) code that runs them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from studio.endpoint import Endpoint
from studio.snippets.http_code import DATA_URL_START, PHOTO, PICTURE, _data_url
from studio.tasks.reproduce import py

HUB_TOKEN = 'api_key=os.environ["HF_TOKEN"]'
# The fields the openai client takes by name; the rest go in extra_body.
OPENAI_FIELDS = (
    "model",
    "messages",
    "stream",
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
)


def _keywords(values: Mapping[str, Any], indent: int = 4) -> str:
    pad = " " * indent
    return "".join(f"{pad}{name}={py(value, indent)},\n" for name, value in values.items())


def hub_client(endpoint: Endpoint, provider: str | None) -> str:
    """`client = InferenceClient(...)`: on the router with its provider, else the URL itself."""
    token = HUB_TOKEN if endpoint.token else ""
    if endpoint.on_router:
        where = f'provider="{provider or endpoint.provider or "hf-inference"}"'
        return f"client = InferenceClient({', '.join(filter(None, [where, token]))})"
    at = f"model={json.dumps(endpoint.url)}"
    return f"client = InferenceClient({', '.join(filter(None, [at, token]))})"


def hub_snippet(
    endpoint: Endpoint, inputs: Any, parameters: dict | None, provider: str | None = None
) -> str:
    """huggingface_hub's InferenceClient asked the same; model= only on the router (a URL is
    the model otherwise)."""
    model = _keywords({"model": endpoint.model}) if endpoint.on_router else ""
    lines = ["import os", "", "from huggingface_hub import InferenceClient", ""]
    lines.append(hub_client(endpoint, provider))
    parameters = dict(parameters or {})
    task = endpoint.task
    if task == "summarize":
        lengths = parameters.get("generate_parameters", parameters)
        if lengths:
            if not endpoint.on_router:
                lines.append("# huggingface_hub sends the lengths inside generate_parameters.")
            model += _keywords({"generate_parameters": lengths})
        lines += [f"result = client.summarization(\n    {py(inputs, 4)},\n{model})"]
        lines.append("print(result.summary_text)")
    elif task == "ner":
        lines += [f"result = client.token_classification(\n    {py(inputs, 4)},\n{model})"]
        lines.append("print(result)")
    elif task == "caption":
        lines += [f'result = client.image_to_text(\n    "{PHOTO}",\n{model})']
        lines.append("print(result.generated_text)")
    elif task == "image":
        lines += [
            f"picture = client.text_to_image(\n    {py(inputs, 4)},\n"
            f"{model}{_keywords(parameters)})",
            f'picture.save("{PICTURE}")',
        ]
    else:
        raise ValueError(f"No huggingface_hub code is written for the task {task!r}.")
    return "\n".join(lines) + "\n"


def openai_snippet(endpoint: Endpoint, body: Mapping[str, Any]) -> str:
    """The openai client asked for the same chat completion, streamed or not."""
    photo_url = _data_url(body)
    subs = {photo_url: "image_url"} if photo_url else {}
    named = {k: v for k, v in body.items() if k in OPENAI_FIELDS}
    extra = {k: v for k, v in body.items() if k not in OPENAI_FIELDS}
    key = 'os.environ["HF_TOKEN"]' if endpoint.token else '"not-needed"'
    lines = (["import base64"] if photo_url else []) + ["import os"]
    lines += ["", "from openai import OpenAI", ""]
    lines.append(f"client = OpenAI(base_url={json.dumps(endpoint.url)}, api_key={key})")
    if photo_url:
        lines += [
            f'with open("{PHOTO}", "rb") as photo:',
            f'    image_url = "{DATA_URL_START}" + base64.b64encode(photo.read()).decode()',
        ]
    arguments = "".join(f"    {name}={py(value, 4, subs)},\n" for name, value in named.items())
    if extra:
        arguments += f"    extra_body={py(extra, 4)},\n"
    lines.append(f"answer = client.chat.completions.create(\n{arguments})")
    if body.get("stream"):
        lines += [
            "for chunk in answer:",
            "    if chunk.choices and chunk.choices[0].delta.content:",
            '        print(chunk.choices[0].delta.content, end="", flush=True)',
            "print()",
        ]
    else:
        lines.append("print(answer.choices[0].message.content)")
    return "\n".join(lines) + "\n"


def tgi_snippet(endpoint: Endpoint, body: Mapping[str, Any]) -> str:
    """huggingface_hub's text_generation, streamed from a TGI server, with the same prompt."""
    parameters = dict(body.get("parameters") or {})
    parameters.pop("details", None)
    lines = ["import os", "", "from huggingface_hub import InferenceClient", ""]
    lines.append(hub_client(endpoint, None))
    lines.append(f"prompt = {py(body.get('inputs', ''))}")
    lines.append(
        f"for token in client.text_generation(\n    prompt,\n    stream=True,\n"
        f"{_keywords(parameters)}):"
    )
    lines += ['    print(token, end="", flush=True)', "print()"]
    return "\n".join(lines) + "\n"


LOCAL = {
    "summarize": (
        "from transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n\n"
        "tokenizer = AutoTokenizer.from_pretrained({model})\n"
        "model = AutoModelForSeq2SeqLM.from_pretrained({model})\n"
        'tokens = tokenizer({inputs}, return_tensors="pt", truncation=True)\n'
        "output = model.generate(**tokens{generate})\n"
        "print(tokenizer.decode(output[0], skip_special_tokens=True))\n"
    ),
    "ner": (
        "from transformers import pipeline\n\n"
        'ner = pipeline("token-classification", model={model}, aggregation_strategy="simple")\n'
        "print(ner({inputs}))\n"
    ),
    "caption": (
        "from PIL import Image\n"
        "from transformers import BlipForConditionalGeneration, BlipProcessor\n\n"
        "processor = BlipProcessor.from_pretrained({model})\n"
        "model = BlipForConditionalGeneration.from_pretrained({model})\n"
        f'inputs = processor(Image.open("{PHOTO}").convert("RGB"), return_tensors="pt")\n'
        "output = model.generate(**inputs, max_new_tokens=40)\n"
        "print(processor.decode(output[0], skip_special_tokens=True))\n"
    ),
    "image": (
        "import torch\n"
        "from diffusers import AutoPipelineForText2Image\n\n"
        "pipe = AutoPipelineForText2Image.from_pretrained({model})\n"
        "generator = torch.Generator().manual_seed({seed})\n"
        "picture = pipe(\n    {inputs},\n{generate}    generator=generator,\n).images[0]\n"
        f'picture.save("{PICTURE}")\n'
    ),
}
CHAT_LOCAL = (
    "from transformers import pipeline\n\n"
    'chat = pipeline("text-generation", model={model})\n'
    "messages = {messages}\n"
    "reply = chat(messages, {generate})\n"
    'print(reply[0]["generated_text"][-1]["content"])\n'
)


def local_snippet(endpoint: Endpoint, inputs: Any, parameters: dict | None) -> str:
    """The transformers (diffusers) code that runs the same model on your own computer."""
    parameters = dict(parameters or {})
    seed = parameters.pop("seed", 0)
    if endpoint.task == "summarize":
        generate = "".join(f", {k}={v!r}" for k, v in parameters.items())
    else:
        generate = _keywords(parameters)
    return LOCAL[endpoint.task].format(
        model=json.dumps(endpoint.model), inputs=py(inputs, 4), generate=generate, seed=seed
    )


def local_chat_snippet(endpoint: Endpoint, body: Mapping[str, Any]) -> str:
    settings = {"max_new_tokens": body.get("max_tokens", 512)}
    temperature = body.get("temperature") or 0
    settings |= {"do_sample": True, "temperature": temperature} if temperature else {}
    if "top_p" in body:
        settings["top_p"] = body["top_p"]
    if "repetition_penalty" in body:
        settings["repetition_penalty"] = body["repetition_penalty"]
    generate = ", ".join(f"{k}={v!r}" for k, v in settings.items())
    return CHAT_LOCAL.format(
        model=json.dumps(endpoint.model), messages=py(body.get("messages", [])), generate=generate
    )
