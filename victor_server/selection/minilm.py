"""all-MiniLM-L6-v2 sentence embeddings, offline: ``load_minilm()`` verifies the installed
model and loads it into onnxruntime (``minilm_onnx``); it raises ``ModelUnavailable`` when
anything is missing or wrong (package, files, libraries, weights that fail their hash), and
callers then rank tools by keyword.

The shared parts (constants, locating and verifying the files, ``MiniLMEncoder``'s tokenising,
batching and pooling) live in ``minilm_model``, a leaf both this module and the engine import;
they are re-exported here. The tests keep a numpy forward pass as the reference the onnxruntime
engine is checked against.

Import this module lazily: ``minilm_model`` imports numpy at module level (the server's startup
path must not pay for it).
"""

from __future__ import annotations

from victor_server.selection.minilm_model import (
    DIMENSION,
    MODEL_NAME,
    MODEL_PACKAGE,
    WEIGHTS_SHA256,
    Matrix,
    MiniLMEncoder,
    ModelUnavailable,
    _reason,
    load_parts,
    load_tokenizer,
    load_weights,
    model_dir,
    verify_weights,
)

__all__ = [
    "DIMENSION", "MODEL_NAME", "MODEL_PACKAGE", "WEIGHTS_SHA256", "Matrix", "MiniLMEncoder",
    "ModelUnavailable", "load_minilm", "load_parts", "load_tokenizer", "load_weights",
    "model_dir", "verify_weights",
]


def load_minilm() -> MiniLMEncoder:
    """Load the model from the installed package into onnxruntime; ``ModelUnavailable`` on any
    failure (package or libraries missing, weights that fail their hash, a graph that does not
    build). The float32 weights are read only when a text has to be embedded with them (see
    ``minilm_onnx``)."""
    directory = model_dir(WEIGHTS_SHA256)  # this module's constant: tests alter it
    tokenizer, config = load_tokenizer(directory)
    try:
        from victor_server.selection.minilm_onnx import OnnxMiniLMEncoder

        return OnnxMiniLMEncoder(None, tokenizer, config, directory)
    except ModelUnavailable:
        raise
    except Exception as exc:  # onnxruntime or onnx missing, or a graph it cannot run
        raise ModelUnavailable(f"onnxruntime: {_reason(exc)}") from exc
