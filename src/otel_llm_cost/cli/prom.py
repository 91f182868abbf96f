"""A minimal Prometheus HTTP API client (stdlib urllib) for ``report`` and ``doctor --prometheus``."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


class PrometheusError(Exception):
    """Prometheus cannot be reached or refused a query; the message says which and why."""


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        url = url.rstrip("/")
        self.url = url if "://" in url else f"http://{url}"
        self.timeout = timeout

    def _get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        target = f"{self.url}{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(target, timeout=self.timeout) as response:
                body = json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read().decode()).get("error", "")
            except ValueError:
                detail = ""
            raise PrometheusError(f"Prometheus at {self.url} answered {error.code} for {path}: "
                                  f"{detail or error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {reason}") from None
        except ValueError:
            raise PrometheusError(f"{self.url} did not answer with Prometheus API JSON: is it Prometheus?") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            raise PrometheusError(f"Prometheus at {self.url} refused {params}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """Instant query (at Unix time ``at``, default now) -> [(labels, value)]."""
        data = self._get("/api/v1/query", query=expr, **({"time": f"{at:.3f}"} if at is not None else {}))
        if data.get("resultType") == "scalar":
            return [({}, float(data["result"][1]))]
        return [(dict(item["metric"]), float(item["value"][1])) for item in data.get("result", [])]

    def metric_names(self, prefix: str = "") -> list[str]:
        """Metric names stored in the TSDB (fresh or not), optionally only those starting with ``prefix``."""
        return [n for n in self._get("/api/v1/label/__name__/values") if isinstance(n, str) and n.startswith(prefix)]

    def rule_names(self) -> list[str]:
        """Names of the recording and alerting rules Prometheus has loaded."""
        groups = self._get("/api/v1/rules").get("groups", [])
        return [rule.get("name", "") for group in groups for rule in group.get("rules", [])]
