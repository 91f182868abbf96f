"""``python -m otel_llm_cost.cli``: the ``otel-llm-cost`` command."""

import sys

from .command import main

sys.exit(main())
