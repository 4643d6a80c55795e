"""augbench.classify."""
