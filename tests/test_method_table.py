"""The method table every face reads: each row's function and models exist and agree, and the
LSP face can read the table without loading the core or pydantic (its ``initialize`` waits for
nothing)."""

from __future__ import annotations

import inspect
import subprocess
import sys

from victor_server.api_models import Params, Result
from victor_server.methods import LSP_METHODS, TABLE


def test_every_row_resolves() -> None:
    names = [m.name for m in TABLE]
    assert len(set(names)) == len(names) and tuple(names) == LSP_METHODS
    tools = [m.mcp_tool for m in TABLE if m.mcp_tool]
    assert len(set(tools)) == len(tools)
    for method in TABLE:
        assert issubclass(method.params_model, Params), method.name
        assert issubclass(method.result_model, Result), method.name
        assert inspect.iscoroutinefunction(method.function), method.name
        hints = inspect.signature(method.function).parameters
        assert list(hints)[:3] == ["o", "p", "scope"], method.name
        assert method.description.endswith("."), method.name


def test_the_lsp_face_reads_the_table_without_the_core() -> None:
    code = ("import sys, victor_server.adapters.lsp as lsp\n"
            "print(len(lsp.COMMANDS), sorted(m for m in ('pydantic', 'victor_server.app', "
            "'victor_server.api_models', 'victor_server.orchestrator') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split(maxsplit=1)
    assert out == ["5", "[]\n"]
