"""augbench.gui."""
