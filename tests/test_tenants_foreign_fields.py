"""The tenant comes from authentication only: every method of the method table, called by
tenant acme with tenant globex named in each field a request can carry (``sessionId``,
``tenantId``, every spelling of it inside ``context``), shows acme nothing of globex's:
not its sessions or messages, prompt template, config (model), or analytics; and changes
nothing of globex's. The same holds on the MCP face, which carries the token per request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from mcp.shared.exceptions import MCPError
from mcp_face_harness import mcp_client
from rpc_wire import WireServer
from tenancy_setup import ACME, GLOBEX, write_config

from victor_server.methods import LSP_METHODS

SECRET = "GLOBEX-WALRUS-PLAN"
# what globex has and acme must never see: its message, prompt template and config
MARKERS = (SECRET, "You serve Globex", "claude-globex-1", "globex:g1")
FOREIGN_CONTEXT = {"tenant_id": "globex", "tenantId": "globex", "TenantId": "globex",
                   "TENANT_ID": "globex", "session_id": "globex:g1", "sessionId": "globex:g1"}
FOREIGN_FIELDS: dict[str, dict[str, Any]] = {
    "sessionId": {"sessionId": "globex:g1"},
    "session_id": {"session_id": "globex:g1"},
    "tenantId": {"tenantId": "globex"},
    "tenant_id": {"tenant_id": "globex"},
    "context": {"context": FOREIGN_CONTEXT},
    "all": {"sessionId": "globex:g1", "tenantId": "globex", "tenant_id": "globex",
            "context": FOREIGN_CONTEXT},
}
# what each method needs besides the foreign fields, so it gets past validation
REQUIRED: dict[str, dict[str, Any]] = {
    "victor/chat": {"message": "what is the plan?", "sessionId": "a1"},
    "victor/selectTools": {"query": "read a file"},
    "victor/compactContext": {"sessionId": "a1"},
    "victor/getContext": {"sessionId": "a1"},
    "victor/session/get": {"sessionId": "a1"},
    "victor/session/delete": {"sessionId": "a1"},
    "victor/session/search": {"query": "walrus"},
}


class Tenants:
    def __init__(self, root: Path, fake: FakeAnthropic) -> None:
        self.fake = fake
        self.workspace = root / "project"
        self.workspace.mkdir()
        write_config(self.workspace)
        env = fake.env()
        self.globex = WireServer("lsp", self.workspace, env)
        self.globex.initialize(authToken=GLOBEX)
        self.globex.call("victor/chat", {"message": f"{SECRET}: buy all the walruses",
                                         "sessionId": "g1"})
        self.acme = WireServer("lsp", self.workspace, env)
        self.acme.initialize(authToken=ACME)
        self.globex_before = self.globex_view()

    def globex_view(self) -> Any:
        listed = self.globex.call("victor/session/list", {})
        session = self.globex.call("victor/session/get", {"sessionId": "g1"})
        return [listed["sessions"], session["messages"]]


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    with FakeAnthropic() as fake:
        setup = Tenants(tmp_path_factory.mktemp("foreign"), fake)
        try:
            yield setup
        finally:
            setup.acme.close()
            setup.globex.close()


def assert_nothing_of_globex(response: dict[str, Any]) -> None:
    if "error" in response:  # refused: it may echo the id it was given, nothing more
        assert response["error"]["code"] in (-32001, -32602), response
        text = json.dumps(response["error"]).replace("globex:g1", "")
    else:
        text = json.dumps(response["result"])
    for marker in MARKERS:
        assert marker not in text, (marker, response)


@pytest.mark.parametrize("field", sorted(FOREIGN_FIELDS))
@pytest.mark.parametrize("method", LSP_METHODS)
def test_foreign_tenant_in_any_field_shows_nothing(tenants: Tenants, method: str,
                                                   field: str) -> None:
    acme, fake = tenants.acme, tenants.fake
    params = {**REQUIRED.get(method, {}), **FOREIGN_FIELDS[field]}
    if "sessionId" in REQUIRED.get(method, {}) and "sessionId" not in FOREIGN_FIELDS[field]:
        own = f"{method.rsplit('/', 1)[-1]}-{field}"  # acme's own session, to get that far
        acme.call("victor/chat", {"message": "hello", "sessionId": own})
        params["sessionId"] = own
    before = len(fake.message_requests)
    response = acme.request(method, params)
    assert_nothing_of_globex(response)
    for request in fake.message_requests[before:]:  # what acme's turn sent the model
        body = json.dumps(request.body)
        assert "You serve Globex" not in body and SECRET not in body
        assert request.body["model"] != "claude-globex-1"
        assert "You serve ACME's engineers." in json.dumps(request.body["system"])
    if method == "victor/buildPrompt" and "error" not in response:
        assert "You serve ACME's engineers." in response["result"]["systemPrompt"]
    if method == "victor/analytics/summary" and "error" not in response:
        assert response["result"] == acme.call(method, {}), "not acme's own summary"
    assert tenants.globex_view() == tenants.globex_before  # nothing of globex's changed


FOREIGN_ARGS = {"session_id": "globex:g1", "tenant_id": "globex",
                "context": FOREIGN_CONTEXT, "message": "what is the plan?", "query": "walrus"}


async def test_mcp_every_tool_resource_and_prompt_with_a_foreign_tenant(
        tmp_path: Path) -> None:
    """Every MCP tool, called as acme with each argument it takes set to globex's (and a
    ``tenantId`` in ``_meta`` beside the token), and every resource and the prompt: nothing
    of globex's comes back."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    write_config(workspace)
    with FakeAnthropic() as fake:
        async with mcp_client(workspace, tmp_path / "victor.db", fake.env()) as client:
            seeded = await client.call_tool(
                "chat", {"message": f"{SECRET}: buy", "session_id": "g1"},
                meta={"authToken": GLOBEX})
            assert not seeded.is_error, seeded.content
            meta = {"authToken": ACME, "tenantId": "globex", "tenant_id": "globex"}
            tools = (await client.list_tools()).tools
            assert {t.name for t in tools} >= {"chat", "build_prompt", "list_sessions"}
            for tool in tools:
                properties = set(tool.input_schema.get("properties", {}))
                for name in sorted(properties & {"session_id", "tenant_id", "context"}):
                    args = {k: v for k, v in FOREIGN_ARGS.items()
                            if k in properties and (k == name or k in ("message", "query"))}
                    result = await client.call_tool(tool.name, args, meta=meta)
                    text = json.dumps(result.model_dump(mode="json"))
                    if result.is_error:
                        assert "-32001" in text or "-32602" in text, (tool.name, text)
                        text = text.replace("globex:g1", "")
                    for marker in MARKERS:
                        assert marker not in text, (tool.name, name, marker, text)
            for request in fake.message_requests[1:]:  # acme's turns, after globex's one
                assert "You serve Globex" not in json.dumps(request.body)
                assert request.body["model"] != "claude-globex-1"
            for uri in ("victor://sessions", "victor://analytics/summary", "victor://config",
                        "victor://standards", "victor://sessions/globex:g1"):
                try:
                    read = await client.read_resource(uri, meta=meta, cache_mode="bypass")
                    text = json.dumps(read.model_dump(mode="json"))
                except MCPError as exc:
                    assert exc.error.code == -32001, (uri, exc.error)
                    continue
                for marker in MARKERS:
                    assert marker not in text, (uri, marker)
            prompt = await client.get_prompt("victor_system", {"task": "t"}, meta=meta)
            text = json.dumps(prompt.model_dump(mode="json"))
            assert "You serve ACME's engineers." in text and "You serve Globex" not in text
