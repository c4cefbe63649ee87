"""Drive the real ``victor-server lsp`` over stdio with pytest-lsp's client."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features
from server_env import server_env

from victor_server.adapters.lsp import raw_params_converter
from victor_server.api_models import plain as _plain

SERVER = [sys.executable, "-m", "victor_server", "lsp"]



class VictorClient:
    """A pytest-lsp client that also records victor/* notifications."""

    def __init__(self) -> None:
        # the same plain-JSON converter as the server, so results keep keys like 'a.b'
        self.client = LanguageClient(converter_factory=raw_params_converter)
        register_lsp_features(self.client)
        self.deltas: list[dict[str, Any]] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.client.feature("victor/chatDelta")(lambda params: self.deltas.append(_plain(params)))
        self.client.feature("victor/toolCall")(
            lambda params: self.tool_calls.append(_plain(params)))
        self.initialize_result: Any = None

    async def request(self, method: str, params: Any) -> Any:
        return _plain(await self.client.protocol.send_request_async(method, params))

    def send(self, method: str, params: Any) -> Any:
        """Start a request without waiting; returns the future."""
        return self.client.protocol.send_request(method, params)

    @property
    def stream_text(self) -> str:
        return "".join(d["text"] for d in self.deltas)


@asynccontextmanager
async def lsp_server(workspace: Path, env: dict[str, str] | None = None,
                     args: list[str] | None = None,
                     init_options: dict[str, Any] | None = None) -> AsyncIterator[VictorClient]:
    victor = VictorClient()
    await victor.client.start_io(*SERVER, "--workspace", str(workspace), *(args or []),
                                 env=server_env(env))
    victor.initialize_result = await victor.client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(), initialization_options=init_options))
    try:
        yield victor
    finally:
        try:
            await victor.client.shutdown_session()
        finally:
            await victor.client.stop()
