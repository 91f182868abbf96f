"""A local HTTP server answering as the Bedrock runtime does, for real boto3 clients (``endpoint_url=``).

Each test queues the answers (status, headers, body bytes or event-stream frames) per action (``converse``,
``converse-stream``, ``invoke``, ``invoke-with-response-stream``); the server records the requests it got.
"""

from __future__ import annotations

import itertools
import json
import struct
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
import botocore.session
import pytest
from botocore.config import Config

from otel_llm_cost.demo import bedrock_wire as wire


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class FakeBedrock:
    """One simulated Bedrock runtime: its own URL path on the process's shared local server (so tests and the
    shared provider suite can make as many as they like). ``fail`` = (status, JSON body) answers every request
    with that error; ``break_stream_after`` = n sends the first n event-stream frames then the in-stream error
    Bedrock sends when a stream fails (a connection cut short is no error to botocore: its stream just ends)."""

    def __init__(self) -> None:
        self.answers: dict[str, deque[Answer]] = defaultdict(deque)
        self.default: dict[str, Answer] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (action, model id, JSON body)
        self.fail: tuple[int, dict[str, Any]] | None = None
        self.break_stream_after: int | None = None
        self.lock = threading.Lock()
        self.server = _shared_server()
        self.name = f"f{next(_NUMBERS)}"
        self.server.fakes[self.name] = self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{self.name}"

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def answer(self, action: str, body: bytes | dict[str, Any] | list[bytes], status: int = 200,
               headers: dict[str, str] | None = None, always: bool = False) -> None:
        """Queue one answer to ``action`` (``always``: the answer to every such request)."""
        if isinstance(body, dict):
            raw, content_type = json.dumps(body).encode(), "application/json"
        elif isinstance(body, list):
            raw, content_type = b"".join(body), "application/vnd.amazon.eventstream"
        else:
            raw, content_type = body, "application/json"
        answer = Answer(status, {"Content-Type": content_type, **(headers or {})}, raw)
        if always:
            self.default[action] = answer
        else:
            self.answers[action].append(answer)

    def throttle(self, action: str) -> None:
        self.answer(action, *throttled())

    def next_answer(self, action: str) -> Answer:
        if self.fail is not None:
            status, body = self.fail
            return Answer(status, {"Content-Type": "application/json"}, json.dumps(body).encode())
        with self.lock:
            queue = self.answers[action]
            if queue:
                return queue.popleft()
        return self.default[action]


def throttled() -> tuple[dict[str, Any], int]:
    """Bedrock's throttling answer (HTTP 429; the error code is in the body's ``__type``)."""
    return {"__type": "ThrottlingException", "message": "Too many requests, please wait before trying again."}, 429


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fakes: dict[str, FakeBedrock] = {}  # kept: a client holds only the URL of its fake


_SERVER: list[_Server] = []
_NUMBERS = itertools.count()
_SERVER_LOCK = threading.Lock()


def _shared_server() -> _Server:
    """The process's one local server (a daemon thread, gone with the test process)."""
    with _SERVER_LOCK:
        if not _SERVER:
            server = _Server()
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            _SERVER.append(server)
        return _SERVER[0]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        raw = self.rfile.read(length)
        parts = self.path.split("/")  # /{fake}/model/{id}/{action}
        fake = self.server.fakes.get(parts[1])
        if fake is None:
            self.send_error(404)
            return
        model, action = unquote(parts[3]), parts[4]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        fake.requests.append((action, model, body))
        answer = fake.next_answer(action)
        payload = answer.body
        if fake.break_stream_after is not None and answer.status == 200 and action.endswith("stream"):
            payload = _first_frames(payload, fake.break_stream_after) + wire.exception(
                "internalServerException", "The server encountered an error processing the stream.")
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", "0c2d5f3e-7a1b-4c9e-9d2f-1b6f0e8a4d21")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _first_frames(data: bytes, count: int) -> bytes:
    """The first ``count`` event-stream messages of ``data`` (each starts with its total length)."""
    end = 0
    for _ in range(count):
        end += struct.unpack("!I", data[end:end + 4])[0]
    return data[:end]


@pytest.fixture
def fake() -> FakeBedrock:
    return FakeBedrock()


def client(fake: FakeBedrock, region: str = "us-east-1", **config: Any) -> Any:
    """A real boto3 bedrock-runtime client talking to ``fake`` (no retries: one request per call)."""
    return boto3.client("bedrock-runtime", region_name=region, endpoint_url=fake.url, aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1}, **config))


def botocore_knows(operation: str, shape: str, member: str) -> bool:
    """Whether this botocore's Bedrock model has ``member`` in ``shape`` of ``operation`` (older ones parse away
    what they do not know: cache counts before 1.37.24, service tiers later still)."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    if operation not in model.operation_names:
        return False
    seen: set[str] = set()

    def find(current: Any) -> bool:
        if current.name in seen:
            return False
        seen.add(current.name)
        members = getattr(current, "members", None) or {}
        if current.name == shape and member in members:
            return True
        children = list(members.values())
        if hasattr(current, "member"):
            children.append(current.member)
        return any(find(child) for child in children)

    operation_model = model.operation_model(operation)
    return any(find(s) for s in (operation_model.input_shape, operation_model.output_shape) if s is not None)


MESSAGES = [{"role": "user", "content": [{"text": "Name three rivers."}]}]
__all__ = ["MESSAGES", "FakeBedrock", "botocore_knows", "client", "fake", "throttled", "wire"]
