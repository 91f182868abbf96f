"""The behaviour every provider owes its users, run for every ``ProviderCase``: priced calls, errors reaching the
caller unchanged, instrumentation failures never reaching the app, exact totals under threads and asyncio tasks,
abandoned and early-closed streams finished once with what was seen, uninstrument/re-instrument, and
coexistence with the other instrumentations of that SDK."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from cases import CASES, INPUT, OUTPUT, ProviderCase, run_call

import otel_llm_cost
from otel_llm_cost.core.telemetry import Telemetry
from otel_llm_cost.providers import registration
from telemetry_fixtures import Otel

COST = "gen_ai.usage.cost.amount"
HERE = Path(__file__).resolve().parent
pytestmark = [pytest.mark.parametrize("case", CASES, ids=str),
              pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")]


def _assert_priced(otel: Otel, case: ProviderCase, count: int = 1) -> None:
    spans = otel.finished()
    assert len(spans) == count
    for span in spans:
        assert span.attributes["gen_ai.provider.name"] == case.provider
        assert span.attributes[INPUT] == case.input_tokens
        assert span.attributes[OUTPUT] == case.output_tokens
        assert span.attributes[COST] == pytest.approx(case.cost)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(case.cost * count)
    assert otel.metric_sum("gen_ai.client.operation.cost") == pytest.approx(case.cost * count)
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens") == case.input_tokens * count
    assert otel.metric_count("gen_ai.client.operation.duration") == count


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_call_is_priced_once(otel: Otel, case: ProviderCase, stream: bool, is_async: bool) -> None:
    if is_async and case.async_client is None:
        pytest.skip(f"{case.name} has no async client")
    fake = case.fake()
    client = case.async_client(fake) if is_async else case.client(fake)
    run_call(case, client, stream, is_async)
    _assert_priced(otel, case)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_errors_reach_the_caller_unchanged(otel: Otel, case: ProviderCase, stream: bool) -> None:
    fake = case.fake()
    fake.fail = case.error
    otel_llm_cost.uninstrument()
    with pytest.raises(case.error_class) as bare:
        run_call(case, case.client(fake), stream, False)
    otel.reinstrument()
    with pytest.raises(case.error_class) as seen:
        run_call(case, case.client(fake), stream, False)
    assert type(seen.value) is type(bare.value)
    assert str(seen.value) == str(bare.value)
    assert case.status_of(seen.value) == case.error[0]
    (span,) = otel.finished()
    assert span.attributes["error.type"].endswith(type(bare.value).__qualname__)
    assert COST not in span.attributes  # nothing billed, nothing invented
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 0


@pytest.mark.parametrize("where", ["start", "finish", "read"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_instrumentation_failures_never_reach_the_app(otel: Otel, case: ProviderCase, stream: bool, where: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("instrumentation bug")

    if where == "start":
        monkeypatch.setattr(Telemetry, "start", explode)
    elif where == "finish":
        monkeypatch.setattr(Telemetry, "_price", explode)
    else:
        for target in registration(case.entry_point).load().targets():
            monkeypatch.setattr(type(target.adapter), "read_result", explode)
            monkeypatch.setattr(type(target.adapter), "read_item", explode)
    fake = case.fake()
    bare = run_call(case, case.client(fake), stream, False)
    if stream:
        assert len(bare) >= 3  # every item reached the caller
    else:
        assert case.answered(bare)  # the SDK's own parsed result
    if where != "start":
        (span,) = otel.finished()
        assert span.end_time is not None


def test_exact_totals_under_8_threads(otel: Otel, case: ProviderCase) -> None:
    fake, per_thread = case.fake(), 10
    client = case.client(fake)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            with otel_llm_cost.attributes(feature=f"t{t % 2}"):
                for i in range(per_thread):
                    with otel_llm_cost.attributes(user_id=f"thread-{t}-{i}"):
                        run_call(case, client, i % 2 == 1, False)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    _assert_priced(otel, case, count=8 * per_thread)
    _assert_attributed_once(otel, [f"thread-{t}-{i}" for t in range(8) for i in range(per_thread)],
                            {"t0": 4 * per_thread, "t1": 4 * per_thread})


def test_exact_totals_under_200_asyncio_tasks(otel: Otel, case: ProviderCase) -> None:
    if case.async_client is None:
        pytest.skip(f"{case.name} has no async client")
    fake = case.fake()

    async def main() -> None:
        client = case.async_client(fake)

        async def one(i: int) -> None:
            with otel_llm_cost.attributes(feature=f"a{i % 3}", user_id=f"task-{i}"):
                result = await case.create(client, i % 2 == 1)
                if i % 2:
                    async for _ in result:
                        await asyncio.sleep(0)

        await asyncio.gather(*(one(i) for i in range(200)))

    asyncio.run(main())
    _assert_priced(otel, case, count=200)
    _assert_attributed_once(otel, [f"task-{i}" for i in range(200)], {"a0": 67, "a1": 67, "a2": 66})


def _assert_attributed_once(otel: Otel, users: list[str], features: dict[str, int]) -> None:
    """Each concurrent call's own attribution is on exactly one span, and no call became another's parent."""
    spans = otel.finished()
    assert sorted(span.attributes["user_id"] for span in spans) == sorted(users)
    assert {f: sum(1 for span in spans if span.attributes["feature"] == f) for f in features} == features
    assert all(span.parent is None for span in spans)


@pytest.mark.parametrize("how", ["abandoned", "closed"])
def test_a_stream_left_early_is_finished_once_with_what_was_seen(otel: Otel, case: ProviderCase, how: str) -> None:
    stream: Any = case.create(case.client(case.fake()), True)
    next(iter(stream))
    if how == "closed":
        stream.close()
        stream.close()  # twice: still one record
    del stream
    gc.collect()
    (span,) = otel.finished()
    usage = {k: v for k, v in span.attributes.items() if k.startswith("gen_ai.usage.") and k.endswith("_tokens")}
    assert usage == case.early_usage
    assert otel.metric_count("gen_ai.client.operation.duration") == 1
    if not case.early_usage:  # no usage seen: visible as unpriced, never a silent $0
        assert span.attributes["llm_cost.unpriced_reason"]
        assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_a_broken_stream_records_the_error(otel: Otel, case: ProviderCase) -> None:
    fake = case.fake()
    fake.break_stream_after = 2
    with pytest.raises(Exception) as raised:
        run_call(case, case.client(fake), True, False)
    (span,) = otel.finished()
    assert span.attributes["error.type"].endswith(type(raised.value).__qualname__)


def test_uninstrument_then_instrument_again(otel: Otel, case: ProviderCase) -> None:
    fake = case.fake()
    otel_llm_cost.uninstrument()
    run_call(case, case.client(fake), False, False)
    assert otel.finished() == []
    otel.reinstrument()
    run_call(case, case.client(fake), False, False)
    run_call(case, case.client(fake), True, False)
    _assert_priced(otel, case, count=2)


@pytest.mark.parametrize("order", ["peer-first", "ours-first"])
def test_with_every_peer_of_this_sdk_cost_is_recorded_once(case: ProviderCase, order: str) -> None:
    if not case.peers:
        pytest.skip(f"no other instrumentation of {case.name} is installed here")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    out = subprocess.run([sys.executable, str(HERE / "peer_app.py"), case.name, order], env=env, timeout=120,
                         capture_output=True, text=True, check=True).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["costs"] == pytest.approx([case.cost, case.cost])  # one record per call, whoever made the span
    assert found["counter"] == pytest.approx(2 * case.cost)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_the_app_sees_what_it_sees_without_us(otel: Otel, case: ProviderCase, stream: bool, is_async: bool) -> None:
    """The hook for property suites: any ``ProviderCase`` call compared with and without the instrumentation."""
    if is_async and case.async_client is None:
        pytest.skip(f"{case.name} has no async client")

    def seen() -> Any:
        fake = case.fake()
        result = run_call(case, case.async_client(fake) if is_async else case.client(fake), stream, is_async)
        return [case.view(item) for item in (result if stream else [result])]

    otel_llm_cost.uninstrument()
    bare = seen()
    otel.reinstrument()
    assert seen() == bare
    assert len(otel.finished()) == 1
