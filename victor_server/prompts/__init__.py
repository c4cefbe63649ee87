"""System prompt building: contributors by priority."""

from victor_server.prompts.contributors import (
    BasePromptContributor,
    CodeStylePromptContributor,
    CompliancePromptContributor,
    InstructionFilesContributor,
    LanguageContributor,
    ProjectStandardsContributor,
    SystemPromptContributor,
    TechStackContributor,
)
from victor_server.prompts.coordinator import BuiltPrompt, PromptContributor, PromptCoordinator

__all__ = [
    "BasePromptContributor", "BuiltPrompt", "CodeStylePromptContributor",
    "CompliancePromptContributor", "InstructionFilesContributor", "LanguageContributor",
    "ProjectStandardsContributor", "PromptContributor", "PromptCoordinator",
    "SystemPromptContributor", "TechStackContributor",
]
