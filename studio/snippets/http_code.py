"""A built request (`HttpRequest`) written out as a Python `requests` snippet in the course's
`get_completion` style, and as a `curl` line. The token is `TOKEN_MARK` in the request's
headers; here it becomes `hf_api_key` from os.environ["HF_TOKEN"], or `$HF_TOKEN` in the shell."""

from __future__ import annotations

import json
import shlex
from typing import Any

from studio.tasks.reproduce import py

TOKEN_MARK = "__studio_hf_token__"  # stands in for the token while a request is built
TOKEN_ENV = 'hf_api_key = os.environ["HF_TOKEN"]'
PHOTO = "photo.jpg"
PICTURE = "picture.png"
DATA_URL_START = "data:image/jpeg;base64,"


def python_headers(headers: dict[str, str]) -> str:
    lines = []
    for name, value in headers.items():
        if TOKEN_MARK in value:
            shown = 'f"' + value.replace(TOKEN_MARK, "{hf_api_key}") + '"'
        else:
            shown = json.dumps(value)
        lines.append(f"        {json.dumps(name)}: {shown},")
    return "{\n" + "\n".join(lines) + "\n    }"


def _preamble(request: Any, *imports: str) -> list[str]:
    """Imports (the standard library's, then requests and Pillow), the token and the URL."""
    token = any(TOKEN_MARK in value for value in request.headers.values())
    standard = sorted({"import os", *(line for line in imports if line.startswith("import "))})
    others = ["import requests", *(line for line in imports if line.startswith("from "))]
    lines = [*standard, "", *others, ""]
    if token:
        lines.append(TOKEN_ENV)
    lines.append(f"ENDPOINT_URL = {json.dumps(request.url)}")
    return lines


def _task_api(request: Any, answer_is_image: bool, timeout: float) -> list[str]:
    """`get_completion(inputs, parameters)`: the task API's JSON body, or raw image bytes."""
    send = "data=inputs" if request.data is not None else "json=data"
    lines = [
        "",
        "",
        "def get_completion(inputs, parameters=None, ENDPOINT_URL=ENDPOINT_URL):",
        f"    headers = {python_headers(request.headers)}",
    ]
    if request.data is None:
        lines += [
            '    data = {"inputs": inputs}',
            "    if parameters is not None:",
            '        data.update({"parameters": parameters})',
        ]
    lines += [
        f"    response = requests.post(ENDPOINT_URL, headers=headers, {send}, timeout={timeout:g})",
        "    response.raise_for_status()",
    ]
    if answer_is_image:
        lines += [
            "    # The picture's bytes; the course's servers sent base64 PNG in JSON instead.",
            '    if response.headers.get("Content-Type", "").startswith("application/json"):',
            "        answer = response.json()",
            "        if isinstance(answer, dict):",
            '            answer = answer["data"][0]["b64_json"]',
            "        return base64.b64decode(answer)",
            "    return response.content",
        ]
    else:
        lines.append("    return response.json()")
    return lines


def requests_snippet(request: Any, *, timeout: float = 60, answer_is_image: bool = False) -> str:
    """The whole snippet: a get_completion function, then the call the studio made."""
    body = request.json
    if request.data is not None or (isinstance(body, dict) and "inputs" in body):
        imports = ("import base64", "import io") if answer_is_image else ()
        if answer_is_image:
            imports += ("from PIL import Image",)
        lines = _preamble(request, *imports) + _task_api(request, answer_is_image, timeout)
        lines += ["", ""]
        if request.data is not None:
            lines += [
                f"# {PHOTO}: the photo, as the studio sent it (upright, JPEG, at most 1024 px).",
                f'with open("{PHOTO}", "rb") as photo:',
                "    inputs = photo.read()",
                "answer = get_completion(inputs)",
            ]
        else:
            arguments = [body["inputs"], *([body["parameters"]] if "parameters" in body else [])]
            listed = "".join(f"    {py(argument, 4)},\n" for argument in arguments)
            lines.append(f"answer = get_completion(\n{listed})")
        if answer_is_image:
            lines += [
                f'Image.open(io.BytesIO(answer)).save("{PICTURE}")',
                f'print("saved {PICTURE}")',
            ]
        else:
            lines.append("print(answer)")
        return "\n".join(lines) + "\n"
    return _json_snippet(request, timeout=timeout)


def _json_snippet(request: Any, *, timeout: float) -> str:
    """Any other JSON body (a chat completion, a provider's own payload), sent as it is."""
    body = request.json
    subs, imports = {}, ()
    photo_url = _data_url(body)
    if photo_url:
        subs = {photo_url: "image_url"}
        imports = ("import base64",)
    lines = _preamble(request, *imports)
    lines += [
        "",
        "",
        "def get_completion(data, ENDPOINT_URL=ENDPOINT_URL):",
        f"    headers = {python_headers(request.headers)}",
        "    response = requests.post(",
        f"        ENDPOINT_URL, headers=headers, json=data, timeout={timeout:g}",
        "    )",
        "    response.raise_for_status()",
        "    return response.json()",
        "",
        "",
    ]
    if photo_url:
        lines += [
            f'with open("{PHOTO}", "rb") as photo:',
            f'    image_url = "{DATA_URL_START}" + base64.b64encode(photo.read()).decode()',
        ]
    lines += [f"answer = get_completion({py(body, 0, subs)})", "print(answer)"]
    return "\n".join(lines) + "\n"


def _data_url(value: Any) -> str | None:
    """The first data: URL inside a body (a photo sent to a vision chat model)."""
    if isinstance(value, str):
        return value if value.startswith("data:image/") else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for item in items:
        if found := _data_url(item):
            return found
    return None


def curl_line(request: Any, *, answer_is_image: bool = False) -> str:
    """One `curl` command; the token is `$HF_TOKEN`, a photo is read from photo.jpg."""
    parts = [f"curl -sS -X {request.method} {shlex.quote(request.url)}"]
    for name, value in request.headers.items():
        if TOKEN_MARK in value:
            parts.append(f'-H "{name}: {value.replace(TOKEN_MARK, "$HF_TOKEN")}"')
        else:
            parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    heredoc = None
    if request.data is not None:
        parts.append(f"--data-binary @{PHOTO}")
    elif request.json is not None:
        photo_url = _data_url(request.json)
        text = json.dumps(request.json)
        if photo_url:
            # In a here-document the shell fills in the photo; $, ` and \ are escaped first.
            for special in ("\\", "$", "`"):
                text = text.replace(special, "\\" + special)
            photo = f"{DATA_URL_START}$(base64 < {PHOTO} | tr -d '\\n')"
            heredoc = text.replace(photo_url, photo)
            parts.append("-d @-")
        else:
            parts.append(f"-d {shlex.quote(text)}")
    if answer_is_image:
        parts.append(f"-o {PICTURE}")
    line = " \\\n  ".join(parts)
    if heredoc is not None:
        line += f" <<EOF\n{heredoc}\nEOF"
    return line + "\n"
