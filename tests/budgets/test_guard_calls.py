"""Budgets enforced through the real openai and anthropic SDKs (simulated APIs, memory store): a call that
does not fit is never sent, raises BudgetExceeded and leaves a span with error.type=budget_exceeded; every way
a call ends settles or releases its reservation; windows roll over at the calendar boundary."""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import GPT_4O_MINI_COST, FakeOpenAI, http

import otel_llm_cost
from conversation import MESSAGES
from otel_llm_cost import BudgetExceeded, attributes, budget_status
from otel_llm_cost.budgets.guard import Guard
from otel_llm_cost.core.calls import RUNTIME
from otel_llm_cost.pricing.estimate import estimate_cost
from telemetry_fixtures import Otel

MAX_TOKENS = 300
# what the guard reserves for one such call (gpt-4o-mini), and what the simulated API then bills
REQUEST = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": MAX_TOKENS}  # what chat() sends
RESERVED = estimate_cost(provider="openai", model="gpt-4o-mini", messages=REQUEST).high_usd or 0.0
DEC_7 = datetime(2026, 12, 7, 12, tzinfo=timezone.utc).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def budgets(otel: Otel, tmp_path: Path, toml: str, clock: Clock | None = None, **settings: Any) -> Guard:
    path = tmp_path / "budgets.toml"
    path.write_text(toml)
    otel.reinstrument(budgets_file=str(path), **settings)
    guard = RUNTIME.guard
    assert guard is not None
    if clock is not None:
        guard.clock = clock
    return guard


def budget(name: str, limit: float, scope: str = "{}", window: str = "day", action: str = "block",
           extra: str = "") -> str:
    return (f'[[budget]]\nname = "{name}"\nscope = {scope}\nlimit_usd = {limit!r}\nwindow = "{window}"\n'
            f'action = "{action}"\n{extra}\n')


def chat(fake: FakeOpenAI, **kw: Any) -> Any:
    return fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=MAX_TOKENS, **kw)


def state(guard: Guard, **facts: str) -> tuple[float, float]:
    (status,) = guard.status({"provider": "openai", "model": "gpt-4o-mini", **facts})
    return status.spent_usd, status.reserved_usd


def test_no_budget_file_no_guard(otel: Otel) -> None:
    assert RUNTIME.guard is None


def test_a_call_that_does_not_fit_is_not_sent(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    limit = 2 * GPT_4O_MINI_COST + RESERVED / 2  # two calls, then the third's maximum does not fit
    guard = budgets(otel, tmp_path, budget("svc", limit, scope='{ provider = "openai" }'), Clock(DEC_7))
    chat(fake)
    chat(fake)
    with pytest.raises(BudgetExceeded) as refused:
        chat(fake)
    assert len(fake.requests) == 2  # the third request never left
    error = refused.value
    assert isinstance(error, Exception)
    assert (error.budget, error.scope, error.reason) == ("svc", {"provider": "openai"}, "limit")
    assert error.spent_usd == pytest.approx(2 * GPT_4O_MINI_COST, abs=1e-9)
    assert error.reserved_usd == 0 and error.limit_usd == limit
    assert error.requested_usd == pytest.approx(RESERVED, abs=1e-9)
    assert error.resets_at == datetime(2026, 12, 8, tzinfo=timezone.utc)
    assert "budget 'svc'" in str(error) and "not sent" in str(error)
    spans = otel.finished()
    assert [s.attributes.get("error.type") for s in spans] == [None, None, "budget_exceeded"]
    blocked = dict(spans[2].attributes or {})
    assert "gen_ai.usage.cost.amount" not in blocked and "llm_cost.unpriced_reason" not in blocked
    assert spans[2].status.status_code.name == "ERROR"
    assert otel.metric_sum("llm_cost.budget.blocked", **{"llm_cost.budget": "svc"}) == 1
    assert otel.metric_sum("llm_cost.budget.spent", **{"llm_cost.budget": "svc"}) == pytest.approx(
        2 * GPT_4O_MINI_COST, abs=1e-9)
    assert otel.metric_sum("llm_cost.budget.limit", **{"llm_cost.budget": "svc"}) == limit
    # the spend the budget settled is what the spans say, to the nano-dollar
    spans_total = sum(s.attributes.get("gen_ai.usage.cost.amount", 0.0) for s in spans)
    assert state(guard) == (pytest.approx(spans_total, abs=2e-9), 0)


def test_star_scope_is_one_budget_per_value(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    guard = budgets(otel, tmp_path, budget("free-users", GPT_4O_MINI_COST + RESERVED / 2,
                                           scope='{ plan = "free", user_id = "*" }'), Clock(DEC_7))
    with attributes(plan="free", user_id="u-1"):
        chat(fake)
        with pytest.raises(BudgetExceeded) as refused:
            chat(fake)
    assert refused.value.scope == {"plan": "free", "user_id": "u-1"}
    with attributes(plan="free", user_id="u-2"):
        chat(fake)  # another user: their own budget
    with attributes(plan="paid", user_id="u-1"):
        chat(fake)  # not on the free plan: no budget applies
    chat(fake)  # no attribution at all: no budget applies
    assert len(fake.requests) == 4
    (status,) = budget_status(plan="free", user_id="u-1")
    assert status.name == "free-users" and status.scope == {"plan": "free", "user_id": "u-1"}
    assert status.spent_usd == pytest.approx(GPT_4O_MINI_COST, abs=1e-9)
    assert status.remaining_usd == pytest.approx(RESERVED / 2, abs=1e-9)
    assert budget_status(plan="paid", user_id="u-1") == []
    # the metrics stay per budget name: one series, the fullest user's spend
    points = otel.metrics()["llm_cost.budget.spent"]
    assert [dict(p.attributes) for p in points] == [{"llm_cost.budget": "free-users"}]
    assert guard.status({"plan": "free", "user_id": "u-2"})[0].spent_usd == pytest.approx(GPT_4O_MINI_COST,
                                                                                            abs=1e-9)


def test_every_matching_budget_must_fit(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    toml = budget("roomy", 10.0) + budget("tight", RESERVED / 2, scope='{ feature = "search" }')
    budgets(otel, tmp_path, toml, Clock(DEC_7))
    with attributes(feature="search"), pytest.raises(BudgetExceeded) as refused:
        chat(fake)
    assert refused.value.budget == "tight" and not fake.requests
    guard = RUNTIME.guard
    assert guard is not None
    assert guard.status({})[0].reserved_usd == 0  # the roomy budget holds nothing for the refused call
    chat(fake)


def test_sdk_error_releases_the_reservation(otel: Otel, tmp_path: Path) -> None:
    import openai

    fake = FakeOpenAI()
    guard = budgets(otel, tmp_path, budget("svc", 1.0), Clock(DEC_7))
    fake.fail = (500, {"error": {"message": "boom", "type": "server_error"}})
    with pytest.raises(openai.InternalServerError):
        chat(fake)
    assert state(guard) == (0, 0)


def test_abandoned_and_cancelled_calls_settle_at_their_input_cost(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    guard = budgets(otel, tmp_path, budget("svc", 1.0), Clock(DEC_7))
    floor = estimate_cost(provider="openai", model="gpt-4o-mini", messages=REQUEST).low_usd
    assert floor
    stream = chat(fake, stream=True, stream_options={"include_usage": False})
    next(iter(stream))
    del stream
    gc.collect()
    assert state(guard) == (pytest.approx(floor, abs=1e-9), 0)

    async def slow(request: Any) -> Any:
        await asyncio.sleep(30)
        raise AssertionError("cancelled first")

    import openai

    client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0,
                                http_client=http.AsyncClient(transport=http.MockTransport(slow)))

    async def cancel() -> None:
        task = asyncio.create_task(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                  max_tokens=MAX_TOKENS))
        await asyncio.sleep(0.05)
        assert state(guard)[1] == pytest.approx(RESERVED, abs=1e-9)  # held while in flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel())
    assert state(guard) == (pytest.approx(2 * floor, abs=2e-9), 0)


def test_anthropic_stream_manager_is_refused_before_its_request(otel: Otel, tmp_path: Path) -> None:
    fake = FakeAnthropic()
    budgets(otel, tmp_path, budget("claude", 0.000001, scope='{ provider = "anthropic" }'), Clock(DEC_7))
    manager = fake.client().messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)
    with pytest.raises(BudgetExceeded), manager as stream:
        stream.get_final_message()
    with pytest.raises(BudgetExceeded):
        fake.client().messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)
    assert fake.requests == []
    assert [s.attributes.get("error.type") for s in otel.finished()] == ["budget_exceeded"] * 2


def test_warn_budget_never_blocks_logs_once_and_counts(otel: Otel, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeOpenAI()
    clock = Clock(DEC_7)
    budgets(otel, tmp_path, budget("soft", GPT_4O_MINI_COST, action="warn"), clock)
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost"):
        for _ in range(4):
            chat(fake)
        clock.now += 86400  # next day: within it again, then over again: one more log line
        for _ in range(3):
            chat(fake)
    assert len(fake.requests) == 7
    warned = [r for r in caplog.records if "'soft' (warn only) is exceeded" in r.getMessage()]
    assert len(warned) == 2
    # day 1: calls 2-4 would not fit; day 2: calls 2-3
    assert otel.metric_sum("llm_cost.budget.warned", **{"llm_cost.budget": "soft"}) == 5
    assert otel.metric_sum("llm_cost.budget.blocked") == 0


@pytest.mark.parametrize(("window", "zone", "last_instant", "next_window"), [
    ("hour", "UTC", datetime(2026, 12, 7, 12, 59, 59, 999000), datetime(2026, 12, 7, 13)),
    ("day", "UTC", datetime(2026, 12, 7, 23, 59, 59), datetime(2026, 12, 8)),
    ("day", "America/New_York", datetime(2026, 12, 8, 4, 59, 59), datetime(2026, 12, 8, 5)),  # EST: UTC-5
    ("week", "UTC", datetime(2026, 12, 13, 23, 59, 59), datetime(2026, 12, 14)),  # Monday 14th
    ("month", "UTC", datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1)),
    ("month", "Asia/Tokyo", datetime(2026, 12, 31, 14, 59, 59), datetime(2026, 12, 31, 15)),  # UTC+9
])
def test_window_rolls_over_at_the_boundary(otel: Otel, tmp_path: Path, window: str, zone: str,
                                           last_instant: datetime, next_window: datetime) -> None:
    fake = FakeOpenAI()
    clock = Clock(last_instant.replace(tzinfo=timezone.utc).timestamp())
    budgets(otel, tmp_path, budget("w", GPT_4O_MINI_COST + RESERVED / 2, window=window,
                                   extra=f'timezone = "{zone}"'), clock)
    chat(fake)
    with pytest.raises(BudgetExceeded) as refused:
        chat(fake)
    assert refused.value.resets_at == next_window.replace(tzinfo=timezone.utc)
    clock.now = next_window.replace(tzinfo=timezone.utc).timestamp()
    chat(fake)  # a new window: spent starts from zero
    assert len(fake.requests) == 2


def test_unpriced_model_passes_until_the_budget_is_spent(otel: Otel, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeOpenAI()
    budgets(otel, tmp_path, budget("svc", RESERVED * 1.01), Clock(DEC_7))  # the call below fits, then spends more
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost"):
        fake.client().chat.completions.create(model="house-model-7", messages=MESSAGES)
    assert "budgets cannot price calls to openai model 'house-model-7'" in caplog.text
    assert GPT_4O_MINI_COST > RESERVED * 1.01
    chat(fake)
    with pytest.raises(BudgetExceeded):  # spent is over the limit: even a call we cannot price is refused
        fake.client().chat.completions.create(model="house-model-7", messages=MESSAGES)
    assert len(fake.requests) == 2


@pytest.mark.parametrize("fail", ["open", "closed"])
def test_unreachable_store_fails_open_or_closed(otel: Otel, tmp_path: Path, fail: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from redis_server import free_port

    fake = FakeOpenAI()
    with caplog.at_level(logging.ERROR, logger="otel_llm_cost"):
        budgets(otel, tmp_path, budget("svc", 1.0), Clock(DEC_7), budget_store=f"redis://127.0.0.1:{free_port()}/0",
                budget_fail=fail)
        for _ in range(3):
            if fail == "closed":
                with pytest.raises(BudgetExceeded) as refused:
                    chat(fake)
                assert refused.value.reason == "store_unavailable" and refused.value.spent_usd is None
            else:
                chat(fake)
    assert len(fake.requests) == (3 if fail == "open" else 0)
    assert len([r for r in caplog.records if "cannot be reached" in r.getMessage()]) == 1  # once per outage
    assert otel.metric_sum("llm_cost.budget.store.unavailable") >= 3


def test_bad_budget_file_is_reported_and_not_enforced(otel: Otel, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(budget("ok", 1.0) + budget("bad", 1.0, window="fortnight"))
    with caplog.at_level(logging.ERROR, logger="otel_llm_cost"):
        otel.reinstrument(budgets_file=str(path))
    assert RUNTIME.guard is None
    assert f"budget file {path}, [[budget]] #2 ('bad'), field 'window'" in caplog.text
    chat(FakeOpenAI())
    otel_llm_cost.uninstrument()
    from otel_llm_cost.budgets.file import BudgetFileError

    with pytest.raises(BudgetFileError, match="field 'window'"):
        otel.reinstrument(budgets_file=str(path), budgets_strict="true")


@pytest.mark.parametrize(("toml", "message"), [
    ('[[budget]]\nname = "x"\nlimit_usd = -1\nwindow = "day"\n', "field 'limit_usd'"),
    ('[[budget]]\nname = "x"\nlimit_usd = 1\nwindow = "day"\naction = "stop"\n', "field 'action'"),
    ('[[budget]]\nname = "x"\nlimit_usd = 1\nwindow = "day"\nscope = { user = 3 }\n', "field 'scope.user'"),
    ('[[budget]]\nname = "x"\nlimit_usd = 1\nwindow = "day"\ntimezone = "Mars/Base"\n', "field 'timezone'"),
    ('[[budget]]\nname = "x"\nlimit_usd = 1\nwindow = "day"\nlimit = 2\n', "field 'limit'"),
    ('[[budget]]\nlimit_usd = 1\nwindow = "day"\n', "field 'name'"),
    ('[[budget]]\nname = "x"\nlimit_usd = 1\nwindow = "day"\n' * 2, "#2, field 'name'"),
    ("[budget\n", "not valid TOML"),
])
def test_bad_entries_name_file_entry_and_field(tmp_path: Path, toml: str, message: str) -> None:
    from otel_llm_cost.budgets.file import BudgetFileError, load_budget_file

    path = tmp_path / "b.toml"
    path.write_text(toml)
    with pytest.raises(BudgetFileError) as error:
        load_budget_file(str(path))
    assert str(path) in str(error.value) and message in str(error.value)


def test_redis_store_rolls_over_and_holds_nothing_after_calls(otel: Otel, tmp_path: Path, redis_server: Any) -> None:
    fake = FakeOpenAI()
    clock = Clock(datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp())
    guard = budgets(otel, tmp_path, budget("m", GPT_4O_MINI_COST + RESERVED / 2, window="month"), clock,
                    budget_store=redis_server.url)
    chat(fake)
    with pytest.raises(BudgetExceeded) as refused:
        chat(fake)
    assert refused.value.resets_at == datetime(2027, 1, 1, tzinfo=timezone.utc)
    clock.now += 1
    chat(fake)
    assert len(fake.requests) == 2
    assert state(guard) == (pytest.approx(GPT_4O_MINI_COST, abs=1e-9), 0)  # January's counter
    keys = sorted(k for k in redis_server.client().keys("llmcost:*") if not k.endswith("#r"))
    assert [k.split(":")[3] for k in keys] == ["20261201T000000Z", "20270101T000000Z"]


def test_stream_broken_after_its_first_chunk_settles_at_its_input_cost(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    guard = budgets(otel, tmp_path, budget("svc", 1.0), Clock(DEC_7))
    floor = estimate_cost(provider="openai", model="gpt-4o-mini", messages=REQUEST).low_usd
    fake.break_stream_after = 2  # two chunks arrive, then the connection drops: no usage ever comes
    received = []
    with pytest.raises(Exception) as broken:  # whichever error this SDK version raises mid-stream
        for chunk in chat(fake, stream=True):
            received.append(chunk)
    assert received and not isinstance(broken.value, BudgetExceeded)
    assert state(guard) == (pytest.approx(floor, abs=1e-9), 0)


def test_spend_of_calls_let_through_during_an_outage_is_added_when_the_store_is_back(
        otel: Otel, tmp_path: Path, redis_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import otel_llm_cost.budgets.guard as guard_module

    monkeypatch.setattr(guard_module, "RETRY_AFTER_S", 0.0)  # try the store again at the very next call
    fake = FakeOpenAI()
    guard = budgets(otel, tmp_path, budget("svc", 1.0), Clock(DEC_7), budget_store=redis_server.url)
    chat(fake)  # reserved and settled
    redis_server.stop()
    chat(fake)  # fail open: sent unreserved, its settlement waits
    redis_server.start()  # no persistence: the first call's spend is gone with the old server
    chat(fake)  # reserved and settled; then the waiting settlement is delivered
    assert len(fake.requests) == 3
    assert state(guard) == (pytest.approx(2 * GPT_4O_MINI_COST, abs=2e-9), 0)


def test_embeddings_reserve_their_input_only(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    guard = budgets(otel, tmp_path, budget("svc", 0.00001), Clock(DEC_7))  # far below any output bound
    fake.client().embeddings.create(model="text-embedding-3-small", input=["budgets", "stop the spend"])
    (span,) = otel.finished()
    cost = span.attributes["gen_ai.usage.cost.amount"]
    assert cost > 0 and state(guard, model="text-embedding-3-small") == (pytest.approx(cost, abs=1e-9), 0)


def test_a_hold_never_settled_expires_after_the_reservation_ttl(otel: Otel, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    clock = Clock(DEC_7)
    guard = budgets(otel, tmp_path, budget("svc", RESERVED * 1.5), clock, budget_reservation_ttl="60")
    held = chat(fake, stream=True)  # an open stream kept by the app: its call has not ended, its hold stays
    assert state(guard)[1] == pytest.approx(RESERVED, abs=1e-9)
    with pytest.raises(BudgetExceeded):
        chat(fake)
    clock.now += 61  # as if the process holding it had died: the hold expires
    assert state(guard) == (0, 0)
    chat(fake, stream=True).close()
    assert len(fake.requests) == 2 and held is not None
