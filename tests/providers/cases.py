"""Provider cases: what the shared provider suite needs to know about one SDK, so every behaviour test runs for
every provider. A new provider adds one ``ProviderCase`` (its simulated API, its clients, one chat call) to
``CASES``; the suites in this folder (and any property suite taking a ``ProviderCase``) then cover it.

The simulated APIs are the providers' own test fakes (tests/openai, tests/anthropic, fake_groq here): one wire-format
builder per API.

A provider can also bring its case in its own module, ``case_<name>.py`` in this folder, defining ``CASES``: it is
found here. A module whose SDK is not installed (a compat venv holding one SDK's oldest release) is listed in
``UNAVAILABLE`` instead; ``test_registry`` fails on that unless ``OTEL_LLM_COST_PARTIAL_SDKS`` is set, so the main
venv always runs every provider.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS / "openai"), str(TESTS / "anthropic"), str(TESTS / "bedrock")]  # their simulated APIs

import botocore.exceptions  # noqa: E402
import fake_anthropic  # noqa: E402
import fake_bedrock  # noqa: E402
import fake_genai  # noqa: E402
import fake_groq  # noqa: E402
import fake_openai  # noqa: E402
import groq  # noqa: E402
from google.genai import errors as genai_errors  # noqa: E402

import anthropic  # noqa: E402
import openai  # noqa: E402
from conversation import MESSAGES  # noqa: E402

INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"


@dataclass(frozen=True)
class ProviderCase:
    """One SDK under the shared suite.

    ``fake()`` makes its simulated API (``.fail`` = (status, body) or an exception; ``.break_stream_after`` = n
    events); ``client(fake)`` / ``async_client(fake)`` the SDK's clients on it; ``create(client, stream)`` one chat
    call (a coroutine for an async client). Each call reports ``input_tokens``/``output_tokens`` and costs ``cost``.
    ``error`` is an error response and ``error_class`` the SDK exception it becomes. ``early_usage``: the span's
    usage attributes when a stream is abandoned after its first item (what was seen so far, nothing invented).
    ``peers``: other instrumentations of this SDK installed here (factories of BaseInstrumentor objects).
    ``async_client`` None: the SDK has no async client we instrument. ``answered(result)``: the plain result is the
    SDK's own answer; ``status_of(error)``: the HTTP status an SDK error carries; ``view(item)``: what the app sees
    of a result or stream item (compared with and without us)."""

    name: str
    entry_point: str
    provider: str
    fake: Callable[[], Any]
    client: Callable[[Any], Any]
    async_client: Callable[[Any], Any] | None
    create: Callable[[Any, bool], Any]
    input_tokens: int
    output_tokens: int
    cost: float
    error: tuple[int, dict[str, Any]]
    error_class: type[BaseException]
    early_usage: dict[str, int] = field(default_factory=dict)
    peers: tuple[Callable[[], Any], ...] = ()
    answered: Callable[[Any], bool] = lambda result: bool(result.id)
    status_of: Callable[[BaseException], Any] = lambda error: getattr(error, "status_code", None)
    # what the app sees of a result or stream item, compared with and without the instrumentation
    view: Callable[[Any], Any] = lambda item: (item.model_dump(), item.model_dump(exclude_unset=True))

    def __str__(self) -> str:
        return self.name


def consume(result: Any, stream: bool) -> Any:
    """Read a sync result to its end, as an application would (a stream: every item)."""
    return list(result) if stream else result


async def consume_async(result: Any, stream: bool) -> Any:
    result = await result
    return [item async for item in result] if stream else result


def run_call(case: ProviderCase, client: Any, stream: bool, is_async: bool) -> Any:
    if is_async:
        return asyncio.run(consume_async(case.create(client, stream), stream))
    return consume(case.create(client, stream), stream)


def _openai_create(client: Any, stream: bool) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=stream)


def _anthropic_create(client: Any, stream: bool) -> Any:
    return client.messages.create(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES, stream=stream)


def _genai_create(client: Any, stream: bool) -> Any:
    models = client.models
    if stream:
        return models.generate_content_stream(model=fake_genai.MODEL, contents="Capital of France?")
    return models.generate_content(model=fake_genai.MODEL, contents="Capital of France?")


def _genai_peers() -> tuple[Callable[[], Any], ...]:
    """The official google-genai instrumentation and OpenLLMetry's (``google_generativeai``, which wraps
    google-genai's public ``generate_content[_stream]``), each where it is installed and instruments this SDK
    version (the official one stops at google-genai 3: scripts/test-compat-genai.sh runs it on the oldest release
    we support)."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    peers: list[Callable[[], Any]] = []
    for module, name in (("opentelemetry.instrumentation.google_genai", "GoogleGenAiSdkInstrumentor"),
                         ("opentelemetry.instrumentation.google_generativeai", "GoogleGenerativeAiInstrumentor")):
        try:
            peer = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if get_dependency_conflicts(peer().instrumentation_dependencies()) is None:
            peers.append(peer)
    return tuple(peers)


def _peers(load: Callable[[], tuple[Callable[[], Any], ...]]) -> tuple[Callable[[], Any], ...]:
    """``load()``: the peers of one SDK. A compat venv (``OTEL_LLM_COST_PARTIAL_SDKS``) may not hold them (a
    pinned old SDK can conflict with them: mistralai 2.0 pins the semantic conventions below the genai peers'),
    and then has none; the main venv must import them all."""
    try:
        return load()
    except ImportError:
        if os.environ.get("OTEL_LLM_COST_PARTIAL_SDKS"):
            return ()
        raise


def _openai_peers() -> tuple[Callable[[], Any], ...]:
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as GenAI
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor as OpenLLMetry

    return GenAI, OpenLLMetry


def _anthropic_peers() -> tuple[Callable[[], Any], ...]:
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor as OpenLLMetry
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor as GenAI

    return GenAI, OpenLLMetry


_SONNET = fake_anthropic
_SONNET_INPUT = _SONNET.INPUT + _SONNET.CACHE_5M + _SONNET.CACHE_1H + _SONNET.CACHE_READ
_SONNET_COST = (_SONNET.INPUT * 3 + _SONNET.CACHE_5M * 3.75 + _SONNET.CACHE_1H * 6 + _SONNET.CACHE_READ * 0.30
                + _SONNET.OUTPUT * 15) / 1e6 + _SONNET.SEARCHES * 10 / 1000

def _groq_peers() -> tuple[Callable[[], Any], ...]:
    """OpenLLMetry's groq instrumentation (no official genai-groq instrumentation exists), where it is installed."""
    try:
        from opentelemetry.instrumentation.groq import GroqInstrumentor as OpenLLMetry
    except ImportError:
        return ()
    return (OpenLLMetry,)


def _bedrock_peers() -> tuple[Callable[[], Any], ...]:
    from opentelemetry.instrumentation.bedrock import BedrockInstrumentor as OpenLLMetry
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor as Official

    return Official, OpenLLMetry


_CLAUDE_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
_BEDROCK_USAGE = {"inputTokens": 1200, "outputTokens": 500, "cacheReadInputTokens": 3000,
                  "cacheWriteInputTokens": 2000}


def _bedrock_fake() -> fake_bedrock.FakeBedrock:
    fake = fake_bedrock.FakeBedrock()
    wire = fake_bedrock.wire
    fake.answer("converse", wire.converse_body("Paris", _BEDROCK_USAGE), always=True)
    fake.answer("converse-stream", wire.converse_stream("Paris is the capital", _BEDROCK_USAGE), always=True)
    return fake


def _bedrock_create(client: Any, stream: bool) -> Any:
    messages = [{"role": "user", "content": [{"text": "Capital of France?"}]}]
    if stream:
        return client.converse_stream(modelId=_CLAUDE_US, messages=messages)["stream"]
    return client.converse(modelId=_CLAUDE_US, messages=messages)


CASES: tuple[ProviderCase, ...] = (
    ProviderCase(
        name="openai", entry_point="llm_cost_openai", provider="openai", fake=fake_openai.FakeOpenAI,
        client=lambda f: f.client(), async_client=lambda f: f.async_client(), create=_openai_create,
        input_tokens=fake_openai.PROMPT, output_tokens=fake_openai.COMPLETION, cost=fake_openai.GPT_4O_MINI_COST,
        error=(429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        error_class=openai.RateLimitError, peers=_peers(_openai_peers)),
    ProviderCase(
        name="anthropic", entry_point="llm_cost_anthropic", provider="anthropic", fake=fake_anthropic.FakeAnthropic,
        client=lambda f: f.client(), async_client=lambda f: f.async_client(), create=_anthropic_create,
        input_tokens=_SONNET_INPUT, output_tokens=_SONNET.OUTPUT, cost=_SONNET_COST,
        error=fake_anthropic.overloaded(), error_class=anthropic.InternalServerError,
        early_usage={INPUT: _SONNET_INPUT, OUTPUT: 1, "gen_ai.usage.cache_read.input_tokens": _SONNET.CACHE_READ,
                     "gen_ai.usage.cache_write.input_tokens": _SONNET.CACHE_5M + _SONNET.CACHE_1H},
        peers=_peers(_anthropic_peers)),
    *(ProviderCase(
        name=name, entry_point="llm_cost_google_genai", provider=provider,
        fake=lambda vertex=vertex: fake_genai.FakeGenAI(vertex), client=lambda f: f.client(),
        async_client=lambda f: f.async_client(), create=_genai_create,
        input_tokens=fake_genai.INPUT_TOKENS, output_tokens=fake_genai.OUTPUT_TOKENS, cost=fake_genai.FLASH_COST,
        error=fake_genai.resource_exhausted(), error_class=genai_errors.ClientError,
        early_usage={INPUT: fake_genai.PROMPT}, status_of=lambda error: getattr(error, "code", None),
        answered=lambda result: bool(result.response_id), peers=_genai_peers())
      for name, provider, vertex in (("gemini", "gcp.gemini", False), ("vertex_ai", "gcp.vertex_ai", True))),
    ProviderCase(
        name="groq", entry_point="llm_cost_groq", provider="groq", fake=fake_groq.FakeGroq,
        client=lambda f: f.client(), async_client=lambda f: f.async_client(),
        create=lambda c, stream: c.chat.completions.create(model=fake_groq.MODEL, messages=MESSAGES, stream=stream),
        input_tokens=fake_groq.PROMPT, output_tokens=fake_groq.COMPLETION, cost=fake_groq.LLAMA_COST,
        error=fake_groq.rate_limited(), error_class=groq.RateLimitError, peers=_groq_peers()),
    ProviderCase(
        name="bedrock", entry_point="llm_cost_botocore", provider="aws.bedrock", fake=_bedrock_fake,
        client=fake_bedrock.client, async_client=None, create=_bedrock_create,
        # Claude Sonnet 4.5 through the us. profile, USD per 1M: 3.3 input, 4.125 cache write, 0.33 cache read,
        # 16.5 output (Bedrock's inputTokens exclude the cache)
        input_tokens=1200 + 3000 + 2000, output_tokens=500,
        cost=(1200 * 3.3 + 2000 * 4.125 + 3000 * 0.33 + 500 * 16.5) / 1e6,
        error=fake_bedrock.throttled()[::-1], error_class=botocore.exceptions.ClientError,
        peers=_peers(_bedrock_peers), answered=lambda result: bool(result["output"]["message"]),
        status_of=lambda error: error.response["ResponseMetadata"]["HTTPStatusCode"],
        # the whole response but its per-request metadata (request id, date)
        view=lambda item: {k: v for k, v in item.items() if k != "ResponseMetadata"}),
)


# case_<name>.py modules -> why they could not load (their SDK is missing from this venv)
UNAVAILABLE: dict[str, str] = {}
# Providers whose SDK cannot share the main venv (it pins another major of an SDK the main venv holds): their case
# module -> (entry point, the script whose own venv runs that case through the shared suite). test_registry exempts
# exactly these from "every registration has a case here", and checks that the script runs the shared suite.
OWN_VENV: dict[str, tuple[str, str]] = {
    "case_litellm": ("llm_cost_litellm", "scripts/test-compat-litellm.sh"),  # litellm pins openai < 3
}


def _discover() -> tuple[ProviderCase, ...]:
    """The ``CASES`` of every ``case_*.py`` beside this file, in name order."""
    found: list[ProviderCase] = []
    for path in sorted(Path(__file__).parent.glob("case_*.py")):
        # loaded from its file under its own name: tests/same_outcome has case_<sdk>.py modules of the same stem
        spec = importlib.util.spec_from_file_location(f"provider_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except ModuleNotFoundError as missing:
            del sys.modules[spec.name]
            UNAVAILABLE[path.stem] = str(missing)
            continue
        found.extend(module.CASES)
    return tuple(found)


CASES = CASES + _discover()
