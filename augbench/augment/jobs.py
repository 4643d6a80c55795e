"""Registers the augment job kinds (imported by ``augbench.core.jobs.discover_jobs``).

Kinds are named ``<package>.<verb>`` with config class ``<Verb>Job``; the config and its runner may
live in a module of their own, but they are registered here, so this file lists every kind of the package.
"""

from augbench.augment.export import AugmentJob, ExportJob, run_export
from augbench.core.jobs import job_runner, register_job

register_job("augment.export", "Export N augmented copies of a data set with labels and masks rewritten")(ExportJob)
job_runner(ExportJob)(run_export)

__all__ = ["AugmentJob", "ExportJob", "run_export"]
