"""``LedgerSpanExporter``: the traces exporter ``llm_cost_ledger`` that writes one ledger row per GenAI call.

``OTEL_TRACES_EXPORTER=otlp,llm_cost_ledger opentelemetry-instrument python app.py`` turns it on with no code
change (the SDK builds it with no arguments and puts it behind its batch span processor); in code,
``tracer_provider.add_span_processor(BatchSpanProcessor(LedgerSpanExporter(url="sqlite:///...")))``.

``export`` keeps our GenAI spans, turns them into rows and hands them to the ``LedgerWriter``'s buffer: it never
waits for the database and never fails the batch (other exporters of the same spans are not affected). A bad
URL logs one error naming the setting, and the exporter stays off; the app runs on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..core.settings import Settings
from .location import LedgerUrlError, Location, parse_location
from .rows import span_row
from .stores import open_store
from .writer import LedgerWriter

logger = logging.getLogger("otel_llm_cost.ledger")
URL_SETTING = "OTEL_LLM_COST_LEDGER_URL"
DROPPED_COUNTER = "llm_cost.ledger.dropped"


class LedgerSpanExporter(SpanExporter):
    """Writes our GenAI call spans to the ledger database; every other span is ignored."""

    def __init__(self, url: str | None = None, buffer_rows: int | None = None, *,
                 shutdown_timeout_s: float = 10.0, first_backoff_s: float = LedgerWriter.FIRST_BACKOFF_S,
                 max_backoff_s: float = LedgerWriter.MAX_BACKOFF_S, meter_provider: Any = None) -> None:
        settings = Settings({"ledger_url": url, "ledger_buffer": buffer_rows})
        self.shutdown_timeout_s = shutdown_timeout_s
        self.writer: LedgerWriter | None = None
        self.location: Location | None = None
        setting = URL_SETTING if settings.sources[URL_SETTING] != "argument" else "LedgerSpanExporter(url=...)"
        try:
            location = parse_location(settings.ledger_url, setting)
        except LedgerUrlError as error:
            logger.error("otel-llm-cost ledger is OFF: %s", error)
            return
        self.location = location
        self.writer = LedgerWriter(lambda: open_store(location), settings.ledger_buffer, str(location),
                                   first_backoff_s=first_backoff_s, max_backoff_s=max_backoff_s)
        _count_drops(self.writer, meter_provider)
        logger.info("otel-llm-cost ledger: writing GenAI calls to %s", location)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        writer = self.writer
        if writer is not None:
            try:
                rows = [row for span in spans if (row := span_row(span)) is not None]
                if rows:
                    writer.offer(rows)
            except Exception:
                logger.debug("otel-llm-cost ledger: a span could not be read", exc_info=True)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.writer.flush(timeout_millis / 1000) if self.writer is not None else True

    def shutdown(self) -> None:
        if self.writer is not None:
            self.writer.shutdown(self.shutdown_timeout_s)


def _count_drops(writer: LedgerWriter, meter_provider: Any) -> None:
    """``llm_cost.ledger.dropped`` {row}: calls the ledger lost to a full buffer (the global meter provider's by
    default: under opentelemetry-instrument, the one the app's metrics go through)."""
    try:
        from opentelemetry import metrics
        from opentelemetry.metrics import CallbackOptions, Observation

        from .. import __version__
        from ..core.telemetry import SCOPE

        def observe(_options: CallbackOptions) -> list[Observation]:
            return [Observation(writer.dropped)]

        metrics.get_meter(SCOPE, __version__, meter_provider).create_observable_counter(
            DROPPED_COUNTER, callbacks=[observe], unit="{row}",
            description="GenAI calls not written to the ledger because its buffer was full")
    except Exception:
        logger.debug("otel-llm-cost ledger: cannot register %s", DROPPED_COUNTER, exc_info=True)
