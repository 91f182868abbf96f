"""Model-name matching: the table's match clauses, and the normalisations that turn what SDKs send into ids.

Everything here runs once per distinct (provider, model) thanks to the price book's memo, never per call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # not `from typing`: importing typing is a large part of this package's import time
if TYPE_CHECKING:
    from typing import Any

Matcher = Callable[[str], bool]


def compile_clause(clause: dict[str, Any]) -> Matcher:
    """A predicate on a lower-cased model name from a table clause (equals/starts_with/.../or/and)."""
    if "or" in clause:
        parts = [compile_clause(c) for c in clause["or"]]
        return lambda name: any(p(name) for p in parts)
    if "and" in clause:
        parts = [compile_clause(c) for c in clause["and"]]
        return lambda name: all(p(name) for p in parts)
    if "equals" in clause:
        value = clause["equals"].lower()
        return lambda name: name == value
    if "starts_with" in clause:
        prefix = clause["starts_with"].lower()
        return lambda name: name.startswith(prefix)
    if "ends_with" in clause:
        suffix = clause["ends_with"].lower()
        return lambda name: name.endswith(suffix)
    if "contains" in clause:
        part = clause["contains"].lower()
        return lambda name: part in name
    if "regex" in clause:
        pattern = re.compile(clause["regex"])
        return lambda name: pattern.search(name) is not None
    raise ValueError(f"unknown match clause: {clause!r}")


def exact_names(clause: dict[str, Any]) -> Iterator[str]:
    """The literal names a clause accepts through ``equals`` inside an ``or`` (for the exact-name index)."""
    if "equals" in clause:
        yield clause["equals"].lower()
    for sub in clause.get("or", ()):
        yield from exact_names(sub)


_COMPACT_DATE = re.compile(r"-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")
_DASHED_DATE_SUFFIX = re.compile(r"-(20\d{2}-\d{2}-\d{2}|20\d{6}|\d{4})$")
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$")
_BEDROCK_GEO = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


def compact_date_to_dashed(name: str) -> str:
    """``gpt-5.2-20251211`` -> ``gpt-5.2-2025-12-11`` (LiteLLM/OpenRouter style ids)."""
    return _COMPACT_DATE.sub(lambda m: f"-{m.group(1)}-{m.group(2)}-{m.group(3)}", name)


def normalised_candidates(name: str) -> list[str]:
    """Other spellings of ``name`` to try after the table's own rules failed on it, best first.

    Covers: ``models/`` and ``publishers/*/models/`` prefixes, ARNs (foundation models, inference
    profiles), Bedrock geo prefixes, Vertex ``@date``, ``provider/model`` gateway ids (also a route in front of a
    namespaced id: ``openrouter/openai/gpt-4o-mini``), dated snapshots (dashed
    or compact) and Bedrock ``-v1:0`` version suffixes. A fine-tune (``ft:base:org::id``) only ever becomes
    ``ft:base`` spellings: fine-tuned inference costs more than its base model, so the base model's price
    would be wrong (``fine_tuned_candidates``).
    """
    out: list[str] = []

    def add(candidate: str) -> None:
        if candidate and candidate != name and candidate not in out:
            out.append(candidate)

    base = name.strip().lower()
    if is_fine_tuned(base):
        for candidate in fine_tuned_candidates(base):
            add(candidate)
        return out
    add(base)
    if base.startswith("arn:"):
        base = base.rsplit("/", 1)[-1]
        add(base)
    for prefix in ("models/",):
        if base.startswith(prefix):
            base = base[len(prefix):]
            add(base)
    if base.startswith("publishers/") and "/models/" in base:
        base = base.split("/models/", 1)[1]
        add(base)
    if "@" in base:
        base = base.split("@", 1)[0]
        add(base)
    if "/" in base:
        parts = base.split("/")
        for i in range(1, len(parts) - 1):  # a gateway's route in front of a namespaced id (LiteLLM's
            add("/".join(parts[i:]))  # "openrouter/openai/gpt-4o-mini", "together_ai/meta-llama/...")
        base = parts[-1]
        add(base)
    add(compact_date_to_dashed(base))
    for geo in _BEDROCK_GEO:
        if base.startswith(geo):
            base = base[len(geo):]
            add(base)
            break
    unversioned = _BEDROCK_VERSION.sub("", base)
    add(unversioned)
    if "." in unversioned.split("-", 1)[0]:
        # Bedrock "anthropic.claude-..." -> "claude-..."
        add(unversioned.split(".", 1)[1])
    for candidate in list(out):
        add(_DASHED_DATE_SUFFIX.sub("", candidate))
    return out


def is_fine_tuned(name: str) -> bool:
    """An OpenAI fine-tune name (``ft:gpt-4.1-2025-04-14:org::id``), also behind a gateway prefix."""
    return name.startswith("ft:") or "/ft:" in name


def fine_tuned_candidates(name: str) -> list[str]:
    """``openai/ft:gpt-4.1-2025-04-14:org:suffix:id`` -> ``ft:gpt-4.1-2025-04-14``, ``ft:gpt-4.1``: the
    fine-tune's base snapshot, always with its ``ft:`` kept."""
    name = name[name.index("ft:"):]
    snapshot = "ft:" + name[3:].split(":", 1)[0]
    out = [snapshot, compact_date_to_dashed(snapshot)]
    out += [_DASHED_DATE_SUFFIX.sub("", candidate) for candidate in out]
    return list(dict.fromkeys(out))
