"""A local HTTP server answering as the Bedrock runtime does, for real boto3 clients (``endpoint_url=``).

Each test queues the answers (status, headers, body bytes or event-stream frames) per action (``converse``,
``converse-stream``, ``invoke``, ``invoke-with-response-stream``); the server records the requests it got.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config

from otel_llm_cost.demo import bedrock_wire as wire


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class FakeBedrock(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, deque[Answer]] = defaultdict(deque)
        self.default: dict[str, Answer] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (action, model id, JSON body)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

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
        self.answer(action, {"message": "Too many requests, please wait before trying again."}, status=429,
                    headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"})

    def next_answer(self, action: str) -> Answer:
        with self.lock:
            queue = self.answers[action]
            if queue:
                return queue.popleft()
        return self.default[action]


class _Handler(BaseHTTPRequestHandler):
    server: FakeBedrock

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        raw = self.rfile.read(length)
        parts = self.path.split("/")  # /model/{id}/{action}
        model, action = unquote(parts[2]), parts[3]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        self.server.requests.append((action, model, body))
        answer = self.server.next_answer(action)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", "0c2d5f3e-7a1b-4c9e-9d2f-1b6f0e8a4d21")
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


@pytest.fixture
def fake() -> Iterator[FakeBedrock]:
    server = FakeBedrock()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def client(fake: FakeBedrock, region: str = "us-east-1", **config: Any) -> Any:
    """A real boto3 bedrock-runtime client talking to ``fake`` (no retries: one request per call)."""
    return boto3.client("bedrock-runtime", region_name=region, endpoint_url=fake.url, aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1}, **config))


MESSAGES = [{"role": "user", "content": [{"text": "Name three rivers."}]}]
__all__ = ["MESSAGES", "FakeBedrock", "client", "fake", "wire"]
