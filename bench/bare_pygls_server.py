"""The baseline for bench_lsp.py: a pygls 2.x server that does nothing but answer.

``initialize`` with pygls' defaults and one custom method, ``bare/echo``, returning its params,
so the gap between it and ``victor-server lsp`` is what our face and core add.
"""

from __future__ import annotations

from typing import Any

from pygls.lsp.server import LanguageServer

server = LanguageServer("bare", "0")


@server.feature("bare/echo")
async def echo(params: Any) -> Any:
    return params._asdict() if hasattr(params, "_asdict") else params


if __name__ == "__main__":
    server.start_io()
