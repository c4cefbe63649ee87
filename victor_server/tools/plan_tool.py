"""The ``plan`` built-in: the model's own checklist for work of several steps.

The model calls it with the whole list each time (content, status, priority), as it starts,
finishes or changes steps. It touches nothing, so it needs no approval; the result repeats the
plan as a checklist so the model sees what it said. Faces show it as a plan: ACP sends a
``plan`` session update (editors draw it as a task list), LSP clients get it in the tool call's
``data.plan``.
"""

from __future__ import annotations

from typing import Any

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec

STATUSES = ("pending", "in_progress", "completed")
PRIORITIES = ("high", "medium", "low")
MARKS = {"pending": "[ ]", "in_progress": "[~]", "completed": "[x]"}
MAX_ENTRIES = 50


class PlanTool:
    spec = ToolSpec(
        name="plan",
        description=("Keep a checklist for a task of several steps: call it with every step "
                     "and its status (pending, in_progress, completed) when you start, and "
                     "again whenever a step changes. The user sees the plan. Skip it for "
                     "one-step requests."),
        input_schema={"type": "object", "properties": {"entries": {
            "type": "array", "maxItems": MAX_ENTRIES, "items": {
                "type": "object", "properties": {
                    "content": {"type": "string", "description": "the step, in a few words"},
                    "status": {"type": "string", "enum": list(STATUSES)},
                    "priority": {"type": "string", "enum": list(PRIORITIES)}},
                "required": ["content", "status"], "additionalProperties": False}}},
            "required": ["entries"], "additionalProperties": False},
        cost_tier="free", domain="coding",
        keywords=("plan", "steps", "todo", "checklist", "tasks", "multi-step", "refactor",
                  "implement", "migrate"),
        examples=("refactor the store module and update its tests",
                  "implement the feature across the API, the CLI and the docs",
                  "plan the migration to the new config format",
                  "fix every failing test in the suite"))

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        entries = plan_entries(tool_input)
        lines = [f"{MARKS[e['status']]} {e['content']}" for e in entries]
        return ToolResult("Plan:\n" + "\n".join(lines), data={"plan": entries})


def plan_entries(tool_input: dict[str, Any]) -> list[dict[str, str]]:
    """The entries, checked and with a priority (``medium`` when not given)."""
    raw = tool_input.get("entries")
    if not isinstance(raw, list) or not raw:
        raise ToolError("plan: `entries` must be a non-empty list of steps")
    entries = []
    for entry in raw[:MAX_ENTRIES]:
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES \
                or not str(entry.get("content", "")).strip():
            raise ToolError("plan: each entry needs `content` and a `status` of "
                            + ", ".join(STATUSES))
        priority = entry.get("priority") if entry.get("priority") in PRIORITIES else "medium"
        entries.append({"content": str(entry["content"]).strip(), "status": entry["status"],
                        "priority": str(priority)})
    return entries
