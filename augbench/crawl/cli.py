"""``augbench crawl ...``: the same CrawlConfig the Crawl tab builds, from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from augbench.crawl.types import DEFAULT_API_URL


def register(sub: Any) -> None:
    p = sub.add_parser(
        "crawl",
        help="download images for keywords into an ImageFolder (Naver browser / Naver Open API / URL list)",
        description="Each keyword becomes a class folder with manifest.jsonl; re-running resumes.",
    )
    p.add_argument("keywords", nargs="*", help="search keywords (each becomes a class folder)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("-n", "--count", type=int, default=50, help="images to keep per keyword (default 50)")
    p.add_argument("--engine", choices=("naver_browser", "naver_api", "url_list"), default=None,
                   help="default: naver_api when an API id is given, url_list with --url/--url-file, else naver_browser")
    p.add_argument("--thumbnails", action="store_true", help="download search thumbnails instead of originals")
    p.add_argument("--min-width", type=int, default=0)
    p.add_argument("--min-height", type=int, default=0)
    p.add_argument("--formats", default="jpg,png,webp", help="allowed formats (comma list: jpg,png,webp,gif,bmp,tif)")
    p.add_argument("--no-safe-search", action="store_true")
    p.add_argument("--api-id", default="", help="Naver Open API client id (or NAVER_CLIENT_ID)")
    p.add_argument("--api-secret", default="", help="client secret (prefer the NAVER_CLIENT_SECRET variable)")
    p.add_argument("--api-url", default=DEFAULT_API_URL)
    p.add_argument("--url", action="append", default=[], help="an image URL (url_list engine; repeatable)")
    p.add_argument("--url-file", default="", help="text file with one image URL per line")
    p.add_argument("--search-url", default="", help="override the selector table's search URL ({query}, {safe})")
    p.add_argument("--selectors", default="", help="a user-edited copy of resources/crawl/naver.yaml")
    p.add_argument("--browser", default="", help="Chromium/Chrome binary")
    p.add_argument("--driver", default="", help="chromedriver binary")
    p.add_argument("--allow-driver-download", action="store_true", help="let Selenium Manager download a driver")
    p.add_argument("--delay", type=float, default=0.2, help="seconds between requests to one host")
    p.add_argument("--max-in-flight", type=int, default=2, help="parallel requests per host")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds without progress before a request fails; a whole download may take at most 3x this")
    p.add_argument("--max-bytes", type=int, default=20_000_000)
    p.add_argument("--recheck-hours", type=float, default=24.0,
                   help="a keyword whose search already ran out of results is not searched again for this long "
                        "(default 24; 0 = always search again)")
    p.add_argument("--patient-scroll", action="store_true",
                   help="wait the full scroll timeout on every end-of-results retry (for slow sites)")
    p.add_argument("--shard", default="", help="I/N: crawl only the keywords of shard I (0-based) of N into the same "
                                                "output folder (a Slurm array, several machines)")
    p.add_argument("--save-job", default="", help="write the job file here and exit (run later with augbench run)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_crawl)
    register_check(sub)


def config_from_args(args: argparse.Namespace) -> Any:
    from augbench.crawl.jobs import CrawlConfig

    engine = args.engine or ("naver_api" if args.api_id else "url_list" if (args.url or args.url_file)
                             else "naver_browser")
    return CrawlConfig(
        keywords=tuple(args.keywords), out_dir=args.out, count=args.count, engine=engine,
        full_size=not args.thumbnails, min_width=args.min_width, min_height=args.min_height,
        formats=tuple(f.strip().lower() for f in args.formats.split(",") if f.strip()),
        safe_search=not args.no_safe_search, api_client_id=args.api_id, api_client_secret=args.api_secret,
        api_base_url=args.api_url, urls=tuple(args.url), url_file=args.url_file, search_url=args.search_url,
        selectors_file=args.selectors, browser_path=args.browser, driver_path=args.driver,
        allow_driver_download=args.allow_driver_download, per_host_delay_s=args.delay,
        per_host_max_in_flight=args.max_in_flight, workers=args.workers, timeout_s=args.timeout,
        max_bytes=args.max_bytes, recheck_hours=args.recheck_hours, patient_scroll=args.patient_scroll,
        shard=args.shard,
    )


def _cmd_crawl(args: argparse.Namespace) -> int:
    import dataclasses

    from augbench.cli import execute, print_result, save_job_file
    from augbench.core.jobs import validate_config

    cfg = config_from_args(args)
    validate_config(cfg)
    if args.save_job:
        save_job_file(dataclasses.replace(cfg, api_client_secret=""), args.save_job)
        print(f"wrote {args.save_job}")
        return 0
    return print_result(execute(cfg, quiet=args.quiet))


def register_check(sub: Any) -> None:
    p = sub.add_parser(
        "crawl-selectors",
        help="check a selector table against a Naver result page (a URL or a saved .html file)",
        description="Prints what every selector of resources/crawl/naver.yaml (or --selectors FILE) matches. "
                    "Exit code 0 when at least one extraction path finds results.",
    )
    p.add_argument("page", help="result page URL, or a page saved from the browser (Ctrl+S) as .html")
    p.add_argument("--selectors", default="", help="the edited selector table to check")
    p.add_argument("--browser", default="")
    p.add_argument("--driver", default="")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from augbench.core.errors import ConfigError
    from augbench.crawl.driver import quit_chrome, resolve_browser, start_chrome
    from augbench.crawl.engines.naver_browser import check_selectors
    from augbench.crawl.selectors import load_selectors

    if "://" not in args.page and not Path(args.page).is_file():
        raise ConfigError("page", f"{args.page} is neither a URL nor a saved .html file")
    table = load_selectors("naver", args.selectors or None)
    url = args.page if "://" in args.page else Path(args.page).resolve().as_uri()
    driver = start_chrome(resolve_browser(args.browser, args.driver))
    try:
        report = check_selectors(driver, table, url)
    finally:
        quit_chrome(driver)
    print(f"selector table: {table.source}")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if not report["ok"]:
        print("no extraction path found results: update the table (see docs/notes/crawl.md)")
    return 0 if report["ok"] else 1
