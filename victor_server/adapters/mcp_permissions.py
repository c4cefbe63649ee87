"""Approvals on the MCP face: form elicitation (``elicitation/create``) while ``chat`` runs.

When the core's approvals policy says "ask" for a tool call inside a ``chat`` turn, the
``McpApprover`` sends the client an elicitation related to the ``chat`` request: a message saying
what the call is (title, the command or the diff, the config rule) and a form of one required
field, ``decision``, whose values are ``allow_once``, ``allow_always`` (offered only when the core
can remember the call) and ``reject``. An accepted form with ``allow_*`` runs the call; decline,
cancel, no answer within ``tools.approval_timeout`` seconds, or a form that does not match are
refusals.

A client that did not declare the ``elicitation`` capability is never sent one: "ask" is refused
with a message naming the config key that would allow the call, so the model can tell the user.
The same goes for a connection in the stateless 2026-07-28 era, which has no channel for a
request from the server in the middle of a tool call (its multi-round-trip "input required"
results would need the whole turn suspended between two ``chat`` calls).
"""

from __future__ import annotations

import asyncio
from typing import Any

from victor_server.tools.approvals import (
    ALLOW_ALWAYS,
    ALLOW_ONCE,
    REJECT,
    ApprovalRequest,
    ApprovalUnavailable,
)

DIFF_SHOWN = 4000  # characters of a diff in the message; the editor-less client shows text


def elicitation_schema(request: ApprovalRequest) -> dict[str, Any]:
    values = [ALLOW_ONCE, *([ALLOW_ALWAYS] if request.remember is not None else []), REJECT]
    names = {ALLOW_ONCE: "Allow once", REJECT: "Reject",
             ALLOW_ALWAYS: f"Always allow {request.remember}"}
    return {"type": "object", "required": ["decision"], "properties": {"decision": {
        "type": "string", "title": "Decision", "enum": values,
        "enumNames": [names[v] for v in values],
        "description": "allow_once runs this call; allow_always also remembers it; "
                       "reject refuses it"}}}


def elicitation_message(request: ApprovalRequest) -> str:
    lines = [f"Allow {request.title}?", f"(asked because of {request.rule})"]
    if request.diff:
        shown = request.diff[:DIFF_SHOWN]
        lines.append(shown + ("\n[... diff truncated]" if len(request.diff) > DIFF_SHOWN else ""))
    if request.remember is not None:
        lines.append(f"'allow_always' remembers: {request.remember}")
    return "\n".join(lines)


class McpApprover:
    face = "mcp"

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def _session(self) -> Any:
        """The session to elicit on; ``ApprovalUnavailable`` saying why there is none."""
        try:
            session = self.ctx.request_context.session
        except (AttributeError, ValueError, LookupError):
            session = None
        capabilities = getattr(session, "client_capabilities", None)
        if capabilities is None or getattr(capabilities, "elicitation", None) is None:
            raise ApprovalUnavailable("this MCP client cannot be asked (it did not declare the "
                                      "elicitation capability)")
        if not getattr(session, "can_send_request", True):
            raise ApprovalUnavailable("this MCP connection cannot carry a request to the client "
                                      "(the stateless 2026-07-28 protocol; connect with "
                                      "initialize to be asked)")
        return session

    async def __call__(self, request: ApprovalRequest) -> str:
        session = self._session()
        try:
            result = await asyncio.wait_for(session.elicit_form(
                message=elicitation_message(request),
                requested_schema=elicitation_schema(request),
                related_request_id=self.ctx.request_id), request.timeout)
        except TimeoutError:
            raise ApprovalUnavailable(f"no answer came within {request.timeout:g} s "
                                      "(tools.approval_timeout)") from None
        if result.action != "accept" or not isinstance(result.content, dict):
            return REJECT
        decision = result.content.get("decision")
        if decision == ALLOW_ALWAYS and request.remember is not None:
            return ALLOW_ALWAYS
        return ALLOW_ONCE if decision in (ALLOW_ONCE, ALLOW_ALWAYS) else REJECT
