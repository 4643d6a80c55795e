"""Weight files: resolution order, safe loading, shape checks, checksums.

Resolution (DESIGN "offline facts"): an explicit path in the job -> the user
cache folder (``cache_dir()/style``) -> what ships in ``resources/style``.
Every file is read with ``torch.load(weights_only=True)``, so a pickle that
tries to run code is refused, and every state dict is checked layer by layer
so a wrong file fails with a message naming the layer.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from augbench.core.errors import WeightsError
from augbench.core.paths import cache_dir, resources_dir

DECODER_FORMAT = "augbench-adain-decoder/1"
DEFAULT_DECODER = "decoder_vgg16.pt"


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` -> CUDA when present, else CPU; anything else is passed to torch."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise WeightsError(f"unknown device {device!r}: {exc}") from None


def style_cache_dir() -> Path:
    return cache_dir() / "style"


def shipped_dir() -> Path:
    return resources_dir() / "style"


def resolve(name: str, explicit: str | Path | None = None) -> Path:
    """Find a weights file: explicit path -> user cache -> shipped resources."""
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise WeightsError(f"weights file {p} does not exist")
        return p
    tried = []
    for folder in (style_cache_dir(), shipped_dir()):
        p = folder / name
        tried.append(str(p))
        if p.is_file():
            return p
    raise WeightsError(f"no {name} found; looked in: {', '.join(tried)}. Train one with "
                       "`augbench style train-decoder` or pass an explicit path")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_load(path: str | Path) -> Any:
    """``torch.load`` with ``weights_only=True``; code-running pickles become a WeightsError."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(f"{path} was refused: it is not a plain weights file "
                           f"(it asks to run code or build objects; weights_only load said: "
                           f"{str(exc).splitlines()[0] if str(exc) else 'unpickling error'})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise WeightsError(f"cannot read weights file {path}: {exc}") from None


def _state_dict_of(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path} does not contain a state dict of tensors")
    return obj


def load_checked(module: nn.Module, state: dict[str, torch.Tensor], source: str, *,
                 allow_extra: bool = False) -> None:
    """Copy ``state`` into ``module`` after checking every key and shape (clear errors)."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise WeightsError(f"{source}: layer {missing[0]} is missing from the file "
                           f"({len(missing)} tensors missing; is it the right kind of weights file?)")
    extra = [k for k in state if k not in own]
    if extra and not allow_extra:
        raise WeightsError(f"{source}: unexpected layer {extra[0]} in the file")
    for k, v in own.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise WeightsError(f"{source}: layer {k} has shape {tuple(state[k].shape)}, "
                               f"the network expects {tuple(v.shape)}")
    module.load_state_dict({k: state[k].to(v.dtype) for k, v in own.items()})


def load_module_weights(module: nn.Module, path: str | Path, *, allow_extra: bool = False) -> None:
    """Load a weights file (plain state dict or augbench's self-describing dict) into ``module``."""
    path = Path(path)
    load_checked(module, _state_dict_of(safe_load(path), path), str(path), allow_extra=allow_extra)


def decoder_arch_of(path: str | Path) -> str:
    """``vgg16`` for augbench's own decoder files, ``adain`` for a plain pytorch-AdaIN decoder.pth."""
    obj = safe_load(path)
    if isinstance(obj, dict) and obj.get("format") == DECODER_FORMAT:
        return str(obj.get("arch", "vgg16"))
    return "adain"
