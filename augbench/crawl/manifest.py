"""Per-keyword folders, their ``manifest.jsonl`` and resume state.

``out/<keyword>/manifest.jsonl`` gets one row per candidate tried (kept or
rejected, with the reason). On a re-run the rows tell which URLs are settled
(kept, duplicate, invalid, filtered: never fetched again) and which failed on
the network (tried again); kept files are re-registered with the dedupe index
so nothing is downloaded twice, even across keywords.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

from augbench.core.atomic import atomic_write_text, safe_join
from augbench.core.runfolder import Manifest, iter_manifest
from augbench.crawl.dedupe import DedupeIndex
from augbench.crawl.types import FINAL_STATUSES, OK

MANIFEST_NAME = "manifest.jsonl"
STATE_NAME = ".augbench-crawl-state.json"
_BAD = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def keyword_folder(keyword: str) -> str:
    """A safe, readable class-folder name for a keyword (Korean and spaces kept)."""
    name = unicodedata.normalize("NFC", keyword).strip()
    name = _BAD.sub("_", name).strip(" ._")
    name = re.sub(r"\s+", " ", name)[:80]
    if not name or name in {".", ".."}:
        import hashlib

        name = "keyword_" + hashlib.sha1(keyword.encode("utf-8")).hexdigest()[:8]
    return name


_NUM = re.compile(r"^(\d{6,})\.[A-Za-z0-9]+$")


class KeywordStore:
    """One keyword's folder: numbered file names, manifest rows, resume state."""

    def __init__(self, root: str | os.PathLike[str], keyword: str) -> None:
        self.keyword = keyword
        self.folder_name = keyword_folder(keyword)
        self.dir = safe_join(root, self.folder_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(self.dir / MANIFEST_NAME)
        self._lock = threading.Lock()
        self.settled_urls: set[str] = set()
        self.kept_rows: list[dict[str, Any]] = []
        highest = 0
        for row in iter_manifest(self.manifest.path):
            url = str(row.get("url", ""))
            status = row.get("status")
            if status == OK:
                file = str(row.get("file", ""))
                if file and (Path(root) / file).is_file():
                    self.kept_rows.append(row)
                    self.settled_urls.add(url)
                continue  # a kept file the user deleted may be fetched again
            if status in FINAL_STATUSES:
                self.settled_urls.add(url)
        for p in self.dir.iterdir():
            m = _NUM.match(p.name)
            if m:
                highest = max(highest, int(m.group(1)))
        self._next = highest + 1

    @property
    def kept(self) -> int:
        return len(self.kept_rows)

    # ------------------------------------------------------------ exhaustion memo
    def mark_exhausted(self, source: str, offered: int) -> None:
        """Remember that ``source`` (engine + search settings) had no more results for this keyword.

        A resume within the re-check window then skips the search instead of
        re-scrolling a result page that has already been read to its end.
        """
        state = {"source": source, "offered": int(offered), "kept": self.kept, "exhausted_at": time.time()}
        atomic_write_text(self.dir / STATE_NAME, json.dumps(state))

    def exhausted_recently(self, source: str, within_s: float) -> float | None:
        """Seconds since ``source`` ran out of results for this keyword, if within ``within_s``; else None."""
        path = self.dir / STATE_NAME
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            age = time.time() - float(state["exhausted_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if state.get("source") != source or age < 0 or age > within_s:
            return None
        return age

    def register_kept(self, index: DedupeIndex) -> None:
        """Put this folder's kept images into the crawl-wide dedupe index."""
        for row in self.kept_rows:
            ph = row.get("phash")
            index.add(str(row.get("sha256", "")), int(ph, 16) if isinstance(ph, str) and ph else None, row["file"])

    def reserve_path(self, ext: str) -> Path:
        """The next free ``000123.ext`` inside this folder (names are ours, never the URL's)."""
        with self._lock:
            while True:
                n = self._next
                self._next += 1
                path = safe_join(self.dir, f"{n:06d}{ext}")
                if not path.exists():
                    return path

    def append(self, row: dict[str, Any]) -> None:
        self.manifest.append(row)
