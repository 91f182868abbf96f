"""Ollama's native SDK (``ollama.Client``, ``AsyncClient`` and the module-level ``ollama.chat`` & co.): chat,
generate, embed and the legacy embeddings, plain and streamed.

What is wrapped is the one method every API call goes through, ``Client._request`` / ``AsyncClient._request``
(the path says which call it is; pulls, pushes, listings are let through untouched). Why not ``Client.chat``:
``ollama.chat``, ``ollama.generate``... are bound methods of a module-level ``Client`` captured at import, which a
class wrapper of ``chat`` never sees (and a ``from ollama import chat`` made before instrumenting keeps the
original); ``_request`` is reached from all of them, and from subclasses overriding ``chat``. OpenLLMetry's
Ollama instrumentation wraps ``_request`` too (we go under it) but never makes its span current, so its span cannot
be adopted: the cost is on ours, once.

Usage is on the result itself (``prompt_eval_count`` in, ``eval_count`` out), in a stream on the final
``done=True`` part only; the legacy ``/api/embeddings`` reports no counts (unpriced, ``no_usage``). The server's
``total_duration`` (ns) is what a self-hosted ``per_second`` price bills; without it, the wall time measured here.
Calls cost what the user declares in a price file; by default an explicit $0 marked as the self-hosted default
(``pricing.providers.SELF_HOSTED``).
"""

from __future__ import annotations

from typing import Any

from ..core import telemetry as names
from ..core.calls import Prepared, request_attributes
from ..core.contract import Fixed, ProviderSpec, Reads, RequestMap, Surface, UsageMap
from ..core.provider import SpecAdapter, SpecInstrumentor

# API path -> gen_ai.operation.name; any other path (pull, push, list, show...) is not a model call
_OPERATIONS = {"/api/chat": "chat", "/api/generate": "text_completion", "/api/embed": "embeddings",
               "/api/embeddings": "embeddings"}
# keys of the request's ``options`` (Ollama's model parameters) -> span attributes
_OPTIONS = (
    ("temperature", names.REQUEST_TEMPERATURE),
    ("top_p", names.REQUEST_TOP_P),
    ("top_k", names.REQUEST_TOP_K),
    ("num_predict", names.REQUEST_MAX_TOKENS),
    ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", names.REQUEST_PRESENCE_PENALTY),
    ("seed", names.REQUEST_SEED),
)
_READS = Reads(usage=UsageMap(input="prompt_eval_count", output="eval_count"), usage_at="", id=None,
               finish="done_reason", duration="total_duration", duration_unit=1e-9)


class OllamaAdapter(SpecAdapter):
    """``_request(cls, method, path, json=..., stream=...)``: the operation from the path, the request facts from
    the JSON body the SDK built (its ``options`` hold the sampling parameters)."""

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        operation = _OPERATIONS.get(args[2]) if len(args) > 2 and isinstance(args[2], str) else None
        body = kwargs.get("json")
        if operation is None or not isinstance(body, dict):
            return None  # not a model call: no record
        call = self.request.call(operation, instance, body, kwargs.get("stream") is True)
        options = body.get("options")
        attrs = request_attributes(options, _OPTIONS, "stop") if isinstance(options, dict) else {}
        return Prepared(call, kwargs, attrs)

    def ends_stream(self, item: Any) -> bool:
        """The ``done`` part is a stream's last: the call is finished on it, also when the caller stops there."""
        return getattr(item, "done", None) is True


SPEC = ProviderSpec(
    name="ollama", provider=Fixed("ollama"),
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
    request=RequestMap(stream=None),
    surfaces=(
        Surface("ollama._client", "Client", ("_request",), reads=_READS, adapter=OllamaAdapter),
        Surface("ollama._client", "AsyncClient", async_=("_request",), reads=_READS, adapter=OllamaAdapter),
    ))


class OllamaInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_ollama``: tokens and the declared cost of every model call made through the
    ``ollama`` SDK, module-level functions included."""

    spec = SPEC
