#!/usr/bin/env python3
"""What the budget guard adds to one instrumented call: memory store, Redis on localhost, and no budgets.

One process per store (``memory``, ``redis``: a redis-server this script starts on a free port in a temp
directory, like the tests), each instrumented with two matching block budgets (a service budget and a per-user
``"*"`` budget, limits never reached). In each process, batches of calls with the guard alternate with
batches with it switched off (``RUNTIME.guard = None``: exactly the state without a budget file), on the same
SDK, mock transport and OpenTelemetry providers, so the added cost is the median of paired differences.
Wall time (the Redis round trips are waiting, not computing) and the app process's CPU time. Also times the
call path's one check without a budget file (``RUNTIME.guard is not None``). Not a test.

    python benchmarks/budgets.py [--rounds 3] [--batches 15] [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import _timing
from _timing import paired_added

HERE = Path(__file__).resolve().parent
BUDGETS = """
[[budget]]
name = "service"
scope = { service = "bench" }
limit_usd = 1000000
window = "day"

[[budget]]
name = "per-user"
scope = { user_id = "*" }
limit_usd = 1000000
window = "day"
"""
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def child(store: str, calls: int, batches: int) -> None:
    import otel_llm_cost
    from _mock_openai import MockOpenAI
    from otel_llm_cost.core.calls import RUNTIME

    tracer_provider, meter_provider = _timing.drop_span_providers()
    otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    guard = RUNTIME.guard
    assert guard is not None, "no guard: is OTEL_LLM_COST_BUDGETS_FILE set?"
    client = MockOpenAI().client()

    def call() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=200)

    with otel_llm_cost.attributes(user_id="u-42"):
        for _ in range(50):
            call()  # warm up: price resolution, script loading, connections
        out: dict[str, list[float]] = {"off": [], "on": [], "off_cpu": [], "on_cpu": []}
        for _ in range(batches):
            for state, active in (("off", None), ("on", guard)):
                RUNTIME.guard = active
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(calls):
                    call()
                out[state].append((time.perf_counter() - wall) / calls * 1e6)
                out[f"{state}_cpu"].append((time.process_time() - cpu) / calls * 1e6)
    status = guard.status({"service": "bench", "user_id": "u-42"})
    assert status and status[0].reserved_usd == 0 and status[0].spent_usd > 0
    print(json.dumps(out))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: run scripts/setup.d/30-redis.sh")
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.01)
    server.terminate()
    raise SystemExit("redis-server did not start")


def check_cost_ns() -> float:
    """Nanoseconds of the call path's only budget work without a budget file."""
    from otel_llm_cost.core.calls import RUNTIME

    timer = timeit.Timer("RUNTIME.guard is not None", globals={"RUNTIME": RUNTIME})
    number = 1_000_000
    return min(timer.repeat(5, number)) / number * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls, args.batches)
        return
    with tempfile.TemporaryDirectory() as tmp:
        budgets = Path(tmp) / "budgets.toml"
        budgets.write_text(BUDGETS)
        server, url = start_redis(tmp)
        try:
            pairs: dict[str, list[tuple[float, float]]] = {"memory": [], "redis": []}
            cpu_pairs: dict[str, list[tuple[float, float]]] = {"memory": [], "redis": []}
            for round_no in range(args.rounds):
                for store in pairs:
                    env = {**os.environ, **_timing.CHILD_ENV, "OTEL_SERVICE_NAME": "bench",
                           "OTEL_LLM_COST_BUDGETS_FILE": str(budgets),
                           "OTEL_LLM_COST_BUDGET_STORE": "memory" if store == "memory" else url}
                    done = subprocess.run([sys.executable, __file__, "--child", store, "--calls", str(args.calls),
                                           "--batches", str(args.batches)], capture_output=True, text=True,
                                          env=env, timeout=900)
                    if done.returncode != 0:
                        raise SystemExit(f"{store} failed:\n{done.stderr[-3000:]}")
                    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
                    pairs[store] += list(zip(got["off"], got["on"], strict=True))
                    cpu_pairs[store] += list(zip(got["off_cpu"], got["on_cpu"], strict=True))
                    print(f"round {round_no + 1}/{args.rounds} {store}: no budgets "
                          f"{statistics.median(got['off']):.1f} us, with budgets {statistics.median(got['on']):.1f} "
                          "us per call", flush=True)
        finally:
            server.terminate()
            server.wait()
    base = statistics.median(off for store in pairs.values() for off, _on in store)
    print(f"\ninstrumented call, no budget file (mock transport, wall time): {base:.1f} us")
    cpu_base = statistics.median(off for store in cpu_pairs.values() for off, _on in store)
    print(f"  (CPU time of this process: {cpu_base:.1f} us)")
    for store, values in pairs.items():
        added = paired_added(values)
        cpu = paired_added(cpu_pairs[store])
        print(f"  + budget guard, {store} store (2 matching budgets): {added:+.1f} us per call wall "
              f"({added / base * 100:+.1f}%), {cpu:+.1f} us CPU of the app process")
    print(f"  without a budget file the call path checks one attribute: {check_cost_ns():.0f} ns per call")


if __name__ == "__main__":
    main()
