"""A simulated Gemini API and Vertex AI behind the real ``google-genai`` SDK's httpx2 transport: generateContent
(JSON), streamGenerateContent (SSE, each chunk carrying the running usage), embedContent / batchEmbedContents /
predict, countTokens, and Google's error bodies. Bodies follow the REST reference (camelCase, ``usageMetadata``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

# google-genai 2.x+ takes ready-made (httpx2) clients; older releases send through httpx clients they make
_TAKES_CLIENTS = "httpx_client" in types.HttpOptions.model_fields
_HTTP: Any = httpx2 if _TAKES_CLIENTS else httpx

MODEL = "gemini-2.5-flash"
# One call on gemini-2.5-flash: a prompt of 1200 tokens of which 400 were read from the (implicit) cache, 50
# tokens of tool-use prompt, 150 answer tokens and 100 thinking tokens.
PROMPT, CACHED, TOOL_USE, CANDIDATES, THOUGHTS = 1200, 400, 50, 150, 100
INPUT_TOKENS, OUTPUT_TOKENS = PROMPT + TOOL_USE, CANDIDATES + THOUGHTS
# Google's price for gemini-2.5-flash, USD per 1M tokens: input (text) 0.30, cached input 0.03, output (thinking
# included) 2.50 (ai.google.dev/gemini-api/docs/pricing)
FLASH_COST = ((INPUT_TOKENS - CACHED) * 0.30 + CACHED * 0.03 + OUTPUT_TOKENS * 2.50) / 1e6


def usage(prompt: int = PROMPT, cached: int = CACHED, tool_use: int = TOOL_USE, candidates: int = CANDIDATES,
          thoughts: int = THOUGHTS, audio: int = 0, vertex: bool = False) -> dict[str, Any]:
    """``usageMetadata`` as Google sends it (zero counts are omitted, as the API does)."""
    details = [{"modality": "TEXT", "tokenCount": prompt - audio}] + (
        [{"modality": "AUDIO", "tokenCount": audio}] if audio else [])
    out: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
                           "totalTokenCount": prompt + candidates + tool_use + thoughts,
                           "promptTokensDetails": details,
                           "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": candidates}]}
    if cached:
        out["cachedContentTokenCount"] = cached
        out["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if tool_use:
        out["toolUsePromptTokenCount"] = tool_use
        out["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tool_use}]
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    if vertex:
        out["trafficType"] = "ON_DEMAND"
    return {k: v for k, v in out.items() if v or k == "promptTokenCount"}


def response(text: str, metadata: dict[str, Any] | None, finish: str | None = "STOP",
             model: str = MODEL) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": "resp-gemini-1",
                            "createTime": "2026-12-07T10:00:00.000000Z"}
    if metadata is not None:
        body["usageMetadata"] = metadata
    return body


class FakeGenAI:
    """Serves the Gemini API (``vertex=False``) or Vertex AI. ``fail`` injects an error (status, body) or a
    transport exception; ``break_stream_after`` drops the connection after that many SSE events; ``usage_of``
    builds the final usage (tests change it); ``requests`` are the (path, JSON body) pairs received."""

    def __init__(self, vertex: bool = False) -> None:
        self.vertex = vertex
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.break_stream_after: int | None = None
        self.final_usage: dict[str, Any] | None = usage(vertex=vertex)
        self.embed_body: dict[str, Any] | None = None
        self.images_body: dict[str, Any] | None = None  # Imagen's answer, when a test sets one
        # batch jobs by name: the operation JSON the Gemini API (or Vertex's batchPredictionJob) answers with
        self.batches: dict[str, dict[str, Any]] = {}

    def _options(self) -> types.HttpOptions:
        if not _TAKES_CLIENTS:  # google-genai before 2.x: its own httpx clients, given our transport
            return types.HttpOptions(client_args={"transport": httpx.MockTransport(self.handle)},
                                     async_client_args={"transport": httpx.MockTransport(self.handle_async)})
        return types.HttpOptions(
            httpx_client=httpx2.Client(transport=httpx2.MockTransport(self.handle)),
            httpx_async_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle_async)))

    def genai_client(self, **kw: Any) -> genai.Client:
        if self.vertex:
            return genai.Client(vertexai=True, project="acme-prod", location="us-central1",
                                credentials=Credentials(token="ya29.test"), http_options=self._options(), **kw)
        return genai.Client(api_key="AIza-test", http_options=self._options(), **kw)

    def client(self) -> Any:
        return self.genai_client()

    def async_client(self) -> Any:
        return self.genai_client().aio

    async def handle_async(self, request: Any) -> Any:
        return self.handle(request, is_async=True)

    def handle(self, request: Any, is_async: bool = False) -> Any:
        body = json.loads(request.content or b"{}")
        path = request.url.path
        self.requests.append((path, body))
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            return _HTTP.Response(status, json=payload)
        if path.endswith(":generateContent"):
            if body.get("tools") and not _answered(body):  # automatic function calling: ask for the tool first
                return _HTTP.Response(200, json=function_call(_tool_name(body), _model_of(path)))
            return _HTTP.Response(200, json=response("Paris", self.final_usage, model=_model_of(path)))
        if path.endswith(":streamGenerateContent"):
            return self._stream(_model_of(path), is_async)
        if path.endswith(":predict") and _model_of(path).startswith("imagen"):
            return _HTTP.Response(200, json=images_body(body) if self.images_body is None else self.images_body)
        if path.endswith((":embedContent", ":batchEmbedContents", ":predict")):
            return _HTTP.Response(200, json=self.embed_body or embedding_body(path))
        if path.endswith(":batchGenerateContent"):  # a new job: pending, no output yet
            job = batch_operation("batches/job-new", _model_of(path), "BATCH_STATE_PENDING", None)
            self.batches.setdefault("batches/job-new", job)
            return _HTTP.Response(200, json=job)
        if "/batches" in path or "/batchPredictionJobs" in path:
            return self._batch(path, request.method)
        if path.endswith(":countTokens"):
            return _HTTP.Response(200, json={"totalTokens": 7})
        return _HTTP.Response(404, json={"error": {"code": 404, "message": f"{path} not found",
                                                    "status": "NOT_FOUND"}})

    def _batch(self, path: str, method: str) -> Any:
        if path.endswith(("/batches", "/batchPredictionJobs")) and method == "GET":
            key = "batchPredictionJobs" if self.vertex else "operations"
            return _HTTP.Response(200, json={key: list(self.batches.values())})
        at = path.find("/projects/" if self.vertex else "/batches/")
        name = path[at + 1:]
        if name in self.batches:
            return _HTTP.Response(200, json=self.batches[name])
        return _HTTP.Response(404, json={"error": {"code": 404, "message": f"{name} not found",
                                                    "status": "NOT_FOUND"}})

    def _stream(self, model: str, is_async: bool) -> Any:
        final = self.final_usage
        early = None if final is None else {"promptTokenCount": final["promptTokenCount"],
                                            "totalTokenCount": final["promptTokenCount"]}
        events = [response("Pa", early, finish=None, model=model), response("ri", early, finish=None, model=model),
                  response("s", final, model=model)]
        parts = [f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events]
        keep = self.break_stream_after

        def stream() -> Iterator[bytes]:
            for i, part in enumerate(parts):
                if keep is not None and i >= keep:
                    raise _HTTP.ReadError("connection reset by peer")
                yield part

        async def async_stream() -> AsyncIterator[bytes]:
            for part in stream():
                yield part

        return _HTTP.Response(200, headers={"content-type": "text/event-stream"},
                               content=async_stream() if is_async else stream())


# the first request of an automatic-function-calling exchange: the model asks for a tool
TOOL_CALL_PROMPT, TOOL_CALL_CANDIDATES = 300, 20


def function_call(name: str, model: str) -> dict[str, Any]:
    body = response("", usage(prompt=TOOL_CALL_PROMPT, cached=0, tool_use=0, candidates=TOOL_CALL_CANDIDATES,
                              thoughts=0), model=model)
    body["candidates"][0]["content"]["parts"] = [{"functionCall": {"name": name, "args": {"city": "Paris"}}}]
    return body


def _answered(body: dict[str, Any]) -> bool:
    return any("functionResponse" in part for content in body.get("contents", ())
               for part in content.get("parts", ()))


def _tool_name(body: dict[str, Any]) -> str:
    return str(body["tools"][0]["functionDeclarations"][0]["name"])


def _model_of(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(":", 1)[0]


def embedding_body(path: str) -> dict[str, Any]:
    """Gemini API embeddings report ``usageMetadata``; Vertex ``predict`` reports tokens per embedding."""
    if path.endswith(":predict"):
        return {"predictions": [{"embeddings": {"values": [0.1, 0.2], "statistics": {"token_count": 6,
                                                                                      "truncated": False}}}],
                "metadata": {"billableCharacterCount": 20}}
    return {"embeddings": [{"values": [0.1, 0.2]}], "usageMetadata": {"promptTokenCount": 6, "totalTokenCount": 6}}


def resource_exhausted() -> tuple[int, dict[str, Any]]:
    return 429, {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                           "status": "RESOURCE_EXHAUSTED"}}


def batch_operation(name: str, model: str, state: str, responses: list[dict[str, Any] | None] | None
                    ) -> dict[str, Any]:
    """A Gemini API batch job as ``batches.get`` returns it (a long-running operation whose metadata is the
    ``GenerateContentBatch``); ``responses``: the inlined responses of a finished job (None: a failed item)."""
    metadata: dict[str, Any] = {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        "model": f"models/{model}", "displayName": "nightly-summaries", "name": name, "state": state,
        "createTime": "2026-12-06T22:00:00.000000Z", "updateTime": "2026-12-07T01:12:00.000000Z"}
    if responses is not None:
        items = [{"response": r, "metadata": {"key": f"request-{i}"}} if r is not None else
                 {"error": {"code": 400, "message": "Request contains an invalid argument.", "status":
                            "INVALID_ARGUMENT"}, "metadata": {"key": f"request-{i}"}}
                 for i, r in enumerate(responses)]
        metadata["output"] = {"inlinedResponses": {"inlinedResponses": items}}
        metadata["endTime"] = "2026-12-07T01:12:00.000000Z"
        metadata["batchStats"] = {"requestCount": str(len(items)),
                                  "successfulRequestCount": str(sum(r is not None for r in responses)),
                                  "failedRequestCount": str(sum(r is None for r in responses))}
    return {"name": name, "metadata": metadata, "done": responses is not None}


def vertex_batch_job(name: str, model: str) -> dict[str, Any]:
    """A finished Vertex ``batchPredictionJob``: its results are in Cloud Storage, out of the SDK's sight."""
    return {"name": name, "displayName": "nightly-summaries", "model": f"publishers/google/models/{model}",
            "state": "JOB_STATE_SUCCEEDED", "createTime": "2026-12-06T22:00:00.000000Z",
            "endTime": "2026-12-07T01:12:00.000000Z",
            "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://acme-batch/in.jsonl"]}},
            "outputConfig": {"predictionsFormat": "jsonl",
                             "gcsDestination": {"outputUriPrefix": "gs://acme-batch/out"}},
            "outputInfo": {"gcsOutputDirectory": "gs://acme-batch/out/prediction-model-2026"},
            "completionStats": {"successfulCount": "2"}}


# a 1x1 PNG, as Imagen sends images (base64 in bytesBase64Encoded)
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def images_body(request: dict[str, Any], filtered: int = 0) -> dict[str, Any]:
    """Imagen's ``predict`` answer: one prediction per image asked for (``sampleCount``), the last ``filtered`` of
    them withheld by the safety filter (a reason, no image), then the prompt's safety attributes."""
    count = int(request.get("parameters", {}).get("sampleCount", 4))
    predictions: list[dict[str, Any]] = [{"mimeType": "image/png", "bytesBase64Encoded": PNG_B64}
                                         for _ in range(count - filtered)]
    predictions += [{"raiFilteredReason": "Your current safety filter threshold filtered out 1 generated image."}
                    for _ in range(filtered)]
    predictions.append({"contentType": "Positive Prompt",
                        "safetyAttributes": {"categories": ["Violence"], "scores": [0.1]}})
    return {"predictions": predictions}
