"""Provider-neutral token counts of one LLM call.

Semantics follow the GenAI conventions so that pricing never has to know which SDK reported them:
``input_tokens`` INCLUDES cache-read and cache-write tokens, ``output_tokens`` INCLUDES reasoning tokens.
Provider adapters convert their SDK's fields into this shape (Anthropic: add the cache counts to input;
Gemini: add thoughts to output). ``None`` means "not reported", never zero.

A plain slotted class rather than a dataclass: it is built on every instrumented call and imported by
the pricing module, whose import time we keep small.
"""

from __future__ import annotations

from operator import attrgetter

USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "output_image_tokens",
    "requests",
    "web_searches",
    "output_images",
    "rerank_searches",
    "document_pages",
    "audio_seconds",
)

# The largest count one call may report: a trillion, four orders of magnitude past any context window. Anything
# larger is a broken report, and dangerous to record: the exporters carry cumulative counters as int64 (a count
# of 2**63 makes every later metrics export fail) and histogram sums as doubles (exact only up to 2**53).
MAX_COUNT = 10**12


_counts = attrgetter(*USAGE_FIELDS)  # all counts in one C call: the check runs on every call (under 1 µs)


def usage_problem(usage: Usage) -> str | None:
    """Why ``usage`` is not a valid report (a count that is not a whole number in 0..MAX_COUNT), or None."""
    for value in _counts(usage):
        if value is not None and (value.__class__ is not int or not 0 <= value <= MAX_COUNT):
            return _describe(usage)
    return None


def _describe(usage: Usage) -> str:
    for name in USAGE_FIELDS:
        value = getattr(usage, name)
        if value is None or (value.__class__ is int and 0 <= value <= MAX_COUNT):
            continue
        if value.__class__ is not int:
            return f"{name} is not a whole number: {type(value).__name__}"
        if value < 0:
            return f"{name} is negative" + (f": {value}" if value >= -MAX_COUNT else "")
        return f"{name} is larger than {MAX_COUNT}"
    return "no problem"


class Usage:
    """Token usage of one call; every subset count is included in its total.

    ``cache_write_tokens`` counts all cache writes (5 min + 1 h); ``cache_write_1h_tokens`` is the 1-hour
    subset. ``requests``, ``web_searches`` and ``rerank_searches`` (Cohere's billed search units) are priced per
    unit where a table has such prices; ``output_images`` per image generated (Imagen), where the table has a
    per-image price; ``document_pages`` (OCR) and ``audio_seconds`` (transcription) per page and per unit of
    audio duration. A call reporting only such units (an OCR call, a rerank, an Imagen call) is still priced.
    """

    __slots__ = USAGE_FIELDS

    def __init__(
        self,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        cache_write_1h_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        input_audio_tokens: int | None = None,
        output_audio_tokens: int | None = None,
        input_image_tokens: int | None = None,
        output_image_tokens: int | None = None,
        requests: int = 1,
        web_searches: int | None = None,
        output_images: int | None = None,
        rerank_searches: int | None = None,
        document_pages: int | None = None,
        audio_seconds: int | None = None,
    ) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_write_tokens = cache_write_tokens
        self.cache_write_1h_tokens = cache_write_1h_tokens
        self.reasoning_tokens = reasoning_tokens
        self.input_audio_tokens = input_audio_tokens
        self.output_audio_tokens = output_audio_tokens
        self.input_image_tokens = input_image_tokens
        self.output_image_tokens = output_image_tokens
        self.requests = requests
        self.web_searches = web_searches
        self.output_images = output_images
        self.rerank_searches = rerank_searches
        self.document_pages = document_pages
        self.audio_seconds = audio_seconds

    def as_dict(self) -> dict[str, int]:
        """The counts that were reported (``None`` left out)."""
        return {name: v for name in USAGE_FIELDS if (v := getattr(self, name)) is not None}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Usage):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in USAGE_FIELDS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in USAGE_FIELDS))

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"Usage({parts})"
