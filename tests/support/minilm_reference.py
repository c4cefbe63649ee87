"""A numpy forward pass of all-MiniLM-L6-v2: the reference the onnxruntime engine is checked
against (the server itself runs only onnxruntime).

BERT as published: 6 layers, 12 heads, hidden 384, exact (erf) GELU, post-layer-norm residuals.
Written plainly, for reading against the paper rather than for speed; it shares tokenising,
batching and pooling with the server's engine (``MiniLMEncoder``), so a difference in vectors is
a difference in the transformer itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from victor_server.selection.minilm import (
    DIMENSION,
    Matrix,
    MiniLMEncoder,
    load_parts,
    model_dir,
)


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


class NumpyMiniLM(MiniLMEncoder):
    engine = "numpy"

    def __init__(self, weights: dict[str, Any], tokenizer: Any, config: dict[str, Any]) -> None:
        super().__init__(tokenizer)
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()
                   if v.dtype != np.int64}
        self._layers = int(config["num_hidden_layers"])

    def _linear(self, x: Matrix, prefix: str) -> Matrix:
        out: Matrix = x @ self._w[prefix + ".weight"].T + self._w[prefix + ".bias"]
        return out

    def _norm(self, x: Matrix, prefix: str) -> Matrix:
        return _layer_norm(x, self._w[prefix + ".weight"], self._w[prefix + ".bias"], self._eps)

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        w = self._w
        batch, width = ids.shape
        heads, head_dim = self._heads, DIMENSION // self._heads
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:width]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        bias = self._mask_bias(mask)

        def split(t: Matrix) -> Matrix:  # (batch, tokens, 384) -> (batch, heads, tokens, 32)
            out: Matrix = t.reshape(batch, width, heads, head_dim).transpose(0, 2, 1, 3)
            return out

        for i in range(self._layers):
            p = f"encoder.layer.{i}."
            q, k, v = (split(self._linear(x, f"{p}attention.self.{n}"))
                       for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head_dim)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, width, DIMENSION)
            x = self._norm(x + self._linear(context, p + "attention.output.dense"),
                           p + "attention.output.LayerNorm")
            hidden = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._norm(x + self._linear(hidden, p + "output.dense"), p + "output.LayerNorm")
        return self._pool(x, mask)


def load_reference() -> NumpyMiniLM:
    return NumpyMiniLM(*load_parts(model_dir()))
