from __future__ import annotations

import numpy as np
import pytest
import torch

from augbench.gan import detectors
from augbench.gan.whiten import boxes_foreground, foreground, grabcut_foreground, otsu_foreground, preview, whiten


def test_copy_and_collapse_detectors() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 32, 32, generator=g) * 2 - 1
    copy = detectors.DetectorReport(detectors.copy_score(x, x), detectors.diversity_ratio(x, x), 0.0, "pixels")
    assert copy.copies_input and not copy.collapsed
    same = x[:1].expand(8, -1, -1, -1)
    collapsed = detectors.DetectorReport(detectors.copy_score(x, same), detectors.diversity_ratio(x, same), 0, "p")
    assert collapsed.collapsed and not collapsed.copies_input


def test_kid_is_small_for_same_distribution_and_large_otherwise() -> None:
    r = np.random.default_rng(0)
    a, b = r.normal(0, 1, (60, 16)), r.normal(0, 1, (60, 16))
    c = r.normal(2, 1, (60, 16))
    assert abs(detectors.kid(a, b, n_subsets=10)) < 0.05 < detectors.kid(a, c, n_subsets=10)


def test_lite0_features_recognise_a_cat() -> None:
    """The extractor built from the package's state dict really is the ImageNet network."""
    import skimage.data

    net = detectors.load_lite0("cpu")
    img = torch.from_numpy(skimage.data.chelsea()).permute(2, 0, 1)[None].float()
    img = torch.nn.functional.interpolate(img, size=(224, 224), mode="bilinear", align_corners=False)
    sd = torch.load(detectors.lite0_weights_path(), weights_only=True, map_location="cpu")
    with torch.no_grad():
        logits = net(img) @ sd["_fc.weight"].T + sd["_fc.bias"]
    assert int(logits.argmax()) in (281, 282, 285)  # tabby / tiger cat / Egyptian cat
    f = detectors.features(torch.zeros(2, 1, 32, 32), "lite0", size=64)
    assert f.shape == (2, 1280)


def _object_on_white() -> np.ndarray:
    img = np.full((64, 64), 240, np.uint8)
    img[16:48, 12:52] = 60
    img[30:34, 20:40] = 250  # a bright "defect" inside the object must stay
    return img


def test_otsu_whitening_keeps_object_and_defect() -> None:
    img = _object_on_white()
    fg = otsu_foreground(img)
    assert fg[20, 20] and fg[32, 30] and not fg[2, 2]
    out = whiten(img, fg)
    assert out[2, 2] == 255 and out[20, 20] == 60 and out[32, 30] == 250
    strip = preview(img, fg)
    assert strip.shape == (64, 64 * 3 + 8, 3)


def test_grabcut_boxes_and_mask_modes() -> None:
    img = np.stack([_object_on_white()] * 3, -1)
    assert grabcut_foreground(img)[30, 20]
    fg = boxes_foreground((64, 64), [(10, 10, 20, 20)])
    assert fg.sum() == 100
    mask = np.zeros((32, 32), np.uint8)
    mask[:16] = 255
    fgm = foreground(img, "mask", mask=mask)
    assert fgm[0, 0] and not fgm[63, 0]
    assert foreground(img, "none").all()
    with pytest.raises(ValueError):
        foreground(img, "magic")  # type: ignore[arg-type]
