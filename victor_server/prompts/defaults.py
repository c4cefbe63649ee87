"""The built-in prompt contributors as registry factories, one per entry-point name.

Each is registered in ``victor_server.plugins`` like a third-party contributor, so
``plugins.disabled`` turns any of them off (a team with its own standards contributor lists
``project_standards`` there to avoid sending the standards twice). The registry fills in
``workspace`` and ``settings``; ``plugins.<name>`` options are passed as keywords.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from victor_server.prompts.contributors import (
    CodeStylePromptContributor,
    CompliancePromptContributor,
    InstructionFilesContributor,
    LanguageContributor,
    ProjectStandardsContributor,
    SystemPromptContributor,
    TechStackContributor,
)
from victor_server.prompts.files import CachedFileReader
from victor_server.settings import Settings

_READER = CachedFileReader()


def base(settings: Settings, text: str | None = None) -> SystemPromptContributor:
    return SystemPromptContributor(text or settings.prompts.base)


def project_standards(workspace: Path, settings: Settings) -> ProjectStandardsContributor:
    return ProjectStandardsContributor(workspace, settings.prompts.standards_file, _READER)


def instruction_files(workspace: Path, settings: Settings) -> InstructionFilesContributor:
    return InstructionFilesContributor(workspace, settings.prompts.instruction_files, _READER)


def compliance() -> CompliancePromptContributor:
    return CompliancePromptContributor()


def tech_stack(workspace: Path, tech_stack: list[str] | None = None) -> TechStackContributor:
    return TechStackContributor(workspace, tech_stack)


def code_style(style_guide: dict[str, Any] | None = None) -> CodeStylePromptContributor:
    return CodeStylePromptContributor(style_guide)


def language() -> LanguageContributor:
    return LanguageContributor()
