"""Prompt building in-process, no server: contributor order and capping, the standards file,
instruction files, broken and disabled contributors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from in_process import core

from victor_server.prompts import (
    CompliancePromptContributor,
    InstructionFilesContributor,
    LanguageContributor,
    ProjectStandardsContributor,
    PromptCoordinator,
    SystemPromptContributor,
    TechStackContributor,
)
from victor_server.prompts.contributors import BASE_PROMPT


class Fixed:
    def __init__(self, priority: int, text: Any) -> None:
        self._priority = priority
        self.text = text

    def priority(self) -> int:
        return self._priority

    def get_contribution(self, context: Mapping[str, Any]) -> Any:  # sync, as victor-ai allows
        return self.text


class Broken:
    def priority(self) -> int:
        return 99

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        raise RuntimeError("contributor exploded")


async def test_contributions_are_ordered_by_priority_and_empty_ones_left_out() -> None:
    built = await PromptCoordinator([Fixed(10, "low"), Fixed(90, "high"), Fixed(50, None),
                                     Fixed(60, "  ")]).build({})
    assert built.system_prompt == "high\n\nlow"
    assert [(c.name, c.priority) for c in built.contributions] == [("Fixed", 90), ("Fixed", 10)]


async def test_a_long_contribution_is_cut_with_a_visible_marker(
        caplog: pytest.LogCaptureFixture) -> None:
    coordinator = PromptCoordinator([Fixed(1, "x" * 250)], max_contribution_chars=100)
    with caplog.at_level(logging.WARNING):
        built = await coordinator.build({})
        await coordinator.build({})
    [c] = built.contributions
    assert c.truncated and c.text == "x" * 100 + "\n[... truncated: 150 chars omitted]"
    assert c.to_json() == {"name": "Fixed", "priority": 1, "chars": len(c.text),
                           "truncated": True}
    warnings = [r for r in caplog.records if "cut to 100" in r.getMessage()]
    assert len(warnings) == 1  # once per size, not per turn


async def test_a_broken_contributor_is_skipped_and_reported() -> None:
    failures: list[tuple[str, str]] = []
    coordinator = PromptCoordinator([Broken(), Fixed(5, "kept"), Fixed(7, 42)],
                                    on_error=lambda name, exc: failures.append((name, str(exc))))
    built = await coordinator.build({})
    assert built.system_prompt == "kept"
    assert failures == [("Broken", "contributor exploded"),
                        ("Fixed", "get_contribution returned int, not str")]


async def test_standards_file_is_read_and_an_edit_reaches_the_next_build(
        workspace: Path) -> None:
    standards = ProjectStandardsContributor(workspace)
    assert await standards.get_contribution({}) == ""  # no file, no section
    path = workspace / ".victor" / "standards.md"
    path.write_text("Use tabs.\n")
    assert await standards.get_contribution({}) == "## Project standards (standards.md)\nUse tabs."
    path.write_text("Use four spaces, never tabs.\n")
    assert (await standards.get_contribution({})).endswith("Use four spaces, never tabs.")


async def test_instruction_files_in_their_order_when_present(workspace: Path) -> None:
    (workspace / "CLAUDE.md").write_text("claude rules")
    (workspace / "AGENTS.md").write_text("agent rules")
    text = await InstructionFilesContributor(
        workspace, ["AGENTS.md", "missing.md", "CLAUDE.md"]).get_contribution({})
    assert text == ("## Instructions from AGENTS.md\nagent rules\n\n"
                    "## Instructions from CLAUDE.md\nclaude rules")


async def test_context_driven_contributors(workspace: Path) -> None:
    assert await CompliancePromptContributor().get_contribution({}) == ""
    assert "PII" in await CompliancePromptContributor().get_contribution(
        {"requiresCompliance": True})
    assert await LanguageContributor().get_contribution({"language": "en"}) == ""
    assert "Respond in German." in await LanguageContributor().get_contribution(
        {"language": "de"})
    (workspace / "go.mod").write_text("module x\n")
    assert "This project uses: Go." in await TechStackContributor(workspace).get_contribution({})
    assert await SystemPromptContributor().get_contribution({}) == BASE_PROMPT


async def test_the_core_builds_from_the_project_files_and_leaves_out_disabled_ones(
        workspace: Path) -> None:
    (workspace / ".victor" / "standards.md").write_text("Every function has a test.")
    (workspace / "AGENTS.md").write_text("Run make lint before committing.")
    async with core(workspace, "prompts:\n  base: You are the test agent.\n") as service:
        built = await service.call("victor/buildPrompt", {"context": {"language": "fr"}})
    names = [c["name"] for c in built["contributions"]]
    assert names == ["base", "project_standards", "instruction_files", "language"]
    prompt = built["systemPrompt"]
    assert prompt.startswith("You are the test agent.")
    assert "Every function has a test." in prompt and "Respond in French." in prompt

    disabled = "plugins:\n  disabled: [project_standards, language]\n"
    async with core(workspace, disabled) as service:
        built = await service.call("victor/buildPrompt", {"context": {"language": "fr"}})
    assert [c["name"] for c in built["contributions"]] == ["base", "instruction_files"]
    assert "Every function has a test." not in built["systemPrompt"]
    assert "Run make lint before committing." in built["systemPrompt"]
