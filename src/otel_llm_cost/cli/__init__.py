"""The ``otel-llm-cost`` command (price, models, doctor, report, demo) and its helpers.

Never imported by ``import otel_llm_cost`` or by instrumenting: tooling around the package, not part of the app.
"""
