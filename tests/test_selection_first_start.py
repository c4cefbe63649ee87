"""The embedding model's first start on a machine and every start after it, each in a fresh
process with its own cache directory: the first builds and caches both graphs (the int8 one in a
child, without holding up the float32 one), later ones import no ``onnx`` and give the same
vectors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOAD = """
import json, sys
from victor_server.selection.minilm import load_minilm
model = load_minilm()
quantized_at_load = model.quantized_queries
onnx_at_load = "onnx" in sys.modules
vector = model.encode(["erase build.log"])[0]
query = model.encode_query("erase build.log")
print(json.dumps({"onnx": onnx_at_load, "int8_at_load": quantized_at_load,
                  "int8_after_wait": model.wait_for_query_model(),
                  "vector": [round(float(v), 6) for v in vector],
                  "query_cosine": float(query @ vector)}))
"""


def _load(cache: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run([sys.executable, "-c", LOAD], env=env, capture_output=True,
                          text=True, timeout=600, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_later_starts_read_both_graphs_from_the_cache_without_onnx(tmp_path: Path) -> None:
    first = _load(tmp_path)
    models = tmp_path / "victor-server" / "models"
    assert first["onnx"] is True  # it had to build the float32 graph
    assert first["int8_at_load"] is False  # the child was still quantising
    assert first["int8_after_wait"] is True
    assert sorted(p.suffix for p in models.iterdir()) == [".json", ".onnx", ".onnx"]
    again = _load(tmp_path)
    assert again["onnx"] is False and again["int8_at_load"] is True
    assert again["vector"] == first["vector"]
    assert float(str(again["query_cosine"])) > 0.98
