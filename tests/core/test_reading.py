"""The contract's readers on their own: paths over objects and mappings, usage maps as data, stream merging, and
the endpoint lookup memoised per client object."""

from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, ConfigDict

from otel_llm_cost.core.contract import ACCUMULATE, ByHost, ClientAttr, ClientFlag, Reads, Server, UsageMap
from otel_llm_cost.core.provider import EndpointLookup, ResultReader, UsageReader
from otel_llm_cost.core.reading import compile_first, compile_path, field, fields_of
from otel_llm_cost.core.telemetry import CallRecord
from otel_llm_cost.core.usage import Usage


class Extra(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt_tokens: int


def test_paths_read_objects_mappings_pydantic_extras_and_lists() -> None:
    nested = {"usage": SimpleNamespace(details={"cached": 3})}
    assert compile_path("usage.details.cached")(nested) == 3
    assert compile_path("usage.missing.cached")(nested) is None
    assert compile_path("cost")(Extra(prompt_tokens=1, cost=0.5)) == 0.5  # OpenRouter's extra field
    assert compile_path("cost")(Extra(prompt_tokens=1)) is None
    choices = {"choices": [{"finish_reason": "stop"}, {"finish_reason": None}, SimpleNamespace(finish_reason="len")]}
    assert compile_path("choices[].finish_reason")(choices) == ["stop", "len"]
    assert compile_path("choices[].finish_reason")({"choices": "broken"}) == []
    assert compile_first(("a", "b"))({"b": 2}) == 2


class Ignored(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prompt_tokens: int


def test_fields_of_reads_every_name_as_field_does() -> None:
    """The hot paths read an object once through fields_of: it must answer as field() does, for every shape."""

    class WithProperty:
        def __init__(self) -> None:
            self.prompt_tokens = 1

        @property
        def cost(self) -> float:
            return 0.5

    class Slotted:
        __slots__ = ("prompt_tokens",)

        def __init__(self) -> None:
            self.prompt_tokens = 1

    for obj in (Extra(prompt_tokens=1, cost=0.5), Extra(prompt_tokens=1), Ignored(prompt_tokens=1),
                {"prompt_tokens": 1, "cost": 0.5}, SimpleNamespace(prompt_tokens=1), WithProperty(), Slotted(), None):
        fields = fields_of(obj)
        for name in ("prompt_tokens", "cost", "missing"):
            assert fields.get(name) == field(obj, name), (obj, name)
            assert (fields[name] if name in fields else None) == field(obj, name), (obj, name)  # noqa: SIM401


def test_usage_maps_sum_alternatives_and_ignore_what_is_not_a_count() -> None:
    read = UsageReader(UsageMap(input="input_tokens", output="output_tokens", cache_read=("details.cached", "hits"),
                                input_plus=("cache_creation", "cache_read"), cost="cost"))
    usage, cost = read({"input_tokens": 10, "output_tokens": 5, "hits": 4, "cache_creation": 2, "cache_read": 4,
                        "cost": 0.25})
    assert usage == Usage(input_tokens=16, output_tokens=5, cache_read_tokens=4)
    assert cost == 0.25
    usage, cost = read({"input_tokens": "10", "output_tokens": True, "cost": 10**400})
    assert usage is None and cost == float("inf")  # not counts: nothing invented; a cost out of range says so


def test_accumulated_stream_usage_is_the_sum_of_the_items() -> None:
    reader = ResultReader(Reads(usage=UsageMap(input="in", output="out"), finish="done", merge=ACCUMULATE))
    call = CallRecord("chat", "x", "m", None, None, True)
    for item in ({"model": "m-1", "usage": {"in": 7, "out": 1}}, {"usage": {"out": 2}}, {"done": "stop", "usage": {}}):
        reader.facts(call, item, streamed=True)
        reader.usage_of(call, item, streamed=True)
    assert call.usage == Usage(input_tokens=7, output_tokens=3)
    assert call.response_model == "m-1" and call.finish_reasons == ["stop"]


def test_endpoints_are_memoised_per_client_object() -> None:
    class Client:
        def __init__(self, url: str) -> None:
            self.base_url = url

    lookup = EndpointLookup(ByHost((("api.groq.com", "groq"),), "openai", by_port=((11434, "ollama"),)), Server())
    resource: Any = SimpleNamespace(_client=Client("http://localhost:11434/v1"))
    assert lookup(resource) == ("ollama", "localhost", 11434)
    del resource
    gc.collect()
    assert len(lookup.cache) == 0  # dropped with the client: a new client at its address is looked up afresh
    assert lookup(SimpleNamespace(_client=Client("https://api.groq.com/openai/v1"))) == ("groq", "api.groq.com", None)
    named = EndpointLookup(ClientAttr("_name", "anthropic", by_class=(("Bedrock", "aws.bedrock"),)), Server(client=""))
    assert named(type("AnthropicBedrock", (), {"base_url": "https://x"})())[0] == "aws.bedrock"
    assert EndpointLookup(ByHost((), "openai"), Server(client=None))(None) == ("openai", None, None)


def test_a_client_flag_picks_the_provider_whatever_the_host() -> None:
    class Api:
        def __init__(self, vertexai: object, base_url: str) -> None:
            self.vertexai, self.base_url = vertexai, base_url

    rule = EndpointLookup(ClientFlag("vertexai", "gcp.vertex_ai", "gcp.gemini"), Server(client=""))
    assert rule(Api(True, "https://proxy.internal:8443/")) == ("gcp.vertex_ai", "proxy.internal", 8443)
    assert rule(Api(False, "https://generativelanguage.googleapis.com/")) == (
        "gcp.gemini", "generativelanguage.googleapis.com", None)
    assert rule(Api("yes", "https://x/"))[0] == "gcp.gemini"  # only a real True switches
