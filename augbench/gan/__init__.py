"""augbench.gan."""
