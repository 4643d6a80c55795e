"""Style job kinds: ``style.apply`` (batch stylization) and ``style.train-decoder``."""

from __future__ import annotations

from augbench.style import train_decoder  # noqa: F401  (registers style.train-decoder)
from augbench.style import apply  # noqa: F401,E402  (registers style.apply)
