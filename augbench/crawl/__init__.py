"""augbench.crawl."""
