"""The crawler's whole-transfer deadline (a trickling server) and honest URL lists (binary files, non-http lines)."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from augbench.core.errors import ConfigError
from augbench.core.jobs import run_job
from augbench.core.progress import CancelToken
from augbench.crawl.dedupe import DedupeIndex
from augbench.crawl.downloader import TRANSFER_FACTOR, Downloader, DownloadOptions, FetchError
from augbench.crawl.engines.url_list import read_url_file
from augbench.crawl.jobs import CrawlConfig

BODY = b"\xff\xd8\xff" + b"x" * 4000  # 4 kB: about 40 s at the trickle rate below


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Sends the headers at once, then 5 bytes every 0.1 s (50 B/s) and counts what it managed to send."""

    sent = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        try:
            for i in range(0, len(BODY), 5):
                self.wfile.write(BODY[i:i + 5])
                self.wfile.flush()
                type(self).sent += 5
                time.sleep(0.1)
        except OSError:  # the client hung up: what we want
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickle_url():
    _Trickle.sent = 0
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/slow.jpg"
    srv.shutdown()
    srv.server_close()


def test_a_trickling_server_cannot_hold_a_download_past_the_deadline(trickle_url: str) -> None:
    """50 B/s never trips the per-read timeout; the whole-transfer deadline (3 x timeout) stops it anyway."""
    dl = Downloader(DownloadOptions(timeout_s=0.5, retries=0), DedupeIndex(6))
    with pytest.raises(FetchError) as exc:
        dl.fetch(trickle_url, CancelToken())
    assert "transfer took longer than" in str(exc.value) and f"{TRANSFER_FACTOR} x" in str(exc.value)
    time.sleep(0.3)  # let the server notice the hang-up
    # The old reader waited for a full 64 kB chunk, i.e. the whole 4 kB body, before looking at the clock.
    assert _Trickle.sent < len(BODY) / 2


def test_binary_url_file_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "urls.txt"
    f.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ConfigError, match="not a UTF-8 text file") as exc:
        read_url_file(f)
    assert exc.value.field == "url_file"
    f.write_bytes(b"http://a/b.jpg\n\x00\x00\n")
    with pytest.raises(ConfigError, match="binary"):
        read_url_file(f)


def test_non_http_lines_are_counted_and_reported(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("# my list\nftp://host/a.jpg\nfile:///etc/passwd\n\njavascript:alert(1)\n"
                    "http://127.0.0.1:9/none.jpg\n", encoding="utf-8")
    res = run_job(CrawlConfig(keywords=("k",), out_dir=str(tmp_path / "out"), engine="url_list", url_file=str(urls),
                              count=1, timeout_s=0.2, retries=0, per_host_delay_s=0.0))
    assert res.metrics["not_http_lines"] == 3
    reported = {s.path for s in res.skipped if "not an http(s) URL" in s.reason}
    assert reported == {"ftp://host/a.jpg", "file:///etc/passwd", "javascript:alert(1)"}
    assert "3 URL-list line(s) are not http(s)" in res.message
