"""The demo's application: a small company's LLM traffic, made through the real ``openai`` and ``anthropic``
SDKs (and ``boto3`` for Bedrock, when installed) exactly as an application would make it (attribution with
``otel_llm_cost.attributes``, streamed and plain calls, embeddings, cached system prompts, a reasoning model,
extended thinking, a model the price table does not know, and a few provider errors).

Nothing here knows about telemetry: the instrumentation sees these calls the way it sees any app's.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.attribution import attributes
from .simulated_provider import ERROR_HEADER

_SENTENCES = (
    "Refunds are issued to the original payment method within five business days of approval.",
    "Orders above fifty dollars ship free within the continental United States and Canada.",
    "Agents must never promise delivery dates that the carrier has not confirmed in writing.",
    "Escalate any report of a damaged item with photos to the returns team within one day.",
    "Subscriptions renew monthly; customers can pause for up to three months from the account page.",
    "Always greet the customer by name and summarise the resolution at the end of the conversation.",
    "Warranty claims require the serial number, the proof of purchase and a short description.",
    "Do not share internal ticket numbers or the names of other customers under any circumstances.",
)
_QUESTIONS = (
    "My order 4471 arrived with a cracked screen, what can I do?",
    "Can I pause my subscription while I am travelling next month?",
    "Where is my refund? It has been a week since you approved it.",
    "Do you ship to Alaska, and is shipping free there?",
    "I want to change the delivery address of an order I placed an hour ago.",
)
_DOCS = ("quarterly revenue report for the retail segment", "incident postmortem: checkout latency spike",
         "onboarding guide for new support agents", "pricing page copy for the pro plan",
         "API changelog for version 4.2", "security review of the payments service")


def _policy(name: str, sentences: int) -> str:
    """A long, fixed system prompt (the kind that prompt caching is for)."""
    rng = random.Random(name)
    body = " ".join(rng.choice(_SENTENCES) for _ in range(sentences))
    return f"You are the {name} assistant of Acme Retail. Follow the policy below exactly.\n\n{body}"


SUPPORT_POLICY = _policy("customer support", 90)     # ~2,100 tokens: cached by both providers
REPORT_CONTEXT = _policy("finance reporting", 140)   # ~3,300 tokens: cached for an hour (Anthropic)
UNKNOWN_MODEL = "gpt-7-preview"                      # not in the price table: shows up as unpriced, never $0


@dataclass(frozen=True)
class Clients:
    openai: Any     # openai.OpenAI against the simulated provider (None when the SDK is not installed)
    anthropic: Any  # anthropic.Anthropic against the simulated provider (None when not installed)
    bedrock: Any = None  # a boto3 bedrock-runtime client against the simulated provider (None without boto3)
    gemini: Any = None  # google.genai.Client on the Gemini API of the simulated provider (None when not installed)
    mistral: Any = None  # mistralai's Mistral client on the simulated provider's Mistral API (None when not installed)


@dataclass(frozen=True)
class Scenario:
    """One kind of call the demo application makes."""

    feature: str
    team: str
    provider: str
    model: str
    description: str
    weight: int
    run: Callable[[Clients, random.Random, dict[str, Any]], None]


def _support_openai(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    stream = c.openai.chat.completions.create(
        model="gpt-4o-mini", stream=True, max_tokens=300, temperature=0.3, extra_headers=extra,
        messages=[{"role": "system", "content": SUPPORT_POLICY}, {"role": "user", "content": rng.choice(_QUESTIONS)}])
    for _ in stream:
        pass


def _support_anthropic(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    with c.anthropic.messages.stream(
            model="claude-haiku-4-5", max_tokens=400, extra_headers=extra,
            system=[{"type": "text", "text": SUPPORT_POLICY, "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": rng.choice(_QUESTIONS)}]) as stream:
        for _ in stream.text_stream:
            pass


def _support_gemini(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    config = {"system_instruction": SUPPORT_POLICY, "max_output_tokens": 400, "http_options": {"headers": extra}}
    for _ in c.gemini.models.generate_content_stream(model="gemini-2.5-flash", contents=rng.choice(_QUESTIONS),
                                                     config=config):
        pass


def _search_embeddings(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    docs = [f"{rng.choice(_DOCS)}, section {i}: " + " ".join(rng.sample(_SENTENCES, 3)) for i in range(16)]
    c.openai.embeddings.create(model="text-embedding-3-small", input=docs, dimensions=256, extra_headers=extra)


def _summarize(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    c.openai.chat.completions.create(
        model="gpt-4.1-mini", max_tokens=500, extra_headers=extra,
        messages=[{"role": "user", "content": "Summarise for a weekly digest: " + " ".join(rng.sample(_SENTENCES, 5))}])


def _code_review(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    diff = "\n".join(f"+    result_{i} = handle(request_{i})  # TODO check errors" for i in range(rng.randint(20, 60)))
    c.openai.chat.completions.create(
        model="o4-mini", max_completion_tokens=2500, reasoning_effort="medium", extra_headers=extra,
        messages=[{"role": "user", "content": f"Review this diff for bugs:\n{diff}"}])


def _doc_qa(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    with c.openai.responses.stream(model="gpt-5-mini", max_output_tokens=1200, extra_headers=extra,
                                   instructions="Answer from the handbook only.",
                                   input=f"{rng.choice(_QUESTIONS)} Context: {rng.choice(_DOCS)}") as stream:
        for _ in stream:
            pass


def _report_writer(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    c.anthropic.messages.create(
        model="claude-sonnet-4-6", max_tokens=3000, extra_headers=extra,
        thinking={"type": "enabled", "budget_tokens": 1500},
        system=[{"type": "text", "text": REPORT_CONTEXT, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        messages=[{"role": "user", "content": f"Write the executive summary of the {rng.choice(_DOCS)}."}])


def _tagging(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    """An asyncio job: three concurrent classifications with AsyncOpenAI (async calls are priced the same)."""
    import openai

    async def run() -> None:
        async with openai.AsyncOpenAI(base_url=str(c.openai.base_url), api_key=c.openai.api_key,
                                      max_retries=0, timeout=30) as client:
            results = await asyncio.gather(*(client.chat.completions.create(
                model="gpt-4o-mini", max_tokens=40, extra_headers=extra,
                messages=[{"role": "user", "content": f"Tag this ticket with one word: {q}"}])
                for q in rng.sample(_QUESTIONS, 3)), return_exceptions=True)
            for result in results:  # every call finishes; then the app sees the first failure
                if isinstance(result, BaseException):
                    raise result

    asyncio.run(run())


def _experiment(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    c.openai.chat.completions.create(
        model=UNKNOWN_MODEL, max_tokens=400, extra_headers=extra,
        messages=[{"role": "user", "content": "Draft three taglines for " + rng.choice(_DOCS)}])


def _translate_bedrock(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    response = c.bedrock.converse_stream(
        modelId="us.amazon.nova-lite-v1:0", inferenceConfig={"maxTokens": 300},
        messages=[{"role": "user", "content": [{"text": f"Translate into French: {rng.choice(_QUESTIONS)}"}]}])
    for _ in response["stream"]:
        pass


def _code_completion_mistral(c: Clients, rng: random.Random, extra: dict[str, Any]) -> None:
    """Fill-in-the-middle code completion, streamed, through the mistralai SDK."""
    stream = c.mistral.fim.stream(model="codestral-latest", max_tokens=200, temperature=0.2,
                                  http_headers=extra or None,
                                  prompt=f"def handle_{rng.choice(_DOCS).split()[0].lower()}(request):\n    ",
                                  suffix="\n    return response\n")
    with stream:
        for _ in stream:
            pass


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("support-chat", "customer-success", "openai", "gpt-4o-mini", "streamed chat, cached system prompt", 5,
             _support_openai),
    Scenario("support-chat", "customer-success", "anthropic", "claude-haiku-4-5",
             "streamed messages, cached system prompt", 4, _support_anthropic),
    Scenario("support-chat", "customer-success", "gcp.gemini", "gemini-2.5-flash",
             "streamed, thinking, implicitly cached system instruction", 3, _support_gemini),
    Scenario("search", "growth", "openai", "text-embedding-3-small", "embeddings, 16 documents a call", 5,
             _search_embeddings),
    Scenario("digest", "growth", "openai", "gpt-4.1-mini", "chat", 3, _summarize),
    Scenario("ticket-tagging", "customer-success", "openai", "gpt-4o-mini", "asyncio, 3 concurrent calls", 2,
             _tagging),
    Scenario("code-review", "platform", "openai", "o4-mini", "reasoning model", 2, _code_review),
    Scenario("doc-qa", "platform", "openai", "gpt-5-mini", "Responses API, streamed, reasoning", 2, _doc_qa),
    Scenario("report-writer", "finance", "anthropic", "claude-sonnet-4-6",
             "extended thinking, 1-hour cached context", 2, _report_writer),
    Scenario("experiments", "research", "openai", UNKNOWN_MODEL, "a model the price table does not know", 1,
             _experiment),
)
# Bedrock (boto3, when installed) rides along: one call after every sixth, drawn from no shared random state, so a
# seed makes the same calls to the other providers with or without boto3 installed
BEDROCK = Scenario("translation", "localization", "aws.bedrock", "us.amazon.nova-lite-v1:0",
                   "boto3 Converse stream through a cross-region profile", 0, _translate_bedrock)
BEDROCK_EVERY = 6
# Mistral (mistralai, when installed) rides along the same way, at other indexes than Bedrock's
MISTRAL = Scenario("code-completion", "platform", "mistral_ai", "codestral-latest",
                   "mistralai FIM completion, streamed", 0, _code_completion_mistral)
MISTRAL_EVERY = 6


def companion(index: int, available: set[str]) -> Scenario | None:
    """The call that rides along after the ``index``-th one, if any (Bedrock's or Mistral's)."""
    if "aws.bedrock" in available and index % BEDROCK_EVERY == BEDROCK_EVERY - 1:
        return BEDROCK
    if "mistral_ai" in available and index % MISTRAL_EVERY == 2:
        return MISTRAL
    return None
ERROR_RATE = 0.04
_ERRORS = {"openai": ("429", "429", "500"), "anthropic": ("529", "529", "429"), "gcp.gemini": ("429", "429", "503")}


def pick(rng: random.Random, available: set[str]) -> tuple[Scenario, dict[str, str]]:
    """The next call: a scenario (weighted) and the simulated-error header, if this one is to fail."""
    choices = [s for s in SCENARIOS if s.provider in available]
    scenario = rng.choices(choices, weights=[s.weight for s in choices])[0]
    extra = {ERROR_HEADER: rng.choice(_ERRORS[scenario.provider])} if rng.random() < ERROR_RATE else {}
    return scenario, extra


_TENANTS = ("acme", "globex", "initech", "umbrella", "hooli")


def _customer(rng: random.Random) -> tuple[str, str]:
    """Who the call is for (tenant, user): picked from the call's rng state without drawing from it, so the calls
    themselves stay what they were before users were added (span attributes only; not metric labels)."""
    pick = random.Random(hash(rng.getstate()[1])).randrange(40)  # ints: hash is the same every run
    return _TENANTS[pick % len(_TENANTS)], f"user-{pick:02d}"


def make_call(scenario: Scenario, clients: Clients, rng: random.Random, extra: dict[str, str]) -> str | None:
    """Run one call under its feature/team/tenant/user attribution; the SDK error's class name when it failed."""
    tenant, user = _customer(rng)
    with attributes(feature=scenario.feature, team=scenario.team, tenant=tenant, user_id=user):
        try:
            scenario.run(clients, rng, dict(extra))
        except Exception as error:  # the demo app handles provider errors like any app would
            return type(error).__name__
    return None
