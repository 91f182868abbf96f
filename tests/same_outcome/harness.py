"""Runs the same-outcome property for one ``ProviderCase`` (the interface is described in provider_case.py).

Scenarios are drawn from a seed: a surface, how the application consumes the result (read all, abandon, close
early, raise mid-stream, after k items), and a ``Plan`` of what goes wrong on the wire. Every scenario runs
first uninstrumented, then (after one ``instrument()``) instrumented, on the same clients. Per instrumented
scenario the harness asserts: the same observations (``snap`` of every object the app read, the exception
type and message it got); no exception whose innermost frame is ours; no failure swallowed and logged by us;
exactly one span of ours ended once the call is over (after a garbage collection for an abandoned stream),
none ended twice; and the books agree: the cost histogram counts the priced spans, its sum and the cost
counters' equal the spans' amounts (up to float summation order across series: 1e-12 relative), the unpriced
counter counts the unpriced spans, and token counters and histograms carry exactly the spans' tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from provider_case import STREAMED, ProviderCase, Surface, apply_plan, draw_plan, respond

import otel_llm_cost
from telemetry_fixtures import Otel

OURS = str(Path(otel_llm_cost.__file__).parent)
CONSUMPTIONS = ("all", "all", "abandon", "close", "raise")


class AppStopped(Exception):
    """What the application raises inside its ``with`` block, mid-stream."""


@dataclass(frozen=True)
class Scenario:
    number: int
    seed: int
    surface: Surface
    how: str  # all | abandon | close | raise
    k: int  # items read before abandoning, closing or raising

    def __str__(self) -> str:
        return f"#{self.number} seed={self.seed} {self.surface.name} how={self.how} k={self.k}"


def scenarios(case: ProviderCase, count: int, base_seed: int) -> list[Scenario]:
    rng = random.Random(f"{case.name}:{base_seed}")
    out = []
    for number in range(count):
        surface = rng.choice(case.surfaces)
        how = rng.choice(CONSUMPTIONS) if surface.shape in STREAMED else "all"
        out.append(Scenario(number, rng.getrandbits(48), surface, how, rng.randrange(0, 6)))
    return out


# -- what the application sees ---------------------------------------------------------------------------

def snap(obj: Any) -> Any:
    """What an application can see of ``obj``: its type and its dumps (all fields, and the fields sent)."""
    if isinstance(obj, pydantic.BaseModel):
        try:
            return (type(obj).__qualname__, obj.model_dump(warnings=False),
                    obj.model_dump(exclude_unset=True, warnings=False))
        except Exception as exc:  # a mistyped value the SDK kept and pydantic cannot dump: the same both times
            return (type(obj).__qualname__, "undumpable", type(exc).__qualname__)
    if isinstance(obj, (list, tuple)):
        return [snap(item) for item in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {key: snap(value) for key, value in obj.items()}
    return type(obj).__qualname__


def snap_error(error: BaseException) -> tuple[str, ...]:
    if isinstance(error, AppStopped):
        return ("app stopped",)
    return ("raised", f"{type(error).__module__.split('.')[0]}.{type(error).__qualname__}", str(error))


def _read(items: Iterator[Any], k: int | None, out: list[Any]) -> None:
    for n, item in enumerate(items):
        out.append(snap(item))
        if k is not None and n + 1 >= k:
            break


def consume(scenario: Scenario, result: Any, out: list[Any]) -> None:
    """Use a sync result the way the scenario's application does."""
    shape, how, k = scenario.surface.shape, scenario.how, scenario.k
    if shape == "plain":
        out.append(snap(result))
    elif shape in ("raw", "raw_stream"):
        out.append(result.http_response.status_code)
        parsed = result.parse()
        _consume_stream(parsed, how, k, out) if shape == "raw_stream" else out.append(snap(parsed))
    elif shape in ("streaming_response", "streaming_response_stream"):
        with result as response:
            parsed = response.parse()
            _consume_stream(parsed, how, k, out) if shape.endswith("_stream") else out.append(snap(parsed))
    elif shape == "stream":
        _consume_stream(result, how, k, out, scenario.surface.context_manager)
    elif shape == "generator":
        if how == "raise":  # a generator's way to leave early by an exception: closing() it
            with contextlib.closing(result):
                _read(iter(result), k, out)
                raise AppStopped
        _read(iter(result), None if how == "all" else k, out)
        if how == "close":
            result.close()
    elif how == "abandon":  # a helper: a stream manager
        _read(iter(result.__enter__()), k, out)
    else:
        with result as stream:
            _read(iter(stream), None if how == "all" else k, out)
            if how == "all" and scenario.surface.final is not None:
                out.append(snap(scenario.surface.final(stream)))
            if how == "raise":
                raise AppStopped


def _consume_stream(stream: Any, how: str, k: int, out: list[Any], context_manager: bool = True) -> None:
    if how == "all":
        _read(iter(stream), None, out)
    elif how == "abandon":
        _read(iter(stream), k, out)
    elif how == "close":
        _read(iter(stream), k, out)
        stream.close()
    elif not context_manager:  # a plain generator: the app raises mid-iteration, no with block
        _read(iter(stream), k, out)
        raise AppStopped
    else:
        with stream:
            _read(iter(stream), k, out)
            raise AppStopped


async def _aread(items: Any, k: int | None, out: list[Any]) -> None:
    n = 0
    async for item in items:
        out.append(snap(item))
        n += 1
        if k is not None and n >= k:
            break


async def consume_async(scenario: Scenario, result: Any, out: list[Any]) -> None:
    """Use an async result the way the scenario's application does."""
    shape, how, k = scenario.surface.shape, scenario.how, scenario.k
    if shape == "plain":
        out.append(snap(result))
    elif shape in ("raw", "raw_stream"):
        out.append(result.http_response.status_code)
        parsed = result.parse()  # synchronous in openai's async raw response, a coroutine in anthropic's
        if hasattr(parsed, "__await__"):
            parsed = await parsed
        await _consume_astream(parsed, how, k, out) if shape == "raw_stream" else out.append(snap(parsed))
    elif shape in ("streaming_response", "streaming_response_stream"):
        async with result as response:
            parsed = await response.parse()
            if shape.endswith("_stream"):
                await _consume_astream(parsed, how, k, out)
            else:
                out.append(snap(parsed))
    elif shape == "stream":
        await _consume_astream(result, how, k, out, scenario.surface.context_manager)
    elif shape == "generator":
        if how == "raise":
            async with contextlib.aclosing(result):
                await _aread(result, k, out)
                raise AppStopped
        await _aread(result, None if how == "all" else k, out)
        if how == "close":
            await result.aclose()
    elif how == "abandon":
        await _aread(await result.__aenter__(), k, out)
    else:
        async with result as stream:
            await _aread(stream, None if how == "all" else k, out)
            if how == "all" and scenario.surface.final is not None:
                out.append(snap(await scenario.surface.final(stream)))
            if how == "raise":
                raise AppStopped


async def _consume_astream(stream: Any, how: str, k: int, out: list[Any], context_manager: bool = True) -> None:
    if how in ("all", "abandon"):
        await _aread(stream, None if how == "all" else k, out)
    elif how == "close":
        await _aread(stream, k, out)
        await (stream.close() if context_manager else stream.aclose())  # an async generator has only aclose()
    elif not context_manager:
        await _aread(stream, k, out)
        raise AppStopped
    else:
        async with stream:
            await _aread(stream, k, out)
            raise AppStopped


# -- the server ------------------------------------------------------------------------------------------

class Server:
    """Answers every request with the case's answer, damaged by the current scenario's plan."""

    def __init__(self, case: ProviderCase) -> None:
        self.case = case
        self.scenario: Scenario | None = None
        self.plan = ""

    def handle(self, request: Any, is_async: bool) -> Any:
        assert self.scenario is not None
        case = self.case
        body = json.loads(request.content or b"{}")
        rng = random.Random(self.scenario.seed)
        style = rng.choice(case.styles)
        case.set_style(style)
        as_sent = case.unasked(body)
        unasked = case.answer(as_sent, request.url)
        for _ in range(50):
            plan = draw_plan(rng, case, unasked, style)
            if plan.failure or not case.indistinguishable(apply_plan(plan, case, case.answer(as_sent, request.url)),
                                                          style, request.url):
                break
        self.plan = str(plan)
        wire = unasked if as_sent == body else case.answer(body, request.url)
        return respond(case, apply_plan(plan, case, wire), plan.break_after, is_async)


# -- one run of every scenario -----------------------------------------------------------------------------

class _Swallowed(logging.Handler):
    """Failures our code caught and logged (with a traceback), and spans ended twice (the SDK's warning)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (record.exc_info and record.name == "otel_llm_cost") or "ended span" in message \
                or (record.name.startswith("opentelemetry") and record.levelno >= logging.WARNING):
            self.records.append(f"{record.name}: {message} {record.exc_info[1]!r}" if record.exc_info else message)


@dataclass
class Books:
    """Running totals of what the spans recorded (in the order they ended)."""

    spans: int = 0
    cost: float = 0.0
    priced: int = 0
    unpriced: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    input_points: int = 0
    output_points: int = 0


class Runner:
    """Runs a case's scenarios without, then with instrumentation, and checks each instrumented one."""

    def __init__(self, case: ProviderCase, otel: Otel) -> None:
        self.case = case
        self.otel = otel
        self.server = Server(case)
        self.loop = asyncio.new_event_loop()
        self.clients = self.new_clients()
        self.books = Books()
        self.swallowed = _Swallowed()
        gc.collect()
        gc.freeze()  # what exists now (the price table...) is not scanned again: collect_garbage() stays cheap

    def new_clients(self) -> dict[bool, Any]:
        """Clients made after (un)instrumenting, as apps do: the SDK's resources keep the methods they first
        bound (``with_streaming_response`` caches a wrapper of ``create`` as it was then)."""
        return {is_async: self.case.client(lambda r, a=is_async: self.server.handle(r, a), is_async)
                for is_async in (False, True)}

    def collect_garbage(self) -> None:
        """Collect an abandoned stream: an async one's generator is closed by the event loop, on its next run."""
        gc.collect()
        for _ in range(3):
            self.loop.run_until_complete(asyncio.sleep(0))
        gc.collect()

    def close(self) -> None:
        gc.unfreeze()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def run(self, scenario: Scenario) -> tuple[list[Any], list[str]]:
        """What the application observed, and where the exception it got was raised (the innermost frame's file;
        the exception itself is not kept: its traceback would keep an abandoned stream alive)."""
        self.server.scenario, self.server.plan = scenario, "(no request)"
        out: list[Any] = []
        errors: list[str] = []
        client = self.clients[scenario.surface.is_async]
        try:
            if scenario.surface.is_async:
                async def main() -> None:
                    result = scenario.surface.call(client)  # a coroutine, or a (stream) context manager
                    await consume_async(scenario, await result if hasattr(result, "__await__") else result, out)

                self.loop.run_until_complete(main())
            else:
                consume(scenario, scenario.surface.call(client), out)
        except Exception as error:
            out.append(snap_error(error))
            if not isinstance(error, AppStopped):
                errors.append(_innermost(error))
        return out, errors

    def uninstrumented(self, all_scenarios: list[Scenario]) -> list[list[Any]]:
        otel_llm_cost.uninstrument()
        self.clients = self.new_clients()
        try:
            outcomes = []
            for scenario in all_scenarios:
                outcomes.append(self.run(scenario)[0])
                if scenario.how == "abandon" or (scenario.how == "raise" and scenario.surface.shape == "generator"):
                    self.collect_garbage()
            return outcomes
        finally:
            self.otel.reinstrument()
            self.clients = self.new_clients()

    def check_all(self, all_scenarios: list[Scenario]) -> int:
        """Run every scenario twice and check it; returns how many ran."""
        expected = self.uninstrumented(all_scenarios)
        loggers = [logging.getLogger("otel_llm_cost"), logging.getLogger("opentelemetry")]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.addHandler(self.swallowed)
            lg.setLevel(logging.DEBUG)
        try:
            for scenario, before in zip(all_scenarios, expected, strict=True):
                observed, errors = self.run(scenario)
                problems = self.check(scenario, before, observed, errors)
                if problems:
                    raise AssertionError(f"{self.case.name} {scenario} plan: {self.server.plan}\n  "
                                         + "\n  ".join(problems))
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.removeHandler(self.swallowed)
                lg.setLevel(level)
        return len(all_scenarios)

    def check(self, scenario: Scenario, before: list[Any], observed: list[Any], errors: list[str]) -> list[str]:
        problems = []
        if observed != before:
            diverged = next((i for i, (a, b) in enumerate(zip(before, observed, strict=False)) if a != b),
                            min(len(before), len(observed)))
            without, with_us = before[diverged:diverged + 1], observed[diverged:diverged + 1]
            problems.append(f"the app saw something else at observation {diverged}: without us {_short(without)}, "
                            f"with us {_short(with_us)} ({len(before)} vs {len(observed)} observations)")
        problems += [f"the app's exception was raised in our frame {frame}" for frame in errors
                     if frame.startswith(OURS)]
        spans = self._ended_spans()
        # a plain generator left by an exception or closed is abandoned too: the SDK's outer generator closes,
        # and the stream it was reading (ours inside) ends when collected
        left = scenario.how == "abandon" or (scenario.how in ("raise", "close")
                                             and not scenario.surface.context_manager)
        if not spans and left:
            self.collect_garbage()
            spans = self._ended_spans()
        if len(spans) != 1:
            problems.append(f"{len(spans)} spans ended when the call was over (expected 1)")
        if self.swallowed.records:
            problems.append(f"caught inside the instrumentation: {self.swallowed.records[:3]}")
            self.swallowed.records.clear()
        for span in spans:
            self._book(span.attributes or {})
        problems += self._check_metrics()
        return problems

    def _ended_spans(self) -> list[Any]:
        spans = [s for s in self.otel.spans.get_finished_spans() if s.instrumentation_scope.name == "otel_llm_cost"]
        self.otel.spans.clear()
        return spans

    def _book(self, attrs: Any) -> None:
        books = self.books
        books.spans += 1
        if "gen_ai.usage.cost.amount" in attrs:
            books.priced += 1
            books.cost += attrs["gen_ai.usage.cost.amount"]
        if "llm_cost.unpriced_reason" in attrs:
            books.unpriced += 1
        if "gen_ai.usage.input_tokens" in attrs:
            books.input_points += 1
            books.input_tokens += attrs["gen_ai.usage.input_tokens"]
        if "gen_ai.usage.output_tokens" in attrs:
            books.output_points += 1
            books.output_tokens += attrs["gen_ai.usage.output_tokens"]

    def _check_metrics(self) -> list[str]:
        metrics = self.otel.metrics()
        books = self.books

        def points(name: str, **attrs: Any) -> list[Any]:
            return [p for p in metrics.get(name, []) if all(p.attributes.get(k) == v for k, v in attrs.items())]

        def total(name: str, **attrs: Any) -> Any:
            return sum(p.value for p in points(name, **attrs))

        cost_hist = points("gen_ai.client.operation.cost")
        hist_count, hist_sum = sum(p.count for p in cost_hist), sum(p.sum for p in cost_hist)
        counted = math.fsum(p.value for p in points("gen_ai.client.cost"))
        tokens_in = points("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"})
        tokens_out = points("gen_ai.client.token.usage", **{"gen_ai.token.type": "output"})
        problems = []
        for what, got, want in (
            ("cost histogram count", hist_count, books.priced),
            ("unpriced counter", total("gen_ai.client.operation.unpriced"), books.unpriced),
            ("input token counter", total("gen_ai.client.inference.usage.input_tokens"), books.input_tokens),
            ("output token counter", total("gen_ai.client.inference.usage.output_tokens"), books.output_tokens),
            ("input token histogram", (sum(p.count for p in tokens_in), sum(p.sum for p in tokens_in)),
             (books.input_points, books.input_tokens)),
            ("output token histogram", (sum(p.count for p in tokens_out), sum(p.sum for p in tokens_out)),
             (books.output_points, books.output_tokens)),
        ):
            if got != want:
                problems.append(f"{what}: metrics {got!r}, spans {want!r}")
        for what, got in (("cost counters", counted), ("cost histogram sum", hist_sum)):
            # the same amounts, summed per series and then across series: equal up to float summation order
            if not math.isclose(got, books.cost, rel_tol=1e-12, abs_tol=1e-15):
                problems.append(f"{what} {got!r}, spans {books.cost!r}")
        return problems


def _innermost(error: BaseException) -> str:
    tb = error.__traceback__
    filename = "?"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return filename


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 600 else text[:600] + "..."
