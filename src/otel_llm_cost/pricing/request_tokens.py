"""Input tokens of a chat request, counted without network: a (low, high) range that contains the real count.

With ``tiktoken`` installed and its encoding loadable offline (cached), OpenAI models are counted with their own
tokenizer. Otherwise, and for every other provider, the documented bound:

- high: every string of the request (messages, system prompt, tools, schemas) at one token per UTF-8 byte (no
  byte-level BPE or SentencePiece token is shorter than a byte), plus ``MESSAGE_OVERHEAD`` per message,
  ``REQUEST_OVERHEAD``, ``TOOL_OVERHEAD`` per tool, Anthropic's tool-use system prompt when tools are given
  (``ANTHROPIC_TOOL_PROMPT``, plus ``BUILTIN_TOOL_TOKENS`` per Anthropic-defined tool) and ``IMAGE_TOKENS`` per
  image (images are billed by their size, not their bytes);
- low: one token per word and per group of up to three digits of the message text (tokenizers split there).

The tokenizer is never loaded on the caller's time for long: a first load waits at most ``TOKENIZER_WAIT_S``
(tiktoken downloads a missing encoding); meanwhile and after a failure, the bound is used.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("otel_llm_cost.pricing")

MESSAGE_OVERHEAD = 8  # per message: role and turn markers (OpenAI documents 3, +1 for a name)
REQUEST_OVERHEAD = 16  # per request: the reply priming (OpenAI: 3) and a provider's fixed framing
TOOL_OVERHEAD = 16  # per tool definition, besides the text of its JSON
ANTHROPIC_TOOL_PROMPT = 600  # Anthropic adds a tool-use system prompt (its published table: at most 530 tokens)
BUILTIN_TOOL_TOKENS = 1_500  # per Anthropic-defined tool (bash, text editor, computer use): prompt + definition
IMAGE_TOKENS = 6_000  # per image: the providers' image token formulas stay below this at their largest sizes
TOKENIZER_WAIT_S = 2.0

ANTHROPIC_PROVIDERS = frozenset({"anthropic", "aws.bedrock", "gcp.vertex_ai"})
OPENAI_PROVIDERS = frozenset({"openai", "azure.ai.openai", "azure"})
# Request keywords that never reach the model as tokens.
_NOT_PROMPT = frozenset({"model", "metadata", "extra_headers", "extra_query", "timeout", "user", "service_tier",
                         "store", "stream", "stream_options", "prompt_cache_key", "safety_identifier", "max_tokens",
                         "max_completion_tokens", "max_output_tokens", "temperature", "top_p", "top_k", "n", "seed",
                         "logprobs", "top_logprobs", "frequency_penalty", "presence_penalty", "parallel_tool_calls"})
# Request keywords holding schemas (tool definitions, structured-output formats): their whole JSON counts, keys too.
_SCHEMAS = frozenset({"tools", "functions", "tool_choice", "response_format", "text", "output_config"})
# Keys whose string value is text the model reads (counted for the low bound).
_TEXT_KEYS = frozenset({"content", "text", "system", "instructions", "input", "prompt", "thinking", "arguments",
                        "contents"})
_IMAGE_TYPES = frozenset({"image", "image_url", "input_image"})
_WORDS = re.compile(r"(?<!['’])[^\W\d_]+|\d{1,3}")


@dataclass(frozen=True)
class TokenRange:
    low: int
    high: int
    cache_marked: bool  # the request marks a prompt-cache breakpoint (``cache_control``)
    counted_by: str  # "tiktoken:<encoding>" or "bound"


class _Parts:
    """What the walk over a request found."""

    def __init__(self) -> None:
        self.all_text: list[str] = []
        self.model_text: list[str] = []
        self.messages = 0
        self.images = 0
        self.cache_marked = False


def _plain(node: Any) -> Any:
    """SDK objects (pydantic models) as plain data; sentinels (NOT_GIVEN, omit) as None."""
    if type(node).__name__ in ("NotGiven", "Omit"):
        return None
    dump = getattr(node, "model_dump", None)
    if callable(dump):
        return dump(exclude_none=True)
    return node


def _walk(node: Any, key: str | None, parts: _Parts) -> None:
    node = _plain(node)
    if node is None or isinstance(node, (bool, int, float)):
        return
    if isinstance(node, str):
        parts.all_text.append(node)
        if key in _TEXT_KEYS:
            parts.model_text.append(node)
        return
    if isinstance(node, Mapping):
        if "cache_control" in node:
            parts.cache_marked = True
        if node.get("type") in _IMAGE_TYPES:
            parts.images += 1
            return
        if "role" in node:
            parts.messages += 1
        for child_key, child in node.items():
            if child_key != "cache_control":
                _walk(child, str(child_key), parts)
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            _walk(item, key, parts)
        return
    parts.all_text.append(str(node))  # an object we do not know: its text, for the high bound


def _walk_request(request: Mapping[str, Any], parts: _Parts) -> None:
    for key, value in request.items():
        value = _plain(value)
        if key in _NOT_PROMPT or value is None:
            continue
        if key in ("input", "prompt") and isinstance(value, str):
            parts.messages += 1  # a Responses-style input string is one user message
        if key in _SCHEMAS:
            parts.all_text.append(json.dumps(value, default=str, ensure_ascii=False))
            parts.cache_marked = parts.cache_marked or "cache_control" in parts.all_text[-1]
        else:
            if key in ("system", "instructions"):
                parts.messages += 1  # a system prompt outside the messages is framed like one
            _walk(value, str(key), parts)


def request_of(messages: Any) -> Mapping[str, Any]:
    """The request keyword arguments from what ``estimate_cost`` was given: a whole request mapping (messages,
    system, tools...), a list of messages, one message, or a plain prompt string."""
    messages = _plain(messages)
    if isinstance(messages, Mapping) and "role" not in messages:
        return messages
    if isinstance(messages, (str, Mapping)):
        return {"messages": [messages if isinstance(messages, Mapping) else {"role": "user", "content": messages}]}
    if isinstance(messages, Iterable):
        return {"messages": list(messages)}
    raise TypeError(f"messages must be a prompt string, a list of messages or a request mapping, "
                    f"not {type(messages).__name__}")


def count_request(provider: str, model: str, request: Mapping[str, Any]) -> TokenRange:
    """The (low, high) input tokens of ``request`` for ``model`` at ``provider``."""
    parts = _Parts()
    _walk_request(request, parts)
    encoding = _encoding_for(provider, model)
    if encoding is not None:
        upper = lower = _tiktoken_counter(encoding)
        counted_by = f"tiktoken:{encoding.name}"
    else:
        upper, lower, counted_by = _utf8_bytes, _words, "bound"
    given_tools = _plain(request.get("tools"))
    tools: list[Any] = list(given_tools) if isinstance(given_tools, (list, tuple)) else []
    tool_count = len(tools)
    high = (sum(upper(text) for text in parts.all_text) + MESSAGE_OVERHEAD * parts.messages + REQUEST_OVERHEAD
            + TOOL_OVERHEAD * tool_count + IMAGE_TOKENS * parts.images)
    if tool_count and provider in ANTHROPIC_PROVIDERS:
        # Anthropic-defined tools ({"type": "bash_20250124", ...}) are rendered from a long built-in definition.
        builtin = sum(isinstance(tool, Mapping) and "input_schema" not in tool
                      and tool.get("type") not in (None, "custom") for tool in tools)
        high += ANTHROPIC_TOOL_PROMPT + BUILTIN_TOOL_TOKENS * builtin
    low = sum(lower(text) for text in parts.model_text)
    return TokenRange(low, high, parts.cache_marked, counted_by)


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _words(text: str) -> int:
    return len(_WORDS.findall(text))


def _tiktoken_counter(encoding: Any) -> Any:
    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return count


# -- tiktoken, when installed and its encoding loads without waiting on the network ------------------------

class _Loader:
    """Loads one tiktoken encoding on a daemon thread; the result is None until (and unless) it loaded."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = threading.Event()
        self.encoding: Any = None
        threading.Thread(target=self._load, name=f"otel-llm-cost-tiktoken-{name}", daemon=True).start()

    def _load(self) -> None:
        try:
            self.encoding = _load_encoding(self.name)
        except BaseException as exc:  # no network, no cache, a broken install: the documented bound is used
            logger.info("otel-llm-cost: tiktoken encoding %r not available (%s: %s); counting request tokens with "
                        "the byte bound instead", self.name, type(exc).__name__, exc)
        finally:
            self.done.set()


def _load_encoding(name: str) -> Any:
    import tiktoken

    return tiktoken.get_encoding(name)


_loaders: dict[str, _Loader] = {}
_loaders_lock = threading.Lock()


def _encoding_name(provider: str, model: str) -> str | None:
    """tiktoken's encoding for an OpenAI model (o200k_base for OpenAI models it does not know yet)."""
    try:
        import tiktoken
    except Exception:
        return None
    try:
        return str(tiktoken.encoding_name_for_model(model.split("/")[-1]))
    except Exception:
        return "o200k_base" if provider in OPENAI_PROVIDERS else None


def _encoding_for(provider: str, model: str) -> Any:
    """The loaded encoding, or None (not installed, not an OpenAI model, not loadable, or still loading)."""
    if provider not in OPENAI_PROVIDERS:
        return None
    name = _encoding_name(provider, model)
    if name is None:
        return None
    with _loaders_lock:
        loader = _loaders.get(name)
        first = loader is None
        if loader is None:
            loader = _loaders[name] = _Loader(name)
    if first:
        loader.done.wait(TOKENIZER_WAIT_S)
    return loader.encoding if loader.done.is_set() else None
