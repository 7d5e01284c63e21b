"""Reference side of darkroom-ml's OCR tests, from the PP-OCR models that the rapidocr wheel
carries and RapidOCR's own Python code.

    ocr_reference.py models CACHE
        Copies the wheel's detection and recognition ONNX files into Immich's cache layout:
        CACHE/ocr/PP-OCRv5_mobile/{detection,recognition}/model.onnx. Prints the files used.
    ocr_reference.py image OUT TEXT
        Draws TEXT in black on a white band across scikit-image's coffee photo, saves the PNG to
        OUT and prints the band's text box as JSON [left, top, right, bottom].
    ocr_reference.py reference CACHE IMAGE OUT_DIR [MIN_SCORE] [SCORE_MODE]
        Runs the pipeline Immich builds around RapidOCR (its detector input, RapidOCR's
        DBPostProcess with Immich's parameters, its reading order, its perspective crops, then
        RapidOCR's TextRecognizer) and RapidOCR's own end-to-end engine, on the same models.
        Writes the detector's input and output maps and the first crop (raw float32 / uint8) to
        OUT_DIR and prints everything as JSON.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import rapidocr

import clip_reference
from PIL import Image, ImageDraw, ImageFont

MODELS = Path(rapidocr.__file__).parent / "models"


def wheel_model(kind: str) -> Path:
    """The wheel's detection ('det') or recognition ('rec') model."""
    found = sorted(p for p in MODELS.glob("*.onnx") if f"_{kind}_" in p.name)
    if not found:
        raise SystemExit(f"the rapidocr wheel has no {kind} model in {MODELS}")
    return found[-1]


def copy_models(cache: Path) -> None:
    folder = cache / "ocr" / "PP-OCRv5_mobile"
    used = {}
    for kind, model_type in (("det", "detection"), ("rec", "recognition")):
        target = folder / model_type / "model.onnx"
        target.parent.mkdir(parents=True, exist_ok=True)
        source = wheel_model(kind)
        shutil.copyfile(source, target)
        used[model_type] = source.name
    print(json.dumps(used))


def draw_image(out: Path, text: str) -> None:
    from skimage import data

    photo = Image.fromarray(data.coffee()).convert("RGB")
    draw = ImageDraw.Draw(photo)
    font = ImageFont.load_default(size=40)
    band_top, band_bottom = 40, 110
    draw.rectangle([0, band_top, photo.width, band_bottom], fill=(255, 255, 255))
    left, top, right, bottom = draw.textbbox((60, 52), text, font=font)
    draw.text((60, 52), text, fill=(0, 0, 0), font=font)
    photo.save(out)
    print(json.dumps([left, top, right, bottom]))


class RecognizerOptions(dict):
    """The configuration RapidOCR's TextRecognizer reads, as attributes and keys."""

    def __init__(self, **options):
        super().__init__(**options)
        from rapidocr.utils.typings import EngineType, LangRec

        self.engine_type = EngineType.ONNXRUNTIME
        self.lang_type = LangRec.CH
        self.font_path = None


def detector_input(image: Image.Image, max_resolution: float) -> np.ndarray:
    """Immich's detector input: shorter side to max_resolution (never enlarged), sides rounded
    to multiples of 32, LANCZOS, BGR, (x - 0.5) / 127.5."""
    shorter = min(image.width, image.height)
    ratio = min(float(max_resolution) / shorter, 1.0)
    height = int(round(int(image.height * ratio) / 32) * 32)
    width = int(round(int(image.width * ratio) / 32) * 32)
    # Pillow 12.2, which Immich 3.0.3 runs, resizes the width before the height.
    pixels = np.array(clip_reference.resize(image, (width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    pixels = pixels[:, :, ::-1]
    scale = np.float32(1.0) / (np.float32(0.5) * np.float32(255.0))
    pixels = (pixels - np.float32(0.5)) * scale
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], dtype=np.float32)


def reading_order(boxes: np.ndarray) -> np.ndarray:
    """Immich's order, quirk included (the line number is looked up through the y order twice)."""
    if len(boxes) == 0:
        return boxes
    by_y = np.argsort(boxes[:, 0, 1], kind="stable")
    tops = boxes[by_y, 0, 1]
    line = np.zeros(len(boxes), dtype=np.int32)
    line[1:] = np.cumsum(np.abs(np.diff(tops)) >= 10)
    key = line[by_y] * 1e6 + boxes[by_y, 0, 0]
    return boxes[by_y[np.argsort(key, kind="stable")]]


def cut_out(image: Image.Image, box: np.ndarray) -> np.ndarray:
    """A box cut out as Immich does it: Pillow's perspective transform (bicubic), turned when
    tall, as BGR."""
    width = int(max(np.linalg.norm(box[1] - box[0]), np.linalg.norm(box[2] - box[3])))
    height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    rows, values = [], []
    for (x, y), (u, v) in zip(corners, box.astype(np.float64)):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        values.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values.append(v)
    coefficients = np.linalg.solve(np.array(rows), np.array(values))
    cut = image.transform((width, height), Image.Transform.PERSPECTIVE, tuple(coefficients), Image.Resampling.BICUBIC)
    if cut.height / cut.width >= 1.5:
        cut = cut.rotate(90, expand=True)
    return np.ascontiguousarray(np.array(cut)[:, :, ::-1])


def reference(cache: Path, image_path: Path, out_dir: Path, min_score: float, score_mode: str) -> None:
    from rapidocr.ch_ppocr_det.utils import DBPostProcess
    from rapidocr.ch_ppocr_rec import TextRecInput, TextRecognizer
    from rapidocr.utils.vis_res import VisRes

    VisRes.__init__ = lambda self, **kwargs: None
    folder = cache / "ocr" / "PP-OCRv5_mobile"
    image = Image.open(image_path).convert("RGB")
    detector = ort.InferenceSession(str(folder / "detection" / "model.onnx"), providers=["CPUExecutionProvider"])
    tensor = detector_input(image, 736)
    tensor.astype("<f4").tofile(out_dir / "input.f32")
    prediction = detector.run(None, {detector.get_inputs()[0].name: tensor})[0]
    prediction.astype("<f4").tofile(out_dir / "map.f32")
    post = DBPostProcess(
        thresh=0.3, box_thresh=min_score, max_candidates=1000, unclip_ratio=1.6, use_dilation=True, score_mode=score_mode
    )
    boxes, scores = post(prediction, (image.height, image.width))
    boxes = reading_order(np.asarray(boxes, dtype=np.float32)) if len(boxes) else np.zeros((0, 4, 2), np.float32)

    texts, text_scores = [], []
    if len(boxes):
        crops = [cut_out(image, box) for box in boxes]
        crops[0].tofile(out_dir / "crop0.u8")
        session = ort.InferenceSession(str(folder / "recognition" / "model.onnx"), providers=["CPUExecutionProvider"])
        recognizer = TextRecognizer(RecognizerOptions(session=session, rec_batch_num=6, rec_img_shape=(3, 48, 320)))
        result = recognizer(TextRecInput(img=crops))
        texts, text_scores = list(result.txts), [float(s) for s in result.scores]

    engine = rapidocr.RapidOCR(
        params={
            "Det.model_path": str(folder / "detection" / "model.onnx"),
            "Rec.model_path": str(folder / "recognition" / "model.onnx"),
            "Global.use_cls": False,
        }
    )
    own = engine(np.array(image)[:, :, ::-1])
    print(
        json.dumps(
            {
                "input_shape": list(tensor.shape),
                "map_shape": list(prediction.shape),
                "boxes": boxes.tolist(),
                "scores": [float(s) for s in scores],
                "texts": texts,
                "text_scores": text_scores,
                "crop0_shape": list(crops[0].shape) if len(boxes) else [],
                "rapidocr_texts": list(own.txts) if own.txts is not None else [],
                "rapidocr_boxes": own.boxes.tolist() if own.boxes is not None else [],
            }
        )
    )


def main() -> None:
    command = sys.argv[1]
    if command == "models":
        copy_models(Path(sys.argv[2]))
    elif command == "image":
        draw_image(Path(sys.argv[2]), sys.argv[3])
    elif command == "reference":
        min_score = float(sys.argv[5]) if len(sys.argv) > 5 else 0.5
        score_mode = sys.argv[6] if len(sys.argv) > 6 else "fast"
        reference(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), min_score, score_mode)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
