"""Style job kinds: ``style.apply`` (batch stylization) and ``style.train`` (AdaIN decoder training).

The configs and runners live in :mod:`augbench.style.apply` and :mod:`augbench.style.train_decoder`;
they are registered here, so this file lists every kind of the package (old name ``style.train-decoder``
still loads, see ``augbench.core.jobs.KIND_ALIASES``).
"""

from __future__ import annotations

from augbench.core.jobs import job_runner, register_job
from augbench.style import apply, train_decoder
from augbench.style.apply import ApplyJob, StyleApplyConfig, run_style_apply
from augbench.style.train_decoder import TrainDecoderConfig, TrainJob, run_train_decoder

register_job("style.apply", "stylize a folder or ImageFolder classes with a style bank (labels carried over)")(ApplyJob)
job_runner(ApplyJob)(run_style_apply)
register_job("style.train", "train an AdaIN decoder for the offline VGG-16 encoder")(TrainJob)
job_runner(TrainJob)(run_train_decoder)

__all__ = ["ApplyJob", "StyleApplyConfig", "TrainDecoderConfig", "TrainJob", "apply", "run_style_apply",
           "run_train_decoder", "train_decoder"]
