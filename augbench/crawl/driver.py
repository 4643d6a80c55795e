"""Find a Chromium + ChromeDriver pair that works offline, then start headless Chromium.

Order: explicit paths in the job -> the system ``chromium`` + ``chromedriver``
(Debian packages) -> Selenium Manager, only when the user allowed a download
and the network answers. A mismatched or missing pair ends in one
:class:`DependencyError` that says what to install — never a silent 0 images.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augbench.core.errors import DependencyError

INSTALL_HINT = (
    "install Chromium and its driver: `sudo apt-get install chromium chromium-driver` (Debian/Ubuntu), "
    "or set browser_path/driver_path (GUI: Crawl > Browser) to a matching Chrome + chromedriver pair"
)
SYSTEM_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser",
                   "google-chrome", "google-chrome-stable")
SYSTEM_DRIVERS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver", "chromedriver")
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)


@dataclass(frozen=True)
class BrowserPaths:
    """What will be started; ``driver`` None means Selenium Manager resolves it (online only)."""

    browser: str | None
    driver: str | None
    source: str  # explicit / system / selenium-manager


def _which(candidates: tuple[str, ...]) -> str | None:
    for c in candidates:
        if os.path.isabs(c):
            if os.path.isfile(c) and os.access(c, os.X_OK):
                return c
        else:
            found = shutil.which(c)
            if found:
                return found
    return None


def online(host: str = "googlechromelabs.github.io", port: int = 443, timeout: float = 1.5) -> bool:
    """True when a TCP connection to the driver download host succeeds quickly."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_browser(browser_path: str = "", driver_path: str = "", allow_download: bool = False) -> BrowserPaths:
    """Pick the browser/driver pair (see module doc); raise DependencyError naming what to install."""
    if browser_path or driver_path:
        for label, p in (("browser_path", browser_path), ("driver_path", driver_path)):
            if p and not (os.path.isfile(p) and os.access(p, os.X_OK)):
                raise DependencyError(f"{label} {p!r} is not an executable file; {INSTALL_HINT}")
        browser = browser_path or _which(SYSTEM_BROWSERS)
        driver = driver_path or _which(SYSTEM_DRIVERS)
        if driver:
            return BrowserPaths(browser, driver, "explicit")
    browser = _which(SYSTEM_BROWSERS)
    driver = _which(SYSTEM_DRIVERS)
    if browser and driver:
        return BrowserPaths(browser, driver, "system")
    missing = ", ".join(n for n, p in (("chromium", browser), ("chromedriver", driver)) if not p)
    if allow_download and online():
        return BrowserPaths(browser, None, "selenium-manager")
    why = "driver download not allowed" if not allow_download else "offline, so Selenium Manager cannot download one"
    raise DependencyError(f"no usable Chromium/ChromeDriver found (missing: {missing}; {why}); {INSTALL_HINT}")


def start_chrome(paths: BrowserPaths, page_load_timeout_s: float = 20.0, extra_args: tuple[str, ...] = ()) -> Any:
    """Start headless Chromium with a fresh profile; the caller must ``quit()`` it.

    The temporary profile directory is removed when the driver quits (see
    :func:`quit_chrome`), so runs never share cookies or cache.
    """
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    if paths.source != "selenium-manager":
        os.environ["SE_OFFLINE"] = "true"
    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile = tempfile.mkdtemp(prefix="augbench-chrome-")
    opts = webdriver.ChromeOptions()
    for arg in (*CHROME_ARGS, *extra_args, f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    if paths.browser:
        opts.binary_location = paths.browser
    service = Service(executable_path=paths.driver) if paths.driver else Service()
    try:
        driver = webdriver.Chrome(service=service, options=opts)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        first = (exc.msg or str(exc)).strip().splitlines()[0] if (exc.msg or str(exc)) else type(exc).__name__
        raise DependencyError(
            f"could not start Chromium ({paths.browser or 'auto'}) with ChromeDriver ({paths.driver or 'auto'}): "
            f"{first}. Browser and driver must have the same major version; {INSTALL_HINT}"
        ) from None
    driver.set_page_load_timeout(page_load_timeout_s)
    driver._augbench_profile = profile  # noqa: SLF001 - removed in quit_chrome
    return driver


def quit_chrome(driver: Any) -> None:
    """Quit the browser and delete its temporary profile."""
    profile = getattr(driver, "_augbench_profile", None)
    try:
        driver.quit()
    except Exception:  # noqa: BLE001 - a dead browser must not hide the job's real outcome
        pass
    if profile:
        shutil.rmtree(Path(profile), ignore_errors=True)
