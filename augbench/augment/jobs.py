"""Registers the augment job kinds (imported by ``augbench.core.jobs.discover_jobs``)."""

from augbench.augment.export import AugmentJob, run_export

__all__ = ["AugmentJob", "run_export"]
