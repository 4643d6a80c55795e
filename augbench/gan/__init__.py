"""augbench.gan: synthetic defects for balancing (the Synthesize tab's core).

Engines: transplant (regions: where a defect is, from masks/boxes or the
difference to an aligned median normal; transplant: paste it into another
normal) and CycleGAN (networks incl. the attention generator · losses · pool ·
diffaugment · whiten · data (native-resolution and defect-aware crops) · model ·
trainer (config, checkpoints, resume, cancel) · detectors (pixels changed,
collapse, KID on EfficientNet-Lite0) · monitor · cyclegan_engine). Shared:
quality (the realism gate) · leakguard · planner · engines (loading, writing
like the source, provenance) · balance (job ``balance``) · jobs (``gan.train``,
``gan.translate``, ``gan.transplant``) · preview · runstate · cli · plots ·
elpv (the issue-6 64 px run; issue 15's is ``experiments/gan_elpv.py``).
"""
