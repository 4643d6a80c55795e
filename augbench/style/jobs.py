"""Style job kinds: ``style.apply`` (batch stylization) and ``style.train-decoder``.

Importing the modules registers their configs and runners with the job registry.
"""

from __future__ import annotations

from augbench.style import apply, train_decoder

__all__ = ["apply", "train_decoder"]
