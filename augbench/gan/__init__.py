"""augbench.gan: CycleGAN normal->defect translators and the one-click balancing run.

networks (ResNet generator, 70x70 PatchGAN) · losses · pool · diffaugment ·
whiten · data · trainer (config, checkpoints, resume, cancel) · detectors
(copy, collapse, KID on EfficientNet-Lite0) · monitor · planner · balance ·
jobs (``gan.train``, ``gan.translate``, ``balance``) · cli · plots · elpv (the real run).
"""
