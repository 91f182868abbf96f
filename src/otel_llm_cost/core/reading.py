"""Reading SDK requests and responses by path: objects (pydantic or plain) and mappings (boto3, LiteLLM dicts) alike.

A provider declares where a fact lives as a path string (``"usage.prompt_tokens_details.cached_tokens"``,
``"choices[].finish_reason"``); ``compile_path`` turns it once into a reader, so the per-call cost is a few
dict lookups, never string parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

Reader = Callable[[Any], Any]


def given(value: Any) -> bool:
    """False for None and the SDKs' NOT_GIVEN / omit sentinels (for reading request keyword arguments)."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def whole(value: Any) -> int | None:
    """A reported token count when it is a real int (not bool, not a sentinel), else None."""
    return value if value.__class__ is int else None


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``, None when absent, for reading SDK responses. A pydantic model answers a
    missing attribute slowly (its ``__getattr__``, ~3 µs, several times a call); its fields are in ``__dict__``
    and extras (e.g. OpenRouter's ``usage.cost``) in ``__pydantic_extra__``, so look there first."""
    fields = getattr(obj, "__dict__", None)
    if fields is not None:
        if name in fields:
            return fields[name]
        if hasattr(type(obj), "model_fields"):  # a pydantic v2 model without that field: maybe an extra
            extra = getattr(obj, "__pydantic_extra__", None)
            return extra.get(name) if extra else None
    elif isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


class _Fields:
    """``field()`` of one object behind a mapping's ``get``: for objects whose fields are not one dict."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def get(self, name: str) -> Any:
        return field(self.obj, name)

    def __contains__(self, name: str) -> bool:  # ``view[name] if name in view else None`` is ``get`` too
        return True

    __getitem__ = get


def fields_of(obj: Any) -> Mapping[str, Any] | _Fields:
    """Something whose ``get(name)`` is ``field(obj, name)``: for a pydantic model (every SDK response), its
    ``__dict__`` itself (with its extras, when it has any), read with no function call of ours per field; a
    mapping as it is. Read several facts of one object through it (one lookup per fact, not a ``field()``).
    Attribute syntax, not ``getattr``: no call at all for a model."""
    try:
        fields = obj.__dict__
    except AttributeError:
        return obj if isinstance(obj, Mapping) else _Fields(obj)
    try:
        extra = obj.__pydantic_extra__  # a pydantic v2 model: its fields are all in __dict__, extras beside
    except AttributeError:
        return _Fields(obj)  # another object: missing keys may be properties or class attributes
    if not extra:
        return fields if fields.__class__ is dict else _Fields(obj)
    return {**extra, **fields}


def compile_path(path: str) -> Reader:
    """A reader for ``a.b.c`` (None as soon as a step is missing); ``a[].b`` reads ``b`` of every item of the
    list ``a`` and gives the list of those that are present (empty when none). One-step paths and projections
    get a closure of their own: streams read them on every item."""
    head, sep, rest = path.partition("[].")
    get = _getter(tuple(head.removesuffix("[]").split(".")))
    if not sep:
        return get
    if "." not in rest and "[]" not in rest:
        def each_field(obj: Any) -> Any:
            items = get(obj)
            if not isinstance(items, (list, tuple)):
                return []
            return [v for item in items if (v := field(item, rest)) is not None]

        return each_field
    tail = compile_path(rest)

    def each(obj: Any) -> Any:
        items = get(obj)
        if not isinstance(items, (list, tuple)):
            return []
        return [v for v in map(tail, items) if v is not None]

    return each


def _getter(steps: tuple[str, ...]) -> Reader:
    if len(steps) == 1:
        return partial(field, name=steps[0])  # called in C: no Python frame of its own
    return partial(_walk, steps=steps)


def compile_first(paths: str | tuple[str, ...] | None) -> Reader | None:
    """A reader of the first path that is present (a provider reporting a fact in one of several places)."""
    if paths is None:
        return None
    if isinstance(paths, str):
        return compile_path(paths)
    readers = tuple(compile_path(p) for p in paths)

    def first(obj: Any) -> Any:
        for read in readers:
            value = read(obj)
            if value is not None:
                return value
        return None

    return first


def _walk(obj: Any, steps: tuple[str, ...]) -> Any:
    for name in steps:
        if obj is None:
            return None
        obj = field(obj, name)
    return obj
