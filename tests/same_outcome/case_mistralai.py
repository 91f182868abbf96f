"""The mistralai SDK as a ``ProviderCase``: chat and FIM completions plain and streamed (a method of its own, usage
on the final chunk), agents and embeddings, sync and async (the simulated API is
tests/providers/fake_mistral.py). Named after the SDK, not ``case_mistral``: that is the shared provider suite's
module of the same name, and both folders are on one ``sys.path``."""

from __future__ import annotations

import json
from typing import Any

from fake_mistral import CODESTRAL, EMBED, SMALL, FakeMistral, http
from mistralai.client import Mistral
from provider_case import ProviderCase, Surface, Wire, decode_answer

from otel_llm_cost.demo.wire import mistral as wire

MESSAGES = [{"role": "user", "content": "Capital of France?"}]
CHAT = {"model": SMALL, "messages": MESSAGES}
FIM = {"model": CODESTRAL, "prompt": "def add(a, b):"}


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    for is_async in (False, True):
        tag, s = ("async ", "_async") if is_async else ("", "")
        out += [
            Surface(f"{tag}chat", is_async, "plain", lambda c, s=s: getattr(c.chat, f"complete{s}")(**CHAT)),
            Surface(f"{tag}chat stream", is_async, "stream", lambda c, s=s: getattr(c.chat, f"stream{s}")(**CHAT)),
            Surface(f"{tag}fim", is_async, "plain", lambda c, s=s: getattr(c.fim, f"complete{s}")(**FIM)),
            Surface(f"{tag}fim stream", is_async, "stream", lambda c, s=s: getattr(c.fim, f"stream{s}")(**FIM)),
            Surface(f"{tag}agents stream", is_async, "stream",
                    lambda c, s=s: getattr(c.agents, f"stream{s}")(agent_id="ag_01", messages=MESSAGES)),
            Surface(f"{tag}embeddings", is_async, "plain",
                    lambda c, s=s: getattr(c.embeddings, f"create{s}")(model=EMBED, inputs=["hi"])),
        ]
    return tuple(out)


class MistralCase(ProviderCase):
    name = "mistral"
    http = http
    surfaces = _surfaces()

    def __init__(self) -> None:
        self.fake = FakeMistral(cached=400)

    def client(self, handler: Any, is_async: bool) -> Any:
        if is_async:
            async def handle(request: Any) -> Any:
                return handler(request)

            return Mistral(api_key="mistral-test", async_client=http.AsyncClient(transport=http.MockTransport(handle)))
        return Mistral(api_key="mistral-test", client=http.Client(transport=http.MockTransport(handler)))

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        return decode_answer(self.fake.handle(http.Request("POST", url, content=json.dumps(body).encode())))

    def error_body(self, status: int) -> Any:
        return wire.error(status, f"status {status}")
