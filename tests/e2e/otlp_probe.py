"""Send one OTLP metrics export the way an instrumented app does (the OpenTelemetry SDK's own exporters).

``send_probe`` exports a one-point counter ``security_probe`` (Prometheus: ``security_probe_total``) labelled
``case=<case>`` over OTLP/HTTP or OTLP/gRPC, with optional bearer token, CA and client certificate, and
returns whether the collector accepted it. What reached Prometheus is then looked up by ``case``.
"""

from __future__ import annotations

import time
from pathlib import Path

from certs import KeyPair

PROBE_METRIC = "security_probe_total"


def _metrics_data(case: str) -> object:
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        Metric,
        MetricsData,
        NumberDataPoint,
        ResourceMetrics,
        ScopeMetrics,
        Sum,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    now = time.time_ns()
    point = NumberDataPoint(attributes={"case": case}, start_time_unix_nano=now - 10**9, time_unix_nano=now,
                            value=1)
    metric = Metric(name="security_probe", description="", unit="",
                    data=Sum(data_points=[point], aggregation_temporality=AggregationTemporality.CUMULATIVE,
                             is_monotonic=True))
    return MetricsData(resource_metrics=[ResourceMetrics(
        resource=Resource.create({"service.name": "security-probe"}),
        scope_metrics=[ScopeMetrics(scope=InstrumentationScope("security-probe"), metrics=[metric],
                                    schema_url="")],
        schema_url="")])


def send_probe(endpoint: str, protocol: str, case: str, *, token: str | None = None, ca: Path | None = None,
               client: KeyPair | None = None, timeout: float = 3.0) -> bool:
    """Export the probe to ``endpoint`` (scheme://host:port); True when the collector accepted it.

    ``ca`` None means the client's default trust store. A refused export fails fast (HTTP 401, gRPC
    UNAUTHENTICATED); a failed TLS handshake is retried by the SDK until ``timeout``.
    """
    from opentelemetry.sdk.metrics.export import MetricExportResult

    headers = {"authorization": f"Bearer {token}"} if token is not None else None
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpExporter

        exporter = HttpExporter(endpoint=f"{endpoint}/v1/metrics", headers=headers, timeout=timeout,
                                certificate_file=str(ca) if ca else None,
                                client_certificate_file=str(client.cert) if client else None,
                                client_key_file=str(client.key) if client else None)
    else:
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcExporter

        address = endpoint.split("://", 1)[1]
        if endpoint.startswith("https://"):
            credentials = grpc.ssl_channel_credentials(
                root_certificates=ca.read_bytes() if ca else None,
                private_key=client.key.read_bytes() if client else None,
                certificate_chain=client.cert.read_bytes() if client else None)
            exporter = GrpcExporter(endpoint=address, insecure=False, credentials=credentials, headers=headers,
                                    timeout=timeout)
        else:
            exporter = GrpcExporter(endpoint=address, insecure=True, headers=headers, timeout=timeout)
    try:
        return bool(exporter.export(_metrics_data(case)) is MetricExportResult.SUCCESS)  # type: ignore[arg-type]
    finally:
        exporter.shutdown()
