"""A stand-in CLIP model in the layout of Immich's exports, and ONNX Runtime / tokenizers runs of
it for darkroom-ml's CLIP tests. Small random weights; no torch.

Usage:
  clip_model.py make <folder> [--multilingual] [--dim N]
      <folder>/config.json, visual/{model.onnx, preprocess_cfg.json},
      textual/{model.onnx, tokenizer.json, tokenizer_config.json, special_tokens_map.json}.
      OpenCLIP: visual input `image` float32 [1,3,224,224], textual input `text` int32 [1,77];
      M-CLIP (--multilingual): textual inputs `input_ids` and `attention_mask` int32 [1,77].
      Embeddings have 32 values, or N (a server stores a model's embeddings at the dimension
      of the model it is named after: 512 for ViT-B-32__openai).
  clip_model.py run-visual <folder> <tensor.f32>
      Prints the visual model's first output row (not normalised) as JSON.
  clip_model.py run-textual <folder> <tokens.json>
      tokens.json: {"ids": [...], "attention_mask": [...]}; prints the first output row as JSON.
  clip_model.py tokenize <textual folder> <context length> <texts.json>
      Prints ids and attention masks from Python tokenizers, set up as Immich sets it up, and
      each text as Immich's clean_text cleans it.
"""

import json
import string
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EMBED_DIM = 32
CONTEXT_LENGTH = 77
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# CLIP's pre-tokenization: special tokens, English contractions, letter runs, single digits,
# runs of other non-space characters.
CLIP_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
SENTENCES = [
    "a photo of a cat sitting on a sofa",
    "a dog running on the beach at sunset",
    "mountains and a lake in the morning, 2024",
    "the astronaut's helmet reflects the camera",
    "Ein Foto von einem Hund, der über die Straße läuft",
    "Schöne Grüße aus München",
    "海边的日落和一只猫",
    "我们在山上看星星",
    "a party 🎉 with cake 🍰 and friends 😀",
    "café crème brûlée naïve résumé",
]


def save(model_graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(model_graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)


def visual_graph(rng: np.random.Generator) -> onnx.GraphProto:
    # Patches of 32 (as ViT-B-32's first layer), averaged, then projected.
    weights = numpy_helper.from_array(rng.normal(0, 0.05, (16, 3, 32, 32)).astype(np.float32), "patch_weights")
    projection = numpy_helper.from_array(rng.normal(0, 0.5, (16, EMBED_DIM)).astype(np.float32), "projection")
    nodes = [
        helper.make_node("Conv", ["image", "patch_weights"], ["patches"], kernel_shape=[32, 32], strides=[32, 32]),
        helper.make_node("Tanh", ["patches"], ["activated"]),
        helper.make_node("GlobalAveragePool", ["activated"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("MatMul", ["flat", "projection"], ["embedding"]),
    ]
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])
    embedding = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, EMBED_DIM])
    return helper.make_graph(nodes, "clip_visual", [image], [embedding], [weights, projection])


def textual_graph(rng: np.random.Generator, vocab_size: int, multilingual: bool) -> onnx.GraphProto:
    # Token embeddings weighted by position, summed, then projected.
    table = numpy_helper.from_array(rng.normal(0, 1, (vocab_size, 16)).astype(np.float32), "token_table")
    positions = numpy_helper.from_array(
        rng.uniform(0.5, 1.5, (1, CONTEXT_LENGTH, 1)).astype(np.float32), "position_weights"
    )
    projection = numpy_helper.from_array(rng.normal(0, 0.5, (16, EMBED_DIM)).astype(np.float32), "projection")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    ids_name = "input_ids" if multilingual else "text"
    nodes = [
        helper.make_node("Cast", [ids_name], ["ids64"], to=TensorProto.INT64),
        helper.make_node("Gather", ["token_table", "ids64"], ["tokens"]),
        helper.make_node("Mul", ["tokens", "position_weights"], ["weighted"]),
    ]
    inputs = [helper.make_tensor_value_info(ids_name, TensorProto.INT32, [1, CONTEXT_LENGTH])]
    summed_input = "weighted"
    if multilingual:
        inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT32, [1, CONTEXT_LENGTH]))
        nodes += [
            helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_column"]),
            helper.make_node("Mul", ["weighted", "mask_column"], ["masked"]),
        ]
        summed_input = "masked"
    nodes += [
        helper.make_node("ReduceSum", [summed_input, "axes"], ["summed"], keepdims=0),
        helper.make_node("MatMul", ["summed", "projection"], ["embedding"]),
    ]
    initializers = [table, positions, projection, axes]
    if multilingual:
        initializers.append(numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"))
    embedding = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, EMBED_DIM])
    return helper.make_graph(nodes, "clip_textual", inputs, [embedding], initializers)


def clip_tokenizer():
    """A byte-level BPE tokenizer built the way OpenAI CLIP's tokenizer.json is, trained on a few
    sentences."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=EOS, continuing_subword_prefix="", end_of_word_suffix="</w>",
                                     fuse_unk=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700,
        special_tokens=[BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    tokenizer.train_from_iterator(SENTENCES * 3, trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        (EOS, tokenizer.token_to_id(EOS)), (BOS, tokenizer.token_to_id(BOS)),
        trim_offsets=False, add_prefix_space=False,
    )
    return tokenizer


def sentencepiece_tokenizer():
    """A SentencePiece-style Unigram tokenizer laid out as XLM-R's, SigLIP's and NLLB's
    tokenizer.json are (NFKC, `▁` for spaces, `<s> … </s>`, `<pad>`), trained on a few sentences."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("  ", " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False
    )
    tokenizer.train_from_iterator(SENTENCES * 3, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", tokenizer.token_to_id("<s>")), ("</s>", tokenizer.token_to_id("</s>"))]
    )
    return tokenizer


def make(folder: Path, multilingual: bool) -> None:
    rng = np.random.default_rng(7)
    textual = folder / "textual"
    textual.mkdir(parents=True, exist_ok=True)
    if multilingual:
        tokenizer = sentencepiece_tokenizer()
        special = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
        tokenizer_class = "XLMRobertaTokenizer"
    else:
        tokenizer = clip_tokenizer()
        special = {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS}
        tokenizer_class = "CLIPTokenizer"
    tokenizer.save(str(textual / "tokenizer.json"))
    (textual / "tokenizer_config.json").write_text(json.dumps(
        {**special, "model_max_length": CONTEXT_LENGTH, "tokenizer_class": tokenizer_class}
    ))
    (textual / "special_tokens_map.json").write_text(json.dumps(special))
    save(textual_graph(rng, tokenizer.get_vocab_size(), multilingual), textual / "model.onnx")
    save(visual_graph(rng), folder / "visual" / "model.onnx")
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps(
        {"size": [224, 224], "mode": "RGB", "mean": [0.48145466, 0.4578275, 0.40821073],
         "std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic", "resize_mode": "shortest",
         "fill_color": 0}
    ))
    (folder / "config.json").write_text(json.dumps(
        {"embed_dim": EMBED_DIM,
         "vision_cfg": {"image_size": 224, "layers": 1, "width": 16, "patch_size": 32},
         "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": tokenizer.get_vocab_size(), "width": 16,
                      "heads": 1, "layers": 1}}
    ))


def first_row(folder: Path, kind: str, feeds: dict) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(folder / kind / "model.onnx"), providers=["CPUExecutionProvider"])
    output = session.run(None, feeds)[0][0]
    print(json.dumps([float(value) for value in output]))


def tokenize(textual: Path, context_length: int, texts: list) -> None:
    from tokenizers import Tokenizer

    pad_token = json.loads((textual / "tokenizer_config.json").read_text())["pad_token"]
    tokenizer = Tokenizer.from_file(str(textual / "tokenizer.json"))
    pad_id = tokenizer.token_to_id(pad_token)
    tokenizer.enable_padding(length=context_length, pad_token=pad_token, pad_id=pad_id)
    tokenizer.enable_truncation(max_length=context_length)
    results = []
    for text in texts:
        encoding = tokenizer.encode(text)
        # Immich's clean_text, plain and canonicalized.
        cleaned = " ".join(text.split())
        canonical = cleaned.translate(str.maketrans("", "", string.punctuation)).lower()
        results.append({"ids": encoding.ids, "attention_mask": encoding.attention_mask, "tokens": encoding.tokens,
                        "cleaned": cleaned, "canonical": canonical})
    print(json.dumps(results))


def main() -> None:
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "make":
        global EMBED_DIM
        options = sys.argv[3:]
        if "--dim" in options:
            EMBED_DIM = int(options[options.index("--dim") + 1])
        make(folder, "--multilingual" in options)
    elif command == "run-visual":
        tensor = np.fromfile(sys.argv[3], dtype="<f4").reshape(1, 3, 224, 224)
        first_row(folder, "visual", {"image": tensor})
    elif command == "run-textual":
        tokens = json.loads(Path(sys.argv[3]).read_text())
        feeds = {"text": np.array([tokens["ids"]], dtype=np.int32)}
        if "attention_mask" in tokens:
            feeds = {"input_ids": feeds["text"], "attention_mask": np.array([tokens["attention_mask"]], dtype=np.int32)}
        first_row(folder, "textual", feeds)
    elif command == "tokenize":
        tokenize(folder, int(sys.argv[3]), json.loads(Path(sys.argv[4]).read_text()))
    else:
        sys.exit(f"unknown command {command}")


main()
