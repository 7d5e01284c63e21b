"""Reference data for darkroom-ml's CLIP preprocessing tests, from scikit-image's bundled photos.

Usage: clip_photos.py <out_dir>

Writes into <out_dir>:
- portrait and tall PNGs made from the photos (transposed, and a 1:3 strip), so that both sides
  decode the same lossless file;
- <photo>.rgb: the photo as Pillow decodes it (`convert("RGB")`), raw 8-bit RGB;
- <photo>.<config>.f32: Immich's input tensor for that preprocessing config (clip_reference),
  raw little-endian float32;
- <photo>.<filter>.<w>x<h>.rgb: the photo resized with each Pillow filter;
- manifest.json, listing all of it.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import skimage
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import clip_reference  # noqa: E402

OPENAI = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}
CONFIGS = {
    # ViT-B-32__openai's configuration.
    "openai224": {"size": [224, 224], "mode": "RGB", "interpolation": "bicubic", "resize_mode": "shortest",
                  "fill_color": 0, **OPENAI},
    # A SigLIP-like one: 256, bilinear named (Immich resizes bicubic regardless), mean and std 0.5.
    "siglip256": {"size": [256, 256], "mode": "RGB", "interpolation": "bilinear", "resize_mode": "squash",
                  "fill_color": 0, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    # Larger than some photos' shorter side: upscaling.
    "large384": {"size": 384, "interpolation": "BICUBIC", **OPENAI},
}
PHOTOS = [
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "retina.jpg",
    "motorcycle_left.png", "ihc.png", "camera.png", "moon.png", "cell.png", "page.png",
]
RESIZES = [(100, 77), (700, 450), (300, 512), (64, 64)]


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    data = Path(skimage.__file__).parent / "data"
    sources = {}
    for name in PHOTOS:
        shutil.copy(data / name, out / name)
        sources[name] = out / name
    # Portrait, and taller than 1:2 (where Pillow 12 and 13 order their passes differently).
    Image.open(data / "rocket.jpg").convert("RGB").transpose(Image.Transpose.TRANSPOSE).save(out / "rocket_portrait.png")
    Image.open(data / "retina.jpg").convert("RGB").crop((500, 0, 900, 1400)).save(out / "retina_tall.png")
    sources["rocket_portrait.png"] = out / "rocket_portrait.png"
    sources["retina_tall.png"] = out / "retina_tall.png"

    manifest = {"configs": CONFIGS, "photos": [], "resizes": []}
    for name, path in sources.items():
        image = Image.open(path)
        image.load()
        mode = image.mode
        image = image.convert("RGB")
        (out / f"{name}.rgb").write_bytes(image.tobytes())
        tensors = {}
        for config_name, config in CONFIGS.items():
            # The large size is there for upscaling: only photos smaller than it need it.
            if config_name == "large384" and min(image.size) >= 384:
                continue
            tensor = clip_reference.preprocess(image, config)
            file = f"{name}.{config_name}.f32"
            (out / file).write_bytes(tensor.astype("<f4").tobytes())
            tensors[config_name] = {"file": file, "shape": list(tensor.shape)}
        manifest["photos"].append(
            {"name": name, "path": str(path), "mode": mode, "width": image.width, "height": image.height,
             "tensors": tensors}
        )
    for name in ["astronaut.png", "chelsea.png", "rocket_portrait.png"]:
        image = Image.open(sources[name]).convert("RGB")
        for filter_name, resampling in clip_reference.RESAMPLING.items():
            for width, height in RESIZES:
                file = f"{name}.{filter_name}.{width}x{height}.rgb"
                resized = clip_reference.resize(image, (width, height), resampling)
                (out / file).write_bytes(resized.tobytes())
                manifest["resizes"].append(
                    {"photo": name, "filter": filter_name, "width": width, "height": height, "file": file}
                )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(np.__version__)


main()
