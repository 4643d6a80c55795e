"""augbench.gan: synthetic defects for balancing (the Synthesize tab's core).

Engines: transplant (regions: where a defect is, from masks/boxes or the
difference to an aligned median normal; transplant: paste it into another
normal) and CycleGAN (networks incl. the attention generator · losses · pool ·
diffaugment · whiten · data (native-resolution and defect-aware crops) · model ·
trainer (config, checkpoints, resume, cancel) · detectors (pixels changed,
collapse, KID on EfficientNet-Lite0) · monitor · cyclegan_engine). Shared:
quality (the realism gate) · leakguard · planner · engines (loading, writing
like the source, provenance) · balance (job ``gan.balance``) · jobs (``gan.train``,
``gan.translate``, ``gan.transplant``) · preview · runstate · cli · plots.
The real ELPV runs are programs in ``experiments/`` (issue 6: ``elpv_issue6.py``, issue 15: ``gan_elpv.py``).
"""
