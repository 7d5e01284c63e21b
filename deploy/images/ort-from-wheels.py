#!/usr/bin/env python3
"""Collects ONNX Runtime's shared libraries from PyPI wheels into one folder for darkroom-ml.

    ort-from-wheels.py OUT_DIR WHEEL [WHEEL ...]

From the onnxruntime wheel: onnxruntime/capi/*.so* except the Python extension and the
TensorRT provider. From other wheels (CUDA's runtime libraries from nvidia-*): every lib/*.so*
they carry. Wheels cannot hold symbolic links, so byte-identical copies (libopenvino.so,
.so.2541, .so.2025.4.1) become links to one file. libonnxruntime.so is made a link to the
versioned library.
"""

import hashlib
import os
import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath


def wanted(name: str) -> bool:
    path = PurePosixPath(name)
    if ".so" not in path.name or name.endswith("/"):
        return False
    if path.parts[:2] == ("onnxruntime", "capi"):
        # TensorRT's provider needs TensorRT, which no wheel here brings; darkroom-ml never asks for it.
        return "pybind11_state" not in path.name and "providers_tensorrt" not in path.name
    return "lib" in path.parts[:-1]


def main() -> None:
    out = Path(sys.argv[1])
    wheels = [Path(w) for w in sys.argv[2:]]
    if not wheels:
        raise SystemExit(__doc__)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    seen: dict[str, str] = {}  # sha256 -> name of the file kept
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if not wanted(name):
                    continue
                target = out / PurePosixPath(name).name
                if target.exists() or target.is_symlink():
                    raise SystemExit(f"{target.name} comes from two wheels")
                digest = hashlib.sha256()
                with archive.open(name) as source, open(target, "wb") as sink:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        digest.update(chunk)
                        sink.write(chunk)
                key = digest.hexdigest()
                if key in seen:
                    target.unlink()
                    target.symlink_to(seen[key])
                else:
                    seen[key] = target.name
                    target.chmod(0o755)
    # Where a link and its file carry the same bytes, the longest (most versioned) name holds them.
    for path in list(out.iterdir()):
        if path.is_symlink():
            real = out / os.readlink(path)
            if len(path.name) > len(real.name):
                path.unlink()
                real.rename(path)
                real.symlink_to(path.name)
                for other in out.iterdir():
                    if other.is_symlink() and os.readlink(other) == real.name and other != real:
                        other.unlink()
                        other.symlink_to(path.name)
    versioned = sorted(out.glob("libonnxruntime.so.*"))
    if not versioned:
        raise SystemExit("no libonnxruntime.so.* in the wheels")
    (out / "libonnxruntime.so").symlink_to(versioned[-1].name)
    for path in sorted(out.iterdir()):
        suffix = f" -> {os.readlink(path)}" if path.is_symlink() else f" {path.stat().st_size // 1024} KiB"
        print(f"{path.name}{suffix}")


if __name__ == "__main__":
    main()
