"""Approvals on the LSP face: the server-to-client request ``victor/requestPermission``.

When the core's approvals policy says "ask", the chat's ``ask_permission`` (``LspApprover``)
sends the editor::

    victor/requestPermission {sessionId, toolCallId, tool, title, input, rule, timeoutMs,
                              diff?, command?, remember?, options: [{optionId, name, kind}]}

and expects ``{optionId}``: ``allow_once``, ``allow_always`` (offered only when ``remember`` says
what it would keep) or ``reject``. No answer within ``tools.approval_timeout`` seconds (default
120) is a rejection, and the request is withdrawn with ``$/cancelRequest``. An error answer is a
refusal too.

An editor declares that it can present the request with ``initializationOptions:
{requestPermission: true}`` (the VS Code extension and the Neovim plugin do); for any other
client "ask" is refused at once with a message naming the config key that would allow the call,
rather than sending a request it would never answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from lsprotocol import types

from victor_server.tools.approvals import (
    ALLOW_ALWAYS,
    ALLOW_ONCE,
    REJECT,
    ApprovalRequest,
    ApprovalUnavailable,
)

METHOD = "victor/requestPermission"
CAPABILITY = "requestPermission"  # the initializationOptions flag


def permission_params(request: ApprovalRequest) -> dict[str, Any]:
    options = [{"optionId": ALLOW_ONCE, "name": "Allow once", "kind": "allow_once"}]
    if request.remember is not None:
        options.append({"optionId": ALLOW_ALWAYS, "name": f"Always allow {request.remember}",
                        "kind": "allow_always"})
    options.append({"optionId": REJECT, "name": "Reject", "kind": "reject"})
    params: dict[str, Any] = {
        "sessionId": request.session_id, "toolCallId": request.tool_use_id,
        "tool": request.tool, "title": request.title, "input": request.tool_input,
        "rule": request.rule, "timeoutMs": int(request.timeout * 1000), "options": options}
    for key, value in (("diff", request.diff), ("command", request.command),
                       ("remember", request.remember)):
        if value is not None:
            params[key] = value
    return params


class LspApprover:
    face = "lsp"

    def __init__(self, protocol: Any, supported: bool) -> None:
        self.protocol = protocol
        self.supported = supported

    async def __call__(self, request: ApprovalRequest) -> str:
        if not self.supported:
            raise ApprovalUnavailable(
                f"this editor cannot be asked (it did not set initializationOptions."
                f"{CAPABILITY})")
        msg_id = f"victor-permission-{uuid.uuid4()}"
        future = asyncio.wrap_future(self.protocol.send_request(
            METHOD, permission_params(request), msg_id=msg_id))
        answered = False
        try:
            result = await asyncio.wait_for(future, request.timeout)
            answered = True
        except TimeoutError:
            raise ApprovalUnavailable(
                f"no answer came within {request.timeout:g} s (tools.approval_timeout)") from None
        except Exception as exc:  # the editor answered with an error
            answered = True
            raise ApprovalUnavailable(f"the editor answered with an error: {exc}") from exc
        finally:
            if not answered:  # timed out or the turn was cancelled: withdraw the request
                self.protocol._request_futures.pop(msg_id, None)
                with contextlib.suppress(Exception):
                    self.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        option = result.get("optionId") if isinstance(result, dict) else getattr(
            result, "optionId", None)
        if option == ALLOW_ALWAYS and request.remember is not None:
            return ALLOW_ALWAYS
        return ALLOW_ONCE if option in (ALLOW_ONCE, ALLOW_ALWAYS) else REJECT
