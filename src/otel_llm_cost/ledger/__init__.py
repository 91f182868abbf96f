"""The ledger: one database row per GenAI call, with its tokens, cost parts and every attribution key.

Written by the ``llm_cost_ledger`` traces exporter (``exporter``) through a buffered background writer
(``writer``) into SQLite or Postgres (``stores``, ``schema``); read by ``otel-llm-cost report --ledger`` and
``otel-llm-cost export`` (``commands``, ``query``, ``report``, ``export``). Prometheus keeps spend by model,
feature and team; the ledger keeps it per call, so per user and per tenant, for invoices and reconciliation.
"""
