"""augbench.style."""
