"""SCRFD stand-ins and their reference decoding.

`models <dir>` writes three stand-ins of buffalo_l's det_10g.onnx under <dir>/<variant>/detection/
model.onnx, each with det_10g's input (`input.1`, [1, 3, ?, ?]) and output names, ignoring the
image and giving constant maps for a 640×640 input in which a few faces are planted among
low-scoring noise: `kps` (det_10g's 9 outputs, [anchors, n]), `batched` (the same maps with a
leading batch axis) and `plain` (the 6 outputs of a model without landmarks).

`decode <width> <height> <threshold>...` prints, per threshold, the faces the maps give for an image
of that size with landmarks (`kps`, also `batched`'s answer) and without (`plain`), decoded here
independently of InsightFace and darkroom-ml: anchors, threshold, scaling back to the image,
greedy NMS at IoU 0.4.

`blob <dir>` copies scikit-image's astronaut.png into <dir> and writes <dir>/blob.raw, as raw
float32, InsightFace's detector input for it as Immich computes it (OpenCV on the BGR image, then
blobFromImage with swapRB)."""
import json
import os
import sys

import numpy as np

SIZE = 640
STRIDES = (8, 16, 32)
ANCHORS = 2
SCORES = ("448", "471", "494")
BOXES = ("451", "474", "497")
LANDMARKS = ("454", "477", "500")


def planted_maps():
    rng = np.random.default_rng(7)
    maps = {}
    for stride, scores, boxes, landmarks in zip(STRIDES, SCORES, BOXES, LANDMARKS):
        count = (SIZE // stride) ** 2 * ANCHORS
        maps[scores] = rng.uniform(0.0, 0.3, (count, 1)).astype(np.float32)
        maps[boxes] = rng.uniform(0.5, 3.0, (count, 4)).astype(np.float32)
        maps[landmarks] = rng.uniform(-2.0, 2.0, (count, 10)).astype(np.float32)
    face_landmarks = [-1.0, -0.8, 1.0, -0.8, 0.0, 0.2, -0.8, 1.2, 0.8, 1.2]

    def plant(stride, row, column, anchor, score, distances, scale=1.0):
        level = STRIDES.index(stride)
        index = (row * (SIZE // stride) + column) * ANCHORS + anchor
        maps[SCORES[level]][index] = score
        maps[BOXES[level]][index] = distances
        maps[LANDMARKS[level]][index] = [value * scale for value in face_landmarks]

    plant(16, 10, 12, 0, 0.95, [3.0, 4.0, 3.0, 5.0])  # a face around (192, 160)
    plant(16, 10, 13, 1, 0.90, [4.0, 4.0, 2.0, 5.0])  # the same face again, a cell to the right
    plant(16, 10, 16, 0, 0.85, [2.5, 3.0, 2.5, 4.0])  # a neighbour, overlapping a little
    plant(8, 50, 20, 1, 0.75, [4.0, 5.0, 4.0, 6.0], 2.0)  # passes 0.7, not 0.8
    plant(32, 5, 15, 0, 0.60, [1.5, 2.0, 1.5, 2.5], 0.5)  # passes 0.5 only
    plant(8, 79, 79, 1, 0.99, [1.0, 1.0, 1.0, 1.0])  # in the padding's corner
    return maps


def models(folder):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    maps = planted_maps()
    variants = {
        "kps": (SCORES + BOXES + LANDMARKS, False),
        "batched": (SCORES + BOXES + LANDMARKS, True),
        "plain": (SCORES + BOXES, False),
    }
    for variant, (names, batched) in variants.items():
        image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"])
        nodes, outputs = [], []
        for name in names:
            values = maps[name][None] if batched else maps[name]
            nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(values, name)))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(values.shape)))
        graph = helper.make_graph(nodes, "scrfd-stand-in", [image], outputs)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        target = os.path.join(folder, variant, "detection")
        os.makedirs(target, exist_ok=True)
        onnx.save(model, os.path.join(target, "model.onnx"))


def decode(variant, width, height, threshold):
    maps = planted_maps()
    # The letterbox: the image fitted into 640×640 at the top left.
    if height / width > 1.0:
        fitted_height = SIZE
        fitted_width = int(SIZE / (height / width))
    else:
        fitted_width = SIZE
        fitted_height = int(SIZE * (height / width))
    scale = fitted_height / height
    with_landmarks = variant != "plain"
    found = []
    for stride, scores, boxes, landmarks in zip(STRIDES, SCORES, BOXES, LANDMARKS):
        cells = SIZE // stride
        for index, score in enumerate(maps[scores][:, 0]):
            if score < np.float32(threshold):
                continue
            row, column = divmod(index // ANCHORS, cells)
            cx, cy = column * stride, row * stride
            left, top, right, bottom = maps[boxes][index] * stride
            face = {
                "box": [float(v) / scale for v in (cx - left, cy - top, cx + right, cy + bottom)],
                "score": float(score),
            }
            if with_landmarks:
                offsets = maps[landmarks][index] * stride
                face["landmarks"] = [
                    [float(cx + offsets[2 * i]) / scale, float(cy + offsets[2 * i + 1]) / scale] for i in range(5)
                ]
            found.append(face)
    found.sort(key=lambda face: -face["score"])
    kept = []
    for face in found:
        if all(iou(face["box"], other["box"]) <= 0.4 for other in kept):
            kept.append(face)
    return {
        "boxes": [[float(np.round(value)) for value in face["box"]] for face in kept],
        "scores": [face["score"] for face in kept],
        "landmarks": [face["landmarks"] for face in kept] if with_landmarks else [],
    }


def iou(a, b):
    """Overlap in pixel-index boxes (a box from 0 to 9 is 10 pixels wide)."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    both = width * height
    area = lambda box: (box[2] - box[0] + 1) * (box[3] - box[1] + 1)  # noqa: E731
    return both / (area(a) + area(b) - both)


def blob(folder):
    import shutil

    import cv2
    import skimage.data
    from PIL import Image

    image_path = os.path.join(folder, "astronaut.png")
    shutil.copy(os.path.join(os.path.dirname(skimage.data.__file__), "astronaut.png"), image_path)
    out_path = os.path.join(folder, "blob.raw")
    rgb = np.asarray(Image.open(image_path).convert("RGB"))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ratio = bgr.shape[0] / bgr.shape[1]
    if ratio > 1.0:
        new_height, new_width = SIZE, int(SIZE / ratio)
    else:
        new_width, new_height = SIZE, int(SIZE * ratio)
    canvas = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    canvas[:new_height, :new_width] = cv2.resize(bgr, (new_width, new_height))
    values = cv2.dnn.blobFromImage(canvas, 1.0 / 128.0, (SIZE, SIZE), (127.5, 127.5, 127.5), swapRB=True)
    values.astype(np.float32).tofile(out_path)
    print(json.dumps({"scale": new_height / bgr.shape[0]}))


command = sys.argv[1]
if command == "models":
    models(sys.argv[2])
elif command == "decode":
    width, height = int(sys.argv[2]), int(sys.argv[3])
    answer = {
        variant: {threshold: decode(variant, width, height, float(threshold)) for threshold in sys.argv[4:]}
        for variant in ("kps", "plain")
    }
    print(json.dumps(answer))
elif command == "blob":
    blob(sys.argv[2])
else:
    raise SystemExit(f"unknown command {command}")
