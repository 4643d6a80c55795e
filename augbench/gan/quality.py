"""A realism gate a user can trust: generated defect images must look like defects, not noise or copies.

The old quality check said "no failure detected" on pure-noise outputs: it
only looked for identity maps and collapse. This gate asks three questions of
a probe batch before anything is written, each against a reference the data
itself provides, so no magic number has to fit every data set:

1. **No farther from the defects than doing nothing?** KID(generated, real
   defects) is placed on a scale where 0 is the KID between two random halves
   of the real defects (real-vs-real) and 1 is the KID of the untouched
   normals (the outputs' own sources) to the defects:
   ``realism = (KID_gen - KID_rr) / (KID_src - KID_rr)``. It passes up to
   ``max_realism`` (1.5). Noise lands far above (8 on ELPV), real held-out
   defects below 1. Why not demand < 1: on aligned cells a small local defect
   barely moves ImageNet features (ELPV transplants: 1.03 on 64 outputs, 0.87
   on 32, i.e. inside the KID noise), so "closer than the normals" cannot be
   certified by KID; this gate stops garbage, the Benchmark tab measures use.
2. **Texture like the data?** The median high-frequency energy (variance of
   the Laplacian) of the outputs over that of their sources (of the real
   defects when sources are unknown). Pure noise is thousands of times the
   real value, a blurred mush a small fraction; it passes within
   [1/``texture_band``, ``texture_band``].
3. **Not a copy?** The median fraction of pixels changed against each
   output's own source (:func:`augbench.gan.detectors.changed_fraction`):
   below ``COPY_THRESHOLD`` the generator returned its input. And no output
   may be a near-duplicate of a real defect (memorised training images).

Features: EfficientNet-Lite0 (the default) or a cheap pixel descriptor (tests).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import cv2
import numpy as np
import torch

from augbench.core.errors import AugbenchError
from augbench.gan import detectors
from augbench.gan.regions import grey

MAX_REALISM = 1.5
TEXTURE_BAND = 4.0
DUPLICATE_TAU = 0.01  # mean |a - b| below 1 % of the range: the same image


class QualityGateError(AugbenchError):
    """The generated images failed the realism gate; nothing was written (carries the report)."""

    def __init__(self, report: GateReport) -> None:
        self.report = report
        super().__init__("generated images failed the realism gate: " + report.summary()
                         + " — nothing written; set allow_failed_quality (GUI: confirm) to write them anyway")


@dataclass
class Check:
    name: str
    value: float | None
    passed: bool
    limit: str
    note: str = ""


@dataclass
class GateReport:
    passed: bool
    checks: list[Check] = field(default_factory=list)
    n_generated: int = 0
    n_real: int = 0
    features: str = "lite0"

    def summary(self) -> str:
        bad = [c for c in self.checks if not c.passed]
        if not bad:
            return "passed (" + ", ".join(f"{c.name} {_fmt(c.value)}" for c in self.checks) + ")"
        return "; ".join(f"{c.name} {_fmt(c.value)} (needs {c.limit}){': ' + c.note if c.note else ''}" for c in bad)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for c in d["checks"]:
            if isinstance(c["value"], float) and not math.isfinite(c["value"]):
                c["value"] = None
        return d


def _fmt(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3g}"


def _to_tensor(images: Sequence[np.ndarray], size: int = 128) -> torch.Tensor:
    """Grey NCHW in [-1, 1] at ``size`` px (features are computed on grey: colour is not the question here)."""
    arr = np.stack([cv2.resize(grey(im), (size, size), interpolation=cv2.INTER_AREA) for im in images])
    return torch.from_numpy(arr[:, None].astype(np.float32) / 127.5 - 1.0)


def texture_energy(img: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image at its own resolution (high-frequency energy)."""
    return float(cv2.Laplacian(grey(img).astype(np.float32), cv2.CV_32F).var())


def _halves_kid(f: np.ndarray, seed: int, repeats: int = 5) -> float:
    rng = np.random.default_rng([seed, 3])
    vals = []
    for _ in range(repeats):
        order = rng.permutation(len(f))
        h = len(f) // 2
        vals.append(detectors.kid(f[order[:h]], f[order[h:2 * h]], n_subsets=20, seed=seed))
    return float(np.nanmean(vals)) if vals else float("nan")


def realism_gate(generated: Sequence[np.ndarray], real_defects: Sequence[np.ndarray],
                 sources: Sequence[np.ndarray | None] | None = None, *, features: str = "lite0", seed: int = 0,
                 max_realism: float = MAX_REALISM, texture_band: float = TEXTURE_BAND,
                 max_real: int = 200) -> GateReport:
    """Run the three checks (module doc) on a probe of ``generated`` images; ``sources[i]`` is the normal
    output ``i`` was made from (None where unknown)."""
    if not generated:
        return GateReport(False, [Check("size", 0.0, False, ">= 1 output", "nothing generated")], 0, len(real_defects))
    rng = np.random.default_rng([seed, 11])
    real = list(real_defects)
    if len(real) > max_real:
        real = [real[i] for i in sorted(rng.choice(len(real), max_real, replace=False))]
    srcs = [s for s in (sources or []) if s is not None]
    checks: list[Check] = []
    if len(generated) >= 2 and len(real) >= 4:
        checks.append(_realism(generated, real, srcs, features, seed, max_realism))
    else:  # KID needs a few images on each side; the other checks still run
        checks.append(Check("realism", None, True, "not judged", f"too few images for KID ({len(generated)} "
                                                                 f"outputs, {len(real)} real; needs 2 and 4)"))
    checks += _texture_copy_duplicates(generated, real, sources, texture_band)
    return GateReport(all(c.passed for c in checks), checks, len(generated), len(real), features)


def _realism(generated: Sequence[np.ndarray], real: list[np.ndarray], srcs: list[np.ndarray], features: str,
             seed: int, max_realism: float) -> Check:
    f_gen = detectors.features(_to_tensor(generated), features)
    f_real = detectors.features(_to_tensor(real), features)
    kid_gen = detectors.kid(f_gen, f_real, seed=seed)
    kid_rr = _halves_kid(f_real, seed)
    if len(srcs) >= 2:
        kid_src = detectors.kid(detectors.features(_to_tensor(srcs), features), f_real, seed=seed)
        span = kid_src - kid_rr
        if span > 1e-6:
            realism = (kid_gen - kid_rr) / span
            return Check("realism", realism, bool(realism <= max_realism), f"<= {max_realism}",
                         f"KID {kid_gen:.4f}; real-vs-real {kid_rr:.4f}; sources {kid_src:.4f}")
        # the normals already look like the defects to these features: only a large KID can fail
        return Check("realism", kid_gen, bool(kid_gen <= kid_src + abs(kid_rr) + 1e-3), "<= KID of the sources",
                     "normals and defects are not separable by these features")
    return Check("realism", kid_gen, bool(kid_gen <= 3 * abs(kid_rr) + 0.01), "<= 3x real-vs-real KID",
                 "no sources to compare with")


def _texture_copy_duplicates(generated: Sequence[np.ndarray], real: list[np.ndarray],
                             sources: Sequence[np.ndarray | None] | None, texture_band: float) -> list[Check]:
    checks: list[Check] = []
    known = [src for src in (sources or []) if src is not None]
    tex_real = float(np.median([texture_energy(im) for im in (known or real)]))
    tex_gen = float(np.median([texture_energy(im) for im in generated]))
    ratio = tex_gen / max(tex_real, 1e-6)
    checks.append(Check("texture", ratio, bool(1 / texture_band <= ratio <= texture_band),
                        f"in [{1 / texture_band:.2g}, {texture_band:.2g}]",
                        "much more high-frequency energy than real images: noise" if ratio > texture_band else
                        ("much less: blurred" if ratio < 1 / texture_band else "")))
    pairs = [(g, s) for g, s in zip(generated, sources or []) if s is not None and s.shape == g.shape]
    if pairs:
        changed = float(np.median([detectors.changed_fraction(_raw(s), _raw(g)) for g, s in pairs]))
        checks.append(Check("copy", changed, bool(changed >= detectors.COPY_THRESHOLD),
                            f">= {detectors.COPY_THRESHOLD} of the pixels changed", "outputs are their inputs"
                            if changed < detectors.COPY_THRESHOLD else ""))
    dup = _duplicates(generated, real)
    checks.append(Check("duplicates", float(dup), dup == 0, "0 outputs equal to a real defect",
                        "outputs reproduce real defect images" if dup else ""))
    return checks


def _raw(img: np.ndarray) -> torch.Tensor:
    """One image as 1xCxHxW in [-1, 1] at its own resolution."""
    a = img[..., None] if img.ndim == 2 else img
    return torch.from_numpy(a.transpose(2, 0, 1)[None].astype(np.float32) / 127.5 - 1.0)


def _duplicates(generated: Sequence[np.ndarray], real: Sequence[np.ndarray], size: int = 64) -> int:
    """How many outputs are (nearly) pixel-identical to some real defect, compared at ``size`` px.

    "Nearly" adapts to the data: closer than ``DUPLICATE_TAU`` AND closer than a quarter of the
    smallest distance between two different real images (aligned cells can be alike; a copy is
    closer than any two real ones)."""
    def small(im: np.ndarray) -> np.ndarray:
        return cv2.resize(grey(im), (size, size), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255.0

    r = np.stack([small(im) for im in real])
    tau = DUPLICATE_TAU
    if len(r) > 1:  # one row at a time: 200 x 200 x 4096 floats at once would be 650 MB
        nearest = min(float(np.delete(np.abs(r - r[i]).mean(1), i).min()) for i in range(len(r)))
        tau = min(tau, 0.25 * nearest)
    return int(sum(np.abs(r - small(g)).mean(1).min() < tau for g in generated))
