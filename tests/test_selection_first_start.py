"""The embedding model's first start on a machine and every start after it, each in a fresh
process with its own cache directory: the float32 graph ships with the package (no process
imports ``onnx`` for it; without the packaged files the first start builds and caches it), the
int8 one is built in a child without holding up the float32 one, later starts give the same
vectors, and the float32 graph is let go once the int8 one serves queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOAD = """
import json, sys, time
from pathlib import Path
from victor_server.selection import minilm_onnx
from victor_server.selection.minilm import load_minilm
if sys.argv[1:] == ["unpackaged"]:
    minilm_onnx.PACKAGED_GRAPH = Path(sys.argv[0]).with_name("absent.onnx")
model = load_minilm()
quantized_at_load = model.quantized_queries
float_at_load = model.float_graph_loaded
onnx_at_load = "onnx" in sys.modules
vector = model.encode(["erase build.log"])[0]
query = model.encode_query("erase build.log")
deadline = time.monotonic() + 600
while model.float_graph_loaded and time.monotonic() < deadline:
    time.sleep(0.05)  # no query asks: the int8 graph is taken up when its child exits
released_unasked = not model.float_graph_loaded
int8_after_wait = model.wait_for_query_model()
print(json.dumps({"onnx": onnx_at_load, "int8_at_load": quantized_at_load,
                  "float_at_load": float_at_load, "int8_after_wait": int8_after_wait,
                  "float_after_wait": model.float_graph_loaded,
                  "released_unasked": released_unasked,
                  "vector": [round(float(v), 6) for v in vector],
                  "query_cosine": float(query @ vector)}))
"""


def _load(cache: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run([sys.executable, "-c", LOAD, *args], env=env, capture_output=True,
                          text=True, timeout=600, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_no_start_imports_onnx_and_the_float32_graph_goes_once_int8_serves(
        tmp_path: Path) -> None:
    first = _load(tmp_path)
    models = tmp_path / "victor-server" / "models"
    assert first["onnx"] is False  # the float32 graph came with the package
    assert first["int8_at_load"] is False  # the child was still quantising
    assert first["float_at_load"] is True  # so queries need the float32 graph meanwhile
    assert first["int8_after_wait"] is True and first["float_after_wait"] is False
    assert first["released_unasked"] is True  # without a query asking for the int8 graph
    assert sorted(p.suffix for p in models.iterdir()) == [".onnx"]  # the int8 graph only
    again = _load(tmp_path)
    assert again["onnx"] is False and again["int8_at_load"] is True
    assert again["float_at_load"] is False  # read only when a text is embedded
    assert again["float_after_wait"] is False  # and let go after that batch
    assert again["vector"] == first["vector"]
    assert float(str(again["query_cosine"])) > 0.98


def test_without_the_packaged_graph_the_first_start_builds_and_caches_it(
        tmp_path: Path) -> None:
    first = _load(tmp_path, "unpackaged")
    models = tmp_path / "victor-server" / "models"
    assert first["onnx"] is True  # it had to build the float32 graph
    assert sorted(p.suffix for p in models.iterdir()) == [".json", ".onnx", ".onnx"]
    again = _load(tmp_path, "unpackaged")
    assert again["onnx"] is False
    assert again["vector"] == first["vector"]


def test_the_packaged_float32_graph_is_the_one_the_code_builds() -> None:
    from victor_server.selection.minilm_model import load_tokenizer, load_weights, model_dir
    from victor_server.selection.minilm_onnx import PACKAGED_GRAPH, _graph

    directory = model_dir()
    manifest: list[tuple[str, bool]] = []
    built = _graph(load_weights(directory), load_tokenizer(directory)[1], {}, manifest)
    # after a change to _graph: python -c "from victor_server.selection.minilm_onnx import
    # write_packaged_graph; write_packaged_graph()"
    assert PACKAGED_GRAPH.read_bytes() == built
    assert json.loads(PACKAGED_GRAPH.with_suffix(".json").read_text()) == [
        [name, transposed] for name, transposed in manifest]
