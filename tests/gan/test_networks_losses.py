from __future__ import annotations

import pytest
import torch

from augbench.gan.diffaugment import diff_augment
from augbench.gan.losses import cycle_loss, gan_loss, identity_loss
from augbench.gan.networks import PatchDiscriminator, ResnetGenerator, count_parameters, receptive_field
from augbench.gan.pool import ImagePool


@pytest.mark.parametrize("upsample", ["deconv", "resize"])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_keeps_shape_and_range(upsample: str, channels: int) -> None:
    g = ResnetGenerator(channels, channels, ngf=8, n_blocks=2, upsample=upsample)  # type: ignore[arg-type]
    y = g(torch.randn(2, channels, 32, 32))
    assert y.shape == (2, channels, 32, 32)
    assert y.abs().max() <= 1.0
    assert any(isinstance(m, torch.nn.ReflectionPad2d) for m in g.modules())
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in g.modules())
    has_deconv = any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())
    assert has_deconv == (upsample == "deconv")


def test_generator_width_and_blocks_configurable() -> None:
    small, big = ResnetGenerator(1, 1, ngf=8, n_blocks=1), ResnetGenerator(1, 1, ngf=16, n_blocks=3)
    assert count_parameters(big) > 3 * count_parameters(small)


def test_patchgan_is_70x70() -> None:
    assert receptive_field(3) == 70
    d = PatchDiscriminator(3, ndf=8)
    assert d(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # the reference 30x30 patch map


def test_losses() -> None:
    ones, zeros = torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    assert gan_loss(ones, True, "lsgan").item() == 0.0
    assert gan_loss(zeros, True, "lsgan").item() == 1.0
    assert gan_loss(torch.full((1, 1, 2, 2), 20.0), True, "vanilla").item() < 1e-6
    assert gan_loss(torch.full((1, 1, 2, 2), 20.0), False, "vanilla").item() > 10
    x = torch.zeros(1, 1, 2, 2)
    assert cycle_loss(x + 0.5, x).item() == pytest.approx(0.5)
    assert identity_loss(x, x).item() == 0.0
    with pytest.raises(ValueError):
        gan_loss(ones, True, "wgan")  # type: ignore[arg-type]


def test_image_pool_fills_then_mixes_and_round_trips() -> None:
    pool = ImagePool(3)
    g = torch.Generator().manual_seed(0)
    batches = [torch.full((1, 1, 2, 2), float(i)) for i in range(20)]
    outs = [pool.query(b, g) for b in batches]
    assert [o.item() if o.numel() == 1 else o[0, 0, 0, 0].item() for o in outs[:3]] == [0.0, 1.0, 2.0]
    assert any(o[0, 0, 0, 0].item() != i for i, o in enumerate(outs))  # some were swapped for history
    state = pool.state_dict()
    other = ImagePool(1)
    other.load_state_dict(state)
    assert other.size == 3 and all(torch.equal(a, b) for a, b in zip(other.images, pool.images))
    assert ImagePool(0).query(batches[5]) is batches[5]


def test_diffaugment_is_differentiable_and_seeded() -> None:
    x = torch.rand(2, 1, 16, 16, requires_grad=True)
    y1 = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(1))
    y2 = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(1))
    assert y1.shape == x.shape and torch.equal(y1, y2)
    y1.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        diff_augment(x, "rotate")
