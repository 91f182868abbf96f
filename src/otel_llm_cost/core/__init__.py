"""What runs inside the user's app: the call flow and patching, the provider contract, telemetry (the one place
that names span attributes and metric instruments), streams, attribution, usage and settings.

Kept free of imports here: ``pricing`` reads ``core.usage`` and must stay light.
"""
