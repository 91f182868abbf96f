"""``otel-llm-cost demo``: a workload through the real SDKs against a local simulated provider, and its summary.

Never imported by ``import otel_llm_cost`` or by instrumenting.
"""
