"""Immich 3.0.3's CLIP image preprocessing, written out with Pillow and NumPy, as the reference
darkroom-ml's Rust preprocessing is compared with (tests, and benchmarks later).

`preprocess(image, preprocess_cfg)` takes a PIL image and a model's `preprocess_cfg.json` (as a
dict) and gives the float32 NCHW tensor [1, 3, size, size] Immich feeds the visual model:

- the size is `size`, or its first value when it is a list;
- the image is resized so its shorter side is that size, the other side `int(ratio * size)`,
  always with bicubic resampling: Immich validates `interpolation` but does not use it;
- the centre square is cropped (offsets `int(w / 2 - size / 2)`; outside the image is black);
- values are scaled to [0, 1] and normalised with `mean` and `std`, in float32.

Immich 3.0.3 runs Pillow 12.2, whose resize always runs the horizontal pass before the vertical
one. Pillow 13 runs the vertical pass first when the height shrinks more than twice as much as
the width, which rounds the 8-bit intermediate differently. `resize` therefore resizes one axis
at a time, which gives Pillow 12.2's result on any Pillow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def resize(image: Image.Image, size: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    """`image.resize(size, resample)` as Pillow 12.2 computes it: width first, then height."""
    if resample == Image.Resampling.NEAREST or image.size == size:
        return image.resize(size, resample)
    width, height = size
    if width != image.width:
        image = image.resize((width, image.height), resample)
    if height != image.height:
        image = image.resize((width, height), resample)
    return image


def model_size(preprocess_cfg: dict[str, Any]) -> int:
    size = preprocess_cfg["size"]
    return size[0] if isinstance(size, list) else size


def resize_shorter_side(image: Image.Image, size: int) -> Image.Image:
    if image.width < image.height:
        target = (size, int((image.height / image.width) * size))
    else:
        target = (int((image.width / image.height) * size), size)
    return resize(image, target, Image.Resampling.BICUBIC)


def centre_crop(image: Image.Image, size: int) -> Image.Image:
    left = int(image.width / 2 - size / 2)
    top = int(image.height / 2 - size / 2)
    return image.crop((left, top, left + size, top + size))


def preprocess(image: Image.Image, preprocess_cfg: dict[str, Any]) -> np.ndarray:
    """Immich's visual transform: float32 [1, 3, size, size]."""
    # An unknown filter name fails here as it fails Immich's model loading.
    RESAMPLING[preprocess_cfg["interpolation"].lower()]
    size = model_size(preprocess_cfg)
    mean = np.array(preprocess_cfg["mean"], dtype=np.float32)
    std = np.array(preprocess_cfg["std"], dtype=np.float32)
    image = image if image.mode == "RGB" else image.convert("RGB")
    image = centre_crop(resize_shorter_side(image, size), size)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    normalised = (pixels - mean) / std
    return np.expand_dims(normalised.transpose(2, 0, 1), 0)
