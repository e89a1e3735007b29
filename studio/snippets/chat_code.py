"""A chat request written out as a streaming `requests` snippet and a `curl -N` line: the
server's events read line by line, as the studio reads them."""

from __future__ import annotations

from typing import Any

from studio.snippets.http_code import DATA_URL_START, PHOTO, _data_url, _preamble, python_headers
from studio.tasks.reproduce import py

OPENAI_PIECE = [
    '        if data == "[DONE]":',
    "            break",
    '        for choice in json.loads(data).get("choices") or []:',
    '            yield (choice.get("delta") or {}).get("content") or ""',
]
TGI_PIECE = [
    '        token = json.loads(data).get("token") or {}',
    '        if not token.get("special"):',
    '            yield token.get("text") or ""',
]


def chat_requests_snippet(request: Any, *, tgi: bool = False, timeout: float = 60) -> str:
    """`get_completion_stream(data)` yields the reply's pieces as the server sends them. A
    picture sent is read from photo.jpg, as the other snippets read it."""
    body, photo_url = request.json, _data_url(request.json)
    subs = {photo_url: "image_url"} if photo_url else {}
    reading = [
        f'with open("{PHOTO}", "rb") as photo:',
        f'    image_url = "{DATA_URL_START}" + base64.b64encode(photo.read()).decode()',
    ]
    lines = _preamble(request, "import json", *(["import base64"] if photo_url else []))
    lines += [
        "",
        "",
        "def get_completion_stream(data, ENDPOINT_URL=ENDPOINT_URL):",
        f"    headers = {python_headers(request.headers)}",
        "    with requests.post(",
        f"        ENDPOINT_URL, headers=headers, json=data, stream=True, timeout={timeout:g}",
        "    ) as response:",
        "        response.raise_for_status()",
        "        for line in response.iter_lines(decode_unicode=True):",
        '            if not line or not line.startswith("data:"):',
        "                continue",
        '            data = line.removeprefix("data:").strip()',
        *["    " + piece for piece in (TGI_PIECE if tgi else OPENAI_PIECE)],
        "",
        "",
        *(reading if photo_url else []),
        f"for piece in get_completion_stream({py(body, 0, subs)}):",
        '    print(piece, end="", flush=True)',
        "print()",
    ]
    return "\n".join(lines) + "\n"


def chat_curl_line(curl: str) -> str:
    """A streamed answer shows as it comes with -N (no buffering)."""
    return curl.replace("curl -sS", "curl -sS -N", 1)
