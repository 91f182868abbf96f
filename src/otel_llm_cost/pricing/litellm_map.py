"""LiteLLM's model price map (MIT), the table's second source: read it, and turn its entries into price rows.

Never imported by an instrumented app: only the table build, the cross-check and ``prices`` commands use it.
The map is read from a given file (the JSON, or a ``litellm`` wheel, which is a zip holding it), or from an
installed ``litellm`` package; litellm itself is never imported (its import fetches the map over the network).
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# The LiteLLM release the bundled table and the CI cross-check use (scripts/setup.d/30-litellm-price-map.sh
# downloads its wheel; bump both together, then run scripts/update_prices.py and review the diff).
LITELLM_PINNED = "1.109.1"
MAP_NAME = "model_prices_and_context_window_backup.json"

# LiteLLM provider -> price-table provider, for the providers we instrument.
PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure",
    "anthropic": "anthropic",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "vertex_ai-anthropic_models": "google",
    "vertex_ai-language-models": "google",
    "vertex_ai-mistral_models": "google",
    "vertex_ai-embedding-models": "google",
    "vertex_ai-text-models": "google",
    "vertex_ai": "google",
    "gemini": "google",
    "mistral": "mistral",
    "xai": "x-ai",
    "deepseek": "deepseek",
    "groq": "groq",
    "cohere": "cohere",
    "cohere_chat": "cohere",
}
MODES = ("chat", "responses", "embedding", "completion")
# Key prefixes that name the LiteLLM route, not the model ("gemini/gemini-2.5-pro" -> "gemini-2.5-pro").
_ROUTE_PREFIXES = ("openai", "azure", "anthropic", "bedrock", "bedrock_converse", "vertex_ai", "gemini", "mistral",
                   "xai", "deepseek", "groq", "cohere", "cohere_chat", "text-completion-openai")

# LiteLLM cost keys (USD per token) -> price-table keys (USD per 1M tokens).
PRICE_KEYS: dict[str, str] = {
    "input_cost_per_token": "input_mtok",
    "output_cost_per_token": "output_mtok",
    "cache_read_input_token_cost": "cache_read_mtok",
    "cache_creation_input_token_cost": "cache_write_mtok",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h_mtok",
    "input_cost_per_audio_token": "input_audio_mtok",
    "output_cost_per_audio_token": "output_audio_mtok",
    "output_cost_per_reasoning_token": "output_reasoning_mtok",
}
# Key suffix -> request variant (the context our price book selects variants with).
VARIANTS: dict[str, dict[str, str]] = {
    "_batches": {"processing": "batch"},
    "_flex": {"service_tier": "flex"},
    "_priority": {"service_tier": "priority"},
}


class LiteLLMMapError(ValueError):
    """The map cannot be read; the message names the file."""


@dataclass
class LiteLLMModel:
    """One LiteLLM entry for a provider we instrument, as a price-table row."""

    key: str  # LiteLLM's own key
    provider: str  # price-table provider id
    name: str  # the model name an SDK sends (route prefix removed), lower case
    mode: str
    prices: dict[str, Any]  # price-table keys, USD per 1M (tiered as {"base", "tiers"})
    variants: list[dict[str, Any]] = field(default_factory=list)
    source_url: str = ""


def cached_wheel_dir() -> str:
    """Where scripts/setup.d/30-litellm-price-map.sh keeps the pinned wheel (outside any checkout)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "otel-llm-cost", "litellm")


def cached_wheel() -> str | None:
    """The cached wheel of the pinned LiteLLM release, if it was downloaded."""
    import glob

    wheels = sorted(glob.glob(os.path.join(cached_wheel_dir(), f"litellm-{LITELLM_PINNED}-*.whl")))
    return wheels[0] if wheels else None


def find_map(path: str | None = None) -> str:
    """The map's location: ``path`` (JSON or wheel), else the cached pinned wheel, else an installed litellm."""
    if path:
        if not os.path.exists(path):
            raise LiteLLMMapError(f"LiteLLM price map {path}: no such file")
        return path
    wheel = cached_wheel()
    if wheel is not None:
        return wheel
    import importlib.util

    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise LiteLLMMapError("no LiteLLM price map: no file was given, no cached wheel in "
                              f"{cached_wheel_dir()} and litellm is not installed (run "
                              "scripts/setup.d/30-litellm-price-map.sh, or pip download --no-deps "
                              f"litellm=={LITELLM_PINNED} and pass the wheel)")
    candidate = os.path.join(next(iter(spec.submodule_search_locations)), MAP_NAME)
    if not os.path.exists(candidate):
        raise LiteLLMMapError(f"the installed litellm has no {MAP_NAME}")
    return candidate


def read_map(path: str) -> tuple[dict[str, Any], str]:
    """(the map, its version label) from a JSON file or a litellm wheel."""
    try:
        if path.endswith(".whl"):
            with zipfile.ZipFile(path) as wheel:
                member = next((n for n in wheel.namelist() if n.endswith("/" + MAP_NAME)), None)
                if member is None:
                    raise LiteLLMMapError(f"LiteLLM wheel {path}: no {MAP_NAME} inside")
                data = json.loads(wheel.read(member))
            version = os.path.basename(path).split("-")[1]
        else:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            version = _installed_version(path)
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise LiteLLMMapError(f"LiteLLM price map {path}: {exc}") from None
    if not isinstance(data, dict):
        raise LiteLLMMapError(f"LiteLLM price map {path}: expected a JSON object of models")
    return data, version


def _installed_version(path: str) -> str:
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.basename(parent) == "litellm":
        from importlib import metadata

        try:
            return metadata.version("litellm")
        except metadata.PackageNotFoundError:
            pass
    return "file"


def models(data: Mapping[str, Any]) -> Iterator[LiteLLMModel]:
    """The priced chat/embedding entries of providers we instrument, named as an SDK sends the model.

    Skipped: route keys that carry more than a model (``bedrock/us-gov-west-1/...`` regions and commitments,
    ``azure/eu/...`` data zones: the request's model name cannot tell them apart), entries without a price, and
    entries whose every price is 0 (LiteLLM's placeholder for experimental, free-tier or per-second-billed
    models: taking it would price their calls at a silent $0)."""
    for key in sorted(data):
        entry = data[key]
        if not isinstance(entry, dict) or entry.get("mode") not in MODES:
            continue
        provider = PROVIDERS.get(str(entry.get("litellm_provider", "")))
        if provider is None:
            continue
        name = model_name(key, provider)
        if name is None:
            continue
        prices = _prices(entry, "")
        if "input_mtok" not in prices or not any(_base(v) for v in prices.values()):
            continue  # no price, or all zero: LiteLLM's placeholder for free tiers and non-token billing, never $0
        variants = []
        for suffix, when in VARIANTS.items():
            variant = _prices(entry, suffix)
            if variant:
                variants.append({"when": dict(when), "prices": variant})
        yield LiteLLMModel(key, provider, name, entry["mode"], prices, variants, str(entry.get("source", "")))


def model_name(key: str, provider: str) -> str | None:
    """The model name in a LiteLLM key, or None for a route we cannot see in a request."""
    name = key.strip().lower()
    head, _, rest = name.partition("/")
    if rest and head in _ROUTE_PREFIXES:
        name = rest
    if "/" in name and provider in ("aws", "azure", "openai", "anthropic", "x-ai", "deepseek"):
        return None  # region, data zone, commitment or other route, not a model name
    return name or None


def _prices(entry: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for litellm_key, table_key in PRICE_KEYS.items():
        base = _per_million(entry.get(litellm_key + suffix))
        tiers = sorted(
            (int(k[len(litellm_key) + 7:-len("k_tokens" + suffix)]) * 1000, price)
            for k in entry
            if k.startswith(litellm_key + "_above_") and k.endswith("k_tokens" + suffix)
            and k[len(litellm_key) + 7:-len("k_tokens" + suffix)].isdigit()
            and (price := _per_million(entry[k])) is not None
        )
        if base is None:
            continue
        out[table_key] = {"base": base, "tiers": [list(t) for t in tiers]} if tiers else base
    return out


def _base(price: Any) -> float:
    return float(price["base"]) if isinstance(price, dict) else float(price)


def _per_million(value: Any) -> float | None:
    """USD per token -> USD per 1M tokens, rounded to 12 significant digits (2.8e-07 -> 0.28, not 0.27999...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(f"{value * 1_000_000:.12g}")
