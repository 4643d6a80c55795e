"""The model factory: every name builds, grey input, frozen backbone, offline ImageNet weights."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from augbench.classify.models import MODEL_NAMES, build_model, load_lite0_imagenet, torch_cache_weights
from augbench.core.errors import ConfigError, WeightsError


@pytest.mark.parametrize("name", ["small_cnn", "efficientnet_lite0", "resnet34"])
@pytest.mark.parametrize("channels", [1, 3])
def test_models_take_rgb_and_grey(name: str, channels: int) -> None:
    net = build_model(name, 3, in_channels=channels).eval()
    with torch.no_grad():
        out = net(torch.rand(2, channels, 32, 32))
    assert out.shape == (2, 3)
    assert torch.isfinite(out).all()


def test_every_name_is_in_the_table_and_unknown_names_fail() -> None:
    assert {"resnet34", "resnet50", "efficientnet_b3", "efficientnet_b7", "efficientnet_lite0", "small_cnn"} <= set(
        MODEL_NAMES)
    with pytest.raises(ConfigError, match="known"):
        build_model("vgg99", 2)
    with pytest.raises(ConfigError):
        build_model("small_cnn", 1)


def test_resnet50_and_b3_heads() -> None:
    for name in ("resnet50", "efficientnet_b3"):
        net = build_model(name, 5)
        assert net.head.out_features == 5


def test_missing_torchvision_weights_say_where(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsError, match=str(tmp_path)):
        build_model("resnet34", 2, pretrained="imagenet")
    assert torch_cache_weights("resnet34").parent == tmp_path / "checkpoints"


def test_torchvision_weights_from_a_user_file(tmp_path) -> None:
    import torchvision

    ref = torchvision.models.resnet34(weights=None)
    f = tmp_path / "r34.pth"
    torch.save(ref.state_dict(), f)
    net = build_model("resnet34", 2, pretrained=str(f))
    assert torch.equal(net.features.conv1.weight, ref.conv1.weight)


def test_frozen_backbone_trains_only_the_head() -> None:
    net = build_model("efficientnet_lite0", 2, pretrained="imagenet", freeze_backbone=True)
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}
    net.train()
    assert not net.features.training  # frozen BN statistics stay as pretrained
    bn = net.features._bn0
    before = bn.running_mean.clone()
    net(torch.rand(4, 3, 32, 32))
    assert torch.equal(bn.running_mean, before)


def test_lite0_imagenet_weights_see_a_cat() -> None:
    """The shipped EfficientNet-Lite0 weights, loaded into our module, call skimage's chelsea a cat."""
    import skimage.data

    feats, fc = load_lite0_imagenet()
    feats.eval()
    img = cv2.resize(skimage.data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32)
    x = torch.from_numpy((img - 127) / 128).permute(2, 0, 1)[None]
    with torch.no_grad():
        top = fc(feats(x)).softmax(1)[0].topk(3).indices.tolist()
    # ImageNet 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat.
    assert all(281 <= i <= 287 for i in top[:2]), top
    # The factory's wrapper gives the same features from [0, 1] input.
    net = build_model("efficientnet_lite0", 2, pretrained="imagenet").eval()
    with torch.no_grad():
        ours = net.features((torch.from_numpy(img / 255).permute(2, 0, 1)[None].float() - net.mean) / net.std)
        ref = feats(x)
    assert torch.allclose(ours, ref, atol=1e-3)
