"""augbench.augment."""
