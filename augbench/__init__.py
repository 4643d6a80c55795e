"""augbench: augment, crawl, label, style, synthesize and benchmark small image data sets.

``NO_ALBUMENTATIONS_UPDATE`` is set here, before anything can import
albumentations, because its import otherwise contacts PyPI; ``HF_HUB_OFFLINE``
stops timm-style hub lookups from stalling offline.
"""

import os as _os

_os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
_os.environ.setdefault("HF_HUB_OFFLINE", "1")
_os.environ.setdefault("SE_OFFLINE", "true")
_os.environ.setdefault("SE_AVOID_STATS", "true")

__version__ = "0.1.0"
