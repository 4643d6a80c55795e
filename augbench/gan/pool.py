"""The image history buffer of Shrivastava et al. (2017) used by CycleGAN.

The discriminator sees a mix of the newest fakes and fakes from earlier
generator versions, which damps oscillation. Randomness comes from an explicit
``torch.Generator`` and the contents are part of the checkpoint, so a resumed
run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import torch


class ImagePool:
    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return a batch the same size as ``images``: each is new or swapped with a stored one (p=0.5)."""
        if self.size <= 0:
            return images
        out = []
        for img in images.detach():
            img = img.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
                continue
            if torch.rand(1, generator=generator).item() > 0.5:
                idx = int(torch.randint(0, self.size, (1,), generator=generator).item())
                old = self.images[idx].clone()
                self.images[idx] = img.clone()
                out.append(old)
            else:
                out.append(img)
        return torch.cat(out, 0)

    def state_dict(self) -> dict:
        return {"size": self.size, "images": [t.cpu() for t in self.images]}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.size = int(state["size"])
        self.images = [t.to(device) for t in state["images"]]
