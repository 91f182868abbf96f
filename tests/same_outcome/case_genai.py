"""The google-genai SDK as a ``ProviderCase``, on the Gemini API and on Vertex AI: generate_content plain and
streamed (a plain generator: no ``with``, closed by ``close()`` / ``aclose()``), a chat message and embeddings,
sync and ``client.aio`` (the simulated API is tests/providers/fake_genai.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from fake_genai import MODEL, FakeGenAI
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials
from provider_case import ProviderCase, Surface, Wire

PROMPT = "Capital of France?"


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    for is_async in (False, True):
        tag = "async " if is_async else ""

        def api(client: Any, is_async: bool = is_async) -> Any:
            return client.aio if is_async else client

        out += [
            Surface(f"{tag}generate_content", is_async, "plain",
                    lambda c, api=api: api(c).models.generate_content(model=MODEL, contents=PROMPT)),
            Surface(f"{tag}generate_content_stream", is_async, "stream",
                    lambda c, api=api: api(c).models.generate_content_stream(model=MODEL, contents=PROMPT),
                    context_manager=False),
            Surface(f"{tag}chat send_message", is_async, "plain",
                    lambda c, api=api: api(c).chats.create(model=MODEL).send_message(PROMPT)),
            Surface(f"{tag}embed_content", is_async, "plain",
                    lambda c, api=api: api(c).models.embed_content(model="gemini-embedding-001", contents=PROMPT)),
        ]
    return tuple(out)


class GenAICase(ProviderCase):
    name = "genai"
    http = httpx2
    surfaces = _surfaces()
    # Google's streams have no end marker: a chunk that finishes the answer without usage ends it early
    early_end = (None, {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
                                        "finishReason": "STOP", "index": 0}]})

    def __init__(self, vertex: bool = False) -> None:
        self.fake = FakeGenAI(vertex)
        self.vertex = vertex

    def client(self, handler: Any, is_async: bool) -> Any:
        """One client for both modes (the harness calls ``.aio`` for async surfaces), never retrying."""
        async def handle(request: Any) -> Any:
            return handler(request)

        options = types.HttpOptions(httpx_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
                                    httpx_async_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)),
                                    retry_options=types.HttpRetryOptions(attempts=1))
        if self.vertex:
            return genai.Client(vertexai=True, project="acme-prod", location="us-central1",
                                credentials=Credentials(token="ya29.test"), http_options=options)
        return genai.Client(api_key="AIza-test", http_options=options)

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        response = self.fake.handle(httpx2.Request("POST", url, content=json.dumps(body).encode()))
        payload = response.read()
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            return Wire(status=response.status_code, body=json.loads(payload))
        blocks = [b for b in payload.decode().split("\r\n\r\n") if b.strip()]
        return Wire(status=response.status_code, events=[(None, json.loads(b[len("data: "):])) for b in blocks])

    def error_body(self, status: int) -> Any:
        return {"error": {"code": status, "message": f"simulated {status}", "status": "UNAVAILABLE"}}
