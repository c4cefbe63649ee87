"""The built-in contributors a workspace gets, in one list."""

from __future__ import annotations

from pathlib import Path

from victor_server.prompts.contributors import (
    BasePromptContributor,
    CodeStylePromptContributor,
    CompliancePromptContributor,
    InstructionFilesContributor,
    LanguageContributor,
    ProjectStandardsContributor,
    TechStackContributor,
)
from victor_server.prompts.coordinator import PromptContributor
from victor_server.prompts.files import CachedFileReader
from victor_server.settings import Settings


def default_contributors(workspace: Path, settings: Settings) -> list[PromptContributor]:
    reader = CachedFileReader()
    return [
        BasePromptContributor(settings.prompts.base),
        ProjectStandardsContributor(workspace, settings.prompts.standards_file, reader),
        InstructionFilesContributor(workspace, settings.prompts.instruction_files, reader),
        CompliancePromptContributor(),
        TechStackContributor(workspace),
        CodeStylePromptContributor(),
        LanguageContributor(),
    ]
