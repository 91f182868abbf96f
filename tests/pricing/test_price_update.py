"""`otel-llm-cost prices update` against genai-prices data served from a local HTTP server (no internet here):
a model added there is priced after the update and a restart; bad input changes nothing."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from otel_llm_cost.pricing import Cost, PriceBook
from otel_llm_cost.pricing.store import read_cached_table, reset_table_in_force, table_in_force
from otel_llm_cost.pricing.table import bundled_table
from otel_llm_cost.pricing.update import UpdateError, update

ROOT = Path(__file__).resolve().parents[2]
NEW_MODEL = {"id": "gpt-7-preview", "match": {"equals": "gpt-7-preview"}, "prices": {"input_mtok": 7,
                                                                                    "output_mtok": 21}}


def _genai_data() -> list[dict[str, Any]]:
    """The installed genai-prices' providers in the shape of its published data file (the script's writer)."""
    spec = importlib.util.spec_from_file_location("update_prices", ROOT / "scripts" / "update_prices.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data: list[dict[str, Any]] = module.genai_prices_data()
    return data


@pytest.fixture(scope="module")
def published() -> dict[str, bytes]:
    """Files the server serves: today's data, the same with a new model, with a price change, and bad ones."""
    pytest.importorskip("genai_prices")
    data = _genai_data()
    with_model = copy.deepcopy(data)
    next(p for p in with_model if p["id"] == "openai")["models"].append(NEW_MODEL)
    cheaper = copy.deepcopy(data)
    gpt4o = next(m for p in cheaper if p["id"] == "openai" for m in p["models"] if m["id"] == "gpt-4o")
    gpt4o["prices"] = {"input_mtok": 2.25, "cache_read_mtok": 1.125, "output_mtok": 9}
    newer_key = copy.deepcopy(data)
    newer_key[0]["models"][0]["prices"] = {"input_mtok": 1, "output_mtok": 2, "input_thought_mtok": 3}
    full = json.dumps(with_model).encode()
    return {
        "/v2/data.json": full,
        "/cheaper.json": json.dumps(cheaper).encode(),
        "/truncated.json": full[: len(full) // 2],
        "/malformed.json": b"<html><body>Rate limit exceeded</body></html>",
        "/newer-schema.json": json.dumps({"schema": 3, "providers": data}).encode(),
        "/newer-price-key.json": json.dumps(newer_key).encode(),
    }


@pytest.fixture(scope="module")
def server(published: dict[str, bytes]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = published.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if body is not None else b"not found")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


@pytest.fixture(scope="module")
def stored(server: str, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A table a successful update stored (the cache the failing updates must leave alone)."""
    cache = tmp_path_factory.mktemp("stored")
    assert _cli("update", "--source", f"{server}/v2/data.json", cache=cache).returncode == 0
    return (cache / "prices.json").read_bytes()


def _cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OTEL_LLM_COST_PRICES_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "otel_llm_cost.cli", "prices", *args], capture_output=True,
                          text=True, timeout=120, env=env)


PRICE_IN_A_NEW_PROCESS = """
import json, sys
from otel_llm_cost.pricing import load_price_book
from otel_llm_cost.core.usage import Usage
book = load_price_book([])
cost = book.cost("openai", "gpt-7-preview", Usage(input_tokens=1_000_000, output_tokens=1_000_000))
print(json.dumps({"table": book.table_id, "total": getattr(cost, "total", None),
                  "reason": getattr(cost, "reason", None)}))
"""


def _price_after_restart(cache: Path) -> dict[str, Any]:
    env = {**os.environ, "OTEL_LLM_COST_PRICES_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", PRICE_IN_A_NEW_PROCESS], capture_output=True, text=True,
                         timeout=120, env=env, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_a_model_added_upstream_is_priced_after_update_and_restart(server: str, tmp_path: Path) -> None:
    assert _price_after_restart(tmp_path) == {"table": bundled_table().table_id, "total": None,
                                              "reason": "unknown_model"}
    result = _cli("update", "--source", f"{server}/v2/data.json", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    # the same conversion, LiteLLM models and corrections as the bundled table: the new model is the only change
    assert "1 models added, 0 removed, 0 with changed prices" in result.stdout, result.stdout
    assert "added: openai/gpt-7-preview" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["prices.json"]
    after = _price_after_restart(tmp_path)
    assert after["total"] == pytest.approx(28.0) and after["table"].startswith("genai-prices-data@")
    stored = json.loads((tmp_path / "prices.json").read_text())
    assert stored["source"]["url"] == f"{server}/v2/data.json" and len(stored["source"]["sha256"]) == 64
    # the corrections are applied to updated data too
    deepseek = PriceBook(read_cached_table(str(tmp_path / "prices.json")))
    cost = deepseek.cost("deepseek", "deepseek-chat", _usage(), at=datetime(2026, 1, 5, 12, tzinfo=timezone.utc))
    assert isinstance(cost, Cost) and cost.price_source == "correction"


def _usage() -> Any:
    from otel_llm_cost.core.usage import Usage

    return Usage(input_tokens=1000, output_tokens=1000)


def test_a_file_source_works_offline(published: dict[str, bytes], tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_bytes(published["/v2/data.json"])
    cache = tmp_path / "cache"
    for source in (str(data), f"file://{data}"):
        result = _cli("update", "--check", "--source", source, cache=cache)
        assert result.returncode == 0 and "added: openai/gpt-7-preview" in result.stdout, result.stderr
    missing = _cli("update", "--source", str(tmp_path / "nope.json"), cache=cache)
    assert missing.returncode == 1 and f"cannot read {tmp_path / 'nope.json'}: No such file" in missing.stderr
    assert not cache.exists()


def test_check_says_how_old_and_what_would_change_and_writes_nothing(server: str, tmp_path: Path) -> None:
    result = _cli("update", "--check", "--source", f"{server}/cheaper.json", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"table in force: {bundled_table().table_id} (" in result.stdout and "days old" in result.stdout
    assert "openai/gpt-4o: cache_read 1.25 -> 1.125, input 2.5 -> 2.25, output 10 -> 9" in result.stdout
    assert "--check: nothing written" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("path", "message"), [
    ("/missing.json", "answered HTTP 404"),
    ("/truncated.json", "invalid JSON (truncated?)"),
    ("/malformed.json", "invalid JSON (malformed)"),
    ("/newer-schema.json", "expected a JSON list of providers (genai-prices data v2), got an object with keys "
                           "['providers', 'schema']: a newer or different schema"),
    ("/newer-price-key.json", "unknown price key 'input_thought_mtok' (a newer schema?"),
])
def test_bad_data_is_a_clear_error_and_changes_nothing(server: str, stored: bytes, tmp_path: Path, path: str,
                                                       message: str) -> None:
    (tmp_path / "prices.json").write_bytes(stored)
    before = stored
    result = _cli("update", "--source", f"{server}{path}", cache=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "nothing was written; the table in force (genai-prices-data@" in result.stderr
    assert (tmp_path / "prices.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["prices.json"]


def test_an_unreachable_source_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _cli("update", "--source", f"http://127.0.0.1:{port}/data.json", cache=tmp_path)
    assert result.returncode == 1 and f"cannot reach http://127.0.0.1:{port}/data.json" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_table_and_no_temporary_file(server: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "prices.json"
    target.write_text('{"old": true}')

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(UpdateError, match=r"cannot write .*No space left on device; the table in force is unchanged"):
        update(f"{server}/v2/data.json", path=str(target), in_force=bundled_table())
    assert target.read_text() == '{"old": true}' and [p.name for p in tmp_path.iterdir()] == ["prices.json"]


def test_startup_keeps_the_bundled_table_when_the_stored_one_is_unusable_or_older(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bundled = bundled_table()
    (tmp_path / "prices.json").write_text('{"schema": 1, "table_id": "x", "provid')
    reset_table_in_force()
    with caplog.at_level("WARNING", logger="otel_llm_cost.pricing"):
        assert table_in_force(str(tmp_path)) is bundled
    assert "the updated price table cannot be used" in caplog.text and "not valid JSON" in caplog.text
    older = json.loads((Path(__file__).parents[2] / "src/otel_llm_cost/pricing/data/prices.json").read_text())
    older["generated_at"], older["table_id"] = "2020-01-01", "genai-prices-data@2020-01-01"
    (tmp_path / "prices.json").write_text(json.dumps(older))
    reset_table_in_force()
    assert table_in_force(str(tmp_path)) is bundled
    newer = dict(older, generated_at=date.today().isoformat(), table_id="genai-prices-data@today")
    (tmp_path / "prices.json").write_text(json.dumps(newer))
    reset_table_in_force()
    assert table_in_force(str(tmp_path)).table_id == "genai-prices-data@today"
    reset_table_in_force()
