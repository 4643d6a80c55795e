"""The downloader: polite concurrent fetches, validation, dedupe, atomic saves, manifest rows.

``Downloader.process(candidate, store)`` does everything for one candidate and
returns its manifest row; it never raises for a bad URL or a bad file (one bad
file never kills a batch), only :class:`Cancelled` escapes.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import requests
import urllib3
from requests.adapters import HTTPAdapter

from augbench.core.atomic import atomic_write_bytes
from augbench.core.errors import Cancelled
from augbench.core.progress import CancelToken
from augbench.crawl.dedupe import DedupeIndex, phash, phash_hex, sha256_hex
from augbench.crawl.manifest import KeywordStore
from augbench.crawl.parse import is_http_url
from augbench.crawl.politeness import HostLimiter
from augbench.crawl.types import DUPLICATE, FAILED, FILTERED, INVALID, NEAR_DUPLICATE, OK, Candidate
from augbench.crawl.validate import FORMAT_CHOICES, InvalidImage, inspect_image

DEFAULT_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) augbench-crawler/0.1"


@dataclass(frozen=True)
class DownloadOptions:
    """Every knob of the downloader (the crawl job copies its fields here)."""

    full_size: bool = True
    timeout_s: float = 10.0
    max_bytes: int = 20_000_000
    retries: int = 2
    backoff_s: float = 0.5
    max_retry_after_s: float = 30.0
    per_host_delay_s: float = 0.2
    per_host_max_in_flight: int = 2
    workers: int = 8
    min_width: int = 0
    min_height: int = 0
    formats: tuple[str, ...] = FORMAT_CHOICES
    max_redirects: int = 5
    user_agent: str = DEFAULT_UA
    preview_size: int = 96


class FetchError(Exception):
    """A download that failed; ``status`` is the manifest status (failed / invalid)."""

    def __init__(self, status: str, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.http_status = http_status


@dataclass
class Fetched:
    data: bytes
    content_type: str
    final_url: str
    http_status: int
    attempts: int


@dataclass
class Outcome:
    """What happened to one candidate: the manifest row plus a preview for the GUI."""

    row: dict[str, Any]
    preview: np.ndarray | None = None
    file: str = ""

    @property
    def status(self) -> str:
        return str(self.row["status"])


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}
TRANSFER_FACTOR = 3  # a whole request (headers + body) may take at most this many times timeout_s


def _set_read_timeout(raw: Any, seconds: float) -> None:
    """Cut the read timeout of the response's socket to ``seconds`` (no-op where urllib3 hides the socket)."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(0.01, seconds))
        except OSError:
            pass


class Downloader:
    """Fetch + validate + dedupe + save, shared by all keyword stores of one crawl."""

    def __init__(self, options: DownloadOptions, dedupe: DedupeIndex, limiter: HostLimiter | None = None) -> None:
        self.options = options
        self.dedupe = dedupe
        self.limiter = limiter or HostLimiter(options.per_host_delay_s, options.per_host_max_in_flight)
        self._local = threading.local()

    # ------------------------------------------------------------------ HTTP
    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.max_redirects = self.options.max_redirects
            s.headers["User-Agent"] = self.options.user_agent
            s.headers["Accept"] = "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5"
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(4, self.options.per_host_max_in_flight))
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            self._local.session = s
        return s

    def fetch(self, url: str, cancel: CancelToken, referer: str = "") -> Fetched:
        """GET ``url`` politely with retries; raise :class:`FetchError` with a reason."""
        opts = self.options
        if not is_http_url(url):
            raise FetchError(INVALID, f"not an http(s) URL: {url[:80]!r}")
        host = urlsplit(url).hostname or ""
        attempt = 0
        headers = {"Referer": referer} if referer else {}
        while True:
            cancel.check()
            retry_wait: float | None = None
            with self.limiter.slot(host, cancel):
                started = time.monotonic()
                try:
                    resp = self._session().get(
                        url, timeout=(opts.timeout_s, opts.timeout_s), stream=True, headers=headers
                    )
                except requests.TooManyRedirects:
                    raise FetchError(FAILED, f"too many redirects (more than {opts.max_redirects})") from None
                except requests.Timeout:
                    reason = f"timed out after {opts.timeout_s:g} s"
                    retry_wait = opts.backoff_s * (2**attempt)
                    resp = None
                except requests.RequestException as exc:
                    reason = f"connection error: {type(exc).__name__}"
                    retry_wait = opts.backoff_s * (2**attempt)
                    resp = None
                if resp is not None:
                    with resp:
                        if resp.status_code == 200:
                            data = self._read_body(resp, cancel, started)
                            return Fetched(data, resp.headers.get("Content-Type", ""), resp.url, 200, attempt + 1)
                        reason = f"HTTP {resp.status_code}"
                        if resp.status_code not in _RETRYABLE:
                            raise FetchError(FAILED, reason, resp.status_code)
                        retry_wait = opts.backoff_s * (2**attempt)
                        ra = parse_retry_after(resp.headers.get("Retry-After"))
                        if ra is not None:
                            if ra > opts.max_retry_after_s:
                                raise FetchError(
                                    FAILED,
                                    f"{reason}: Retry-After {ra:.0f} s is longer than the "
                                    f"{opts.max_retry_after_s:g} s limit",
                                    resp.status_code,
                                )
                            retry_wait = ra
                            reason += f" (Retry-After {ra:g} s honoured)"
            if attempt >= opts.retries:
                raise FetchError(FAILED, f"{reason} after {attempt + 1} attempt(s)")
            attempt += 1
            self.limiter.back_off(host, retry_wait or 0.0)

    def _read_body(self, resp: requests.Response, cancel: CancelToken, started: float | None = None) -> bytes:
        """Read the body within a whole-transfer deadline (``TRANSFER_FACTOR`` x ``timeout_s`` from the request).

        ``read1`` returns whatever bytes have arrived, and the socket's read timeout is cut to the time left
        before every read, so a server trickling a few bytes a second cannot hold a download past the
        deadline (iterating 64 KB chunks only noticed it between chunks: a 50 B/s server held a 3 s
        timeout for 44 s).
        """
        opts = self.options
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > opts.max_bytes:
            raise FetchError(INVALID, f"body of {int(declared)} bytes is larger than max_bytes={opts.max_bytes}")
        limit = opts.timeout_s * TRANSFER_FACTOR
        deadline = (started if started is not None else time.monotonic()) + limit
        chunks: list[bytes] = []
        total = 0
        raw = resp.raw
        try:
            while True:
                cancel.check()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FetchError(FAILED, f"transfer took longer than {limit:g} s ({TRANSFER_FACTOR} x the "
                                             f"{opts.timeout_s:g} s timeout; {total} bytes received)")
                _set_read_timeout(raw, min(opts.timeout_s, left))
                chunk = raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > opts.max_bytes:
                    raise FetchError(INVALID, f"body is larger than max_bytes={opts.max_bytes}")
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise FetchError(FAILED, f"transfer took longer than {limit:g} s ({total} bytes received)") from None
            raise FetchError(FAILED, f"transfer broke off: {type(exc).__name__}") from None
        return b"".join(chunks)

    # ------------------------------------------------------------------ one candidate
    def process(self, cand: Candidate, store: KeywordStore, cancel: CancelToken) -> Outcome:
        """Download, validate, dedupe and save one candidate; always returns a manifest row."""
        opts = self.options
        url = cand.pick_url(opts.full_size)
        row: dict[str, Any] = {
            "url": url,
            "thumb_url": cand.thumb_url,
            "page": cand.page,
            "title": cand.title,
            "engine": cand.engine,
            "query": cand.query,
            "rank": cand.rank,
            "extraction": cand.extraction,
            "mode": "full" if opts.full_size else "thumb",
        }
        t0 = time.time()

        def finish(status: str, **extra: Any) -> dict[str, Any]:
            row.update(extra)
            row["status"] = status
            row["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
            row["elapsed_s"] = round(time.time() - t0, 3)
            return row

        try:
            fetched = self.fetch(url, cancel, referer=cand.page)
        except Cancelled:
            raise
        except FetchError as exc:
            return Outcome(finish(exc.status, reason=exc.reason, http_status=exc.http_status))
        data = fetched.data
        sha = sha256_hex(data)
        base = {"sha256": sha, "bytes": len(data), "content_type": fetched.content_type, "final_url": fetched.final_url}
        try:
            facts = inspect_image(
                data, fetched.content_type, formats=opts.formats, min_width=opts.min_width, min_height=opts.min_height
            )
        except InvalidImage as exc:
            status = FILTERED if exc.filtered else INVALID
            dims = {"width": exc.width or None, "height": exc.height or None}
            return Outcome(finish(status, reason=exc.reason, **dims, **base))
        ph = phash(facts.image)
        base.update(phash=phash_hex(ph), width=facts.width, height=facts.height, format=facts.fmt)
        reserved: list = []

        def make_name() -> str:
            reserved.append(store.reserve_path(facts.ext))
            return f"{store.folder_name}/{reserved[0].name}"

        verdict = self.dedupe.claim(sha, ph, make_name)
        if verdict.kind != "new":
            status = DUPLICATE if verdict.kind == "duplicate" else NEAR_DUPLICATE
            reason = f"same as {verdict.match}" + (f" (phash distance {verdict.distance})" if verdict.distance else "")
            return Outcome(finish(status, reason=reason, duplicate_of=verdict.match, **base))
        target, rel = reserved[0], verdict.match
        try:
            atomic_write_bytes(target, data)
        except OSError as exc:
            self.dedupe.release(sha, ph, rel)
            return Outcome(finish(FAILED, reason=f"cannot write {target.name}: {exc.strerror}", **base))
        thumb = facts.image.copy()
        thumb.thumbnail((opts.preview_size, opts.preview_size))
        return Outcome(finish(OK, file=rel, **base), preview=np.asarray(thumb), file=str(target))


@dataclass
class Counts:
    """Running totals for progress reports and the result metrics."""

    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)

    def summary(self) -> dict[str, int]:
        return {
            "downloaded": self.get(OK),
            "duplicate": self.get(DUPLICATE) + self.get(NEAR_DUPLICATE),
            "invalid": self.get(INVALID) + self.get(FILTERED),
            "failed": self.get(FAILED),
        }
