"""Built-in prompt contributors, victor-ai's shape: ``priority() -> int`` and
``async get_contribution(context) -> str`` where ``context`` is a mapping (``task``,
``language``, ``requires_compliance``, ``tenant_id``, ``session_id``, ...).

Higher priority comes first in the system prompt. File-backed contributors cache by mtime, so
an edited ``standards.md`` reaches the next turn without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from victor_server.prompts.files import CachedFileReader

BASE_PROMPT = (
    "You are Victor, a coding agent working inside the user's workspace through an editor. "
    "Use the tools you are offered to read and change files; paths are relative to the "
    "workspace root. Be concise, say what you changed, and never invent file contents."
)


class BasePromptContributor:
    """What a user's contributor may extend (victor-ai's base class): override ``priority`` and
    ``get_contribution``. It contributes nothing by itself."""

    def priority(self) -> int:
        return 50

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        return ""


class SystemPromptContributor:
    """The base system prompt (``prompts.base`` replaces the built-in text)."""

    name = "base"

    def __init__(self, text: str | None = None) -> None:
        self.text = text or BASE_PROMPT

    def priority(self) -> int:
        return 100

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        return self.text


class ProjectStandardsContributor:
    """The workspace's ``.victor/standards.md``: the team's rules, above every other file."""

    name = "project_standards"

    def __init__(self, workspace: Path, relative_path: str = ".victor/standards.md",
                 reader: CachedFileReader | None = None) -> None:
        self.path = workspace / relative_path
        self.reader = reader or CachedFileReader()

    def priority(self) -> int:
        return 90

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        text = self.reader.read(self.path)
        return f"## Project standards ({self.path.name})\n{text}" if text else ""


class InstructionFilesContributor:
    """``AGENTS.md``, ``CLAUDE.md``, ``.github/copilot-instructions.md``: read when present."""

    name = "instruction_files"

    def __init__(self, workspace: Path, files: list[str],
                 reader: CachedFileReader | None = None) -> None:
        self.workspace = workspace
        self.files = files
        self.reader = reader or CachedFileReader()

    def priority(self) -> int:
        return 85

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        parts = []
        for relative in self.files:
            text = self.reader.read(self.workspace / relative)
            if text:
                parts.append(f"## Instructions from {relative}\n{text}")
        return "\n\n".join(parts)


class CompliancePromptContributor:
    name = "compliance"

    def priority(self) -> int:
        return 80

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        if not (context.get("requires_compliance") or context.get("requiresCompliance")):
            return ""
        return ("## Compliance requirements\n"
                "- Follow the regulatory requirements that apply (GDPR, HIPAA, ...).\n"
                "- Do not include personal identifiable information (PII) in code or output.\n"
                "- Ensure data handling meets security standards.")


_STACK_MARKERS = {
    "pyproject.toml": "Python", "setup.py": "Python", "requirements.txt": "Python",
    "package.json": "JavaScript/TypeScript (Node.js)", "tsconfig.json": "TypeScript",
    "Cargo.toml": "Rust", "go.mod": "Go", "pom.xml": "Java (Maven)",
    "build.gradle": "Java/Kotlin (Gradle)", "Gemfile": "Ruby", "composer.json": "PHP",
    "CMakeLists.txt": "C/C++ (CMake)",
}


class TechStackContributor:
    """The stack, from ``context.tech_stack`` or detected from marker files at the root."""

    name = "tech_stack"

    def __init__(self, workspace: Path, tech_stack: list[str] | None = None) -> None:
        self.workspace = workspace
        self.tech_stack = tech_stack

    def priority(self) -> int:
        return 70

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        stack = context.get("tech_stack") or context.get("techStack") or self.tech_stack
        if not stack:
            found = {label for marker, label in _STACK_MARKERS.items()
                     if (self.workspace / marker).exists()}
            stack = sorted(found)
        if not stack:
            return ""
        listed = ", ".join(stack) if isinstance(stack, list) else str(stack)
        return f"## Tech stack\nThis project uses: {listed}. Follow its idioms and tooling."


class CodeStylePromptContributor:
    name = "code_style"

    def __init__(self, style_guide: dict[str, Any] | None = None) -> None:
        self.style_guide = style_guide or {}

    def priority(self) -> int:
        return 60

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        guide = context.get("code_style") or context.get("codeStyle") or self.style_guide
        if context.get("task") not in ("code_generation", "refactor", "code_review") and not guide:
            return ""
        lines = ["## Code style"]
        if isinstance(guide, dict) and guide:
            lines += [f"- {key}: {value}" for key, value in guide.items()]
        else:
            lines.append("- Match the surrounding code's conventions; keep functions small; "
                         "name things for what they are; add tests for new behaviour.")
        return "\n".join(lines)


class LanguageContributor:
    """Answer in the user's language (``context.language``: an ISO code or a name)."""

    name = "language"

    _NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German",
              "zh": "Chinese", "ja": "Japanese", "pt": "Portuguese", "it": "Italian",
              "ko": "Korean", "ru": "Russian"}

    def priority(self) -> int:
        return 50

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        language = context.get("language")
        if not language or str(language).lower() in ("en", "english"):
            return ""
        name = self._NAMES.get(str(language).lower(), str(language))
        return f"## Language\nRespond in {name}. Keep code, identifiers and paths as they are."
