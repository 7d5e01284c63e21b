"""ArcFace stand-ins and the reference of alignment and embedding.

`models <dir>` writes two stand-ins of buffalo_l's w600k_r50.onnx, with its input (`input.1`,
[batch, 3, 112, 112]) and output (`683`, [1, 512]): <dir>/free/recognition/model.onnx with a free
batch axis (`None`, as the real file has it) and <dir>/fixed/recognition/model.onnx with a batch of 1.
Both compute a fixed random projection of an 8×8 average-pooled image, so every pixel, channel
and the normalisation count.

`embed <model> <image> <landmarks json> <crops out>` aligns the faces as InsightFace's norm_crop
does (written here with NumPy's least squares and cv2.warpAffine on the BGR image Immich hands
InsightFace, and checked against scikit-image's SimilarityTransform), writes the crops as raw RGB
bytes, and prints the embeddings ArcFaceONNX's preprocessing (blobFromImages with swapRB) and
onnxruntime give them."""
import json
import os
import sys

import numpy as np

ARCFACE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def models(folder):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(11)
    weights = rng.normal(0.0, 0.05, (3 * 14 * 14, 512)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, (512,)).astype(np.float32)
    for variant, batch in (("free", "None"), ("fixed", 1)):
        image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [batch, 3, 112, 112])
        embedding = helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])
        nodes = [
            helper.make_node("AveragePool", ["input.1"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "weights"], ["projected"]),
            helper.make_node("Add", ["projected", "bias"], ["683"]),
        ]
        initializers = [numpy_helper.from_array(weights, "weights"), numpy_helper.from_array(bias, "bias")]
        graph = helper.make_graph(nodes, "arcface-stand-in", [image], [embedding], initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        target = os.path.join(folder, variant, "recognition")
        os.makedirs(target, exist_ok=True)
        onnx.save(model, os.path.join(target, "model.onnx"))


def similarity(source, target):
    """Least-squares similarity (scale, rotation, translation) from source to target points:
    solve [x −y 1 0; y x 0 1]·(a, b, tx, ty) = target."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target):
        rows.append([x, -y, 1.0, 0.0])
        values.append(u)
        rows.append([y, x, 0.0, 1.0])
        values.append(v)
    (a, b, tx, ty), *_ = np.linalg.lstsq(np.array(rows), np.array(values), rcond=None)
    return np.array([[a, -b, tx], [b, a, ty]])


def embed(model_path, image_path, landmarks_json, crops_path):
    import cv2
    import onnxruntime as ort
    from PIL import Image
    from skimage.transform import SimilarityTransform

    rgb = np.asarray(Image.open(image_path).convert("RGB"))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    crops = []
    for landmarks in json.loads(landmarks_json):
        points = np.array(landmarks, dtype=np.float32)
        matrix = similarity(points.astype(np.float64), ARCFACE)
        reference = SimilarityTransform.from_estimate(points, ARCFACE) if hasattr(
            SimilarityTransform, "from_estimate"
        ) else None
        if reference is None:
            reference = SimilarityTransform()
            reference.estimate(points, ARCFACE)
        assert np.allclose(matrix, reference.params[:2], atol=1e-4), (matrix, reference.params)
        crops.append(cv2.warpAffine(bgr, matrix, (112, 112), borderValue=0.0))
    np.stack([crop[:, :, ::-1] for crop in crops]).astype(np.uint8).tofile(crops_path)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    blob = cv2.dnn.blobFromImages(crops, 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
    if session.get_inputs()[0].shape[0] == 1:
        embeddings = [session.run(None, {"input.1": blob[i : i + 1]})[0][0] for i in range(len(crops))]
    else:
        embeddings = session.run(None, {"input.1": blob})[0]
    print(json.dumps([[float(value) for value in embedding] for embedding in embeddings]))


command = sys.argv[1]
if command == "models":
    models(sys.argv[2])
elif command == "embed":
    embed(*sys.argv[2:6])
else:
    raise SystemExit(f"unknown command {command}")
