"""The same-outcome suite reuses each provider's fake server from its own test folder."""

from __future__ import annotations

import sys
from pathlib import Path

for provider in ("openai", "anthropic", "providers"):  # providers: fake_groq.py
    folder = str(Path(__file__).parent.parent / provider)
    if folder not in sys.path:
        sys.path.append(folder)
