"""A toy outer SDK that calls the real openai SDK underneath, as LiteLLM does: module-level functions and a client
factory that builds each client's class at run time (as botocore does), answering with dicts (as boto3 does)."""

from __future__ import annotations

from typing import Any


def _answer(response: Any) -> dict[str, Any]:
    usage = response.usage
    return {"id": f"toy-{response.id}", "model": response.model,
            "choices": [{"finish_reason": c.finish_reason} for c in response.choices],
            "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                      "prompt_tokens_details": {"cached_tokens": usage.prompt_tokens_details.cached_tokens}}}


def complete(*, model: str, messages: list[dict[str, Any]], client: Any) -> dict[str, Any]:
    """One logical call: the inner openai call is the outer call's own request."""
    return _answer(client.chat.completions.create(model=model, messages=messages))


async def acomplete(*, model: str, messages: list[dict[str, Any]], client: Any) -> dict[str, Any]:
    return _answer(await client.chat.completions.create(model=model, messages=messages))


def stream(*, model: str, messages: list[dict[str, Any]], client: Any, stream: bool = True) -> Any:
    """A stream whose request starts only when it is first read (as LiteLLM's streams do for some providers, and
    a Router's mid-stream fallback): the inner call is made while the outer call's stream is read."""
    def chunks() -> Any:
        yield _answer(client.chat.completions.create(model=model, messages=messages))

    return chunks()


class Factory:
    """Makes clients whose class exists only once made (nothing to patch beforehand)."""

    def create_client(self, service: str, inner: Any) -> Any:
        def converse(self: Any, *, model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
            return complete(model=model, messages=messages, client=self.inner)

        cls = type(f"Toy{service.title()}Client", (), {"converse": converse, "service": service})
        client = cls()
        client.inner = inner
        return client
