"""Slash commands on the ACP face: what an editor lists after ``/`` in its prompt box.

The agent advertises them with an ``available_commands_update`` when a session is created or
loaded. A prompt whose text starts with one of them (``/compact 0.3``) is answered here, from
the core's own methods, as agent message text: no model call, nothing stored in the
conversation. Any other ``/word`` goes to the model as it was typed.

==========  =========================  =====================================================
command     input                      what it does
==========  =========================  =====================================================
compact     [fraction to keep, 0-1]    ``victor/compactContext`` now
context     none                       tokens of the context the next turn would send
tools       [what they are for]        the tools selection would offer for that request
model       [model name]               shows, or sets for this session, the model
help        none                       this list
==========  =========================  =====================================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from acp import schema

from victor_server.api_models import CompactContextParams, validate_params
from victor_server.errors import InvalidParams

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    hint: str | None = None

    def advertised(self) -> schema.AvailableCommand:
        given = (schema.AvailableCommandInput(root=schema.UnstructuredCommandInput(
            hint=self.hint)) if self.hint else None)
        return schema.AvailableCommand(name=self.name, description=self.description,
                                       input=given)


COMMANDS = (
    Command("compact", "Compact this session's context now", "fraction of tokens to keep"),
    Command("context", "How much of the context window the next turn uses"),
    Command("tools", "The tools the agent would offer the model for a request",
            "what the tools are for"),
    Command("model", "Show or set this session's model", "model name"),
    Command("help", "List these commands"),
)
BY_NAME = {c.name: c for c in COMMANDS}


def commands_update() -> schema.AvailableCommandsUpdate:
    return schema.AvailableCommandsUpdate(session_update="available_commands_update",
                                          available_commands=[c.advertised() for c in COMMANDS])


def parse(message: str) -> tuple[str, str] | None:
    """``("compact", "0.3")`` for ``/compact 0.3``; None when it is not one of ours."""
    if not message.startswith("/"):
        return None
    name, _, rest = message[1:].partition(" ")
    return (name, rest.strip()) if name in BY_NAME else None


async def run(name: str, argument: str, session_id: str, call: Call,
              override: dict[str, Any]) -> str:
    """The command's answer as text; a bad argument is an answer too, never an error."""
    if name == "compact":
        params: dict[str, Any] = {"sessionId": session_id}
        if argument:
            try:
                params["targetRatio"] = float(argument)
            except ValueError:
                return f"/compact takes a fraction to keep, like 0.5, not {argument!r}"
            try:  # the method's own limits
                validate_params(CompactContextParams, params)
            except InvalidParams:
                return "/compact takes a fraction between 0 and 1, like 0.5"
        done = await call("victor/compactContext", params)
        before, after = done["before"], done["after"]
        return (f"Compacted with `{done['strategy']}`: {before['messages']} messages "
                f"({before['tokens']} tokens) to {after['messages']} ({after['tokens']} tokens).")
    if name == "context":
        context = await call("victor/getContext", {"sessionId": session_id})
        share = 100 * context["tokens"] / max(1, context["contextWindow"])
        return (f"{len(context['messages'])} messages, {context['tokens']} tokens of a "
                f"{context['contextWindow']}-token window ({share:.1f}%).")
    if name == "tools":
        selected = await call("victor/selectTools", {
            "query": argument or "any task", "sessionId": session_id})
        lines = [f"- `{t['name']}`: {t['description'].splitlines()[0] if t['description'] else ''}"
                 for t in selected["tools"]]
        return f"Tools ({selected['strategy']}):\n" + "\n".join(lines)
    if name == "model":
        if argument:
            override["model"] = argument
            return f"This session now uses `{argument}`."
        config = (await call("victor/getConfig", {"sessionId": session_id}))["config"]
        return f"This session uses `{override.get('model') or config.get('model')}`."
    return "\n".join(f"- `/{c.name}`{' <' + c.hint + '>' if c.hint else ''}: {c.description}"
                     for c in COMMANDS)
