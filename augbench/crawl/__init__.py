"""augbench.crawl: image search engines, a polite validating downloader, dedupe, manifests.

A crawl is stages (icrawler's shape): an engine yields :class:`Candidate`
records, the downloader fetches, validates and deduplicates them in a thread
pool, and every outcome becomes a ``manifest.jsonl`` row next to the images.
"""
