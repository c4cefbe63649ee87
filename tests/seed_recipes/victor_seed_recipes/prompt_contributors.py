# Example 3: custom prompt contributors
import asyncio
from victor_server.protocols import IPromptContributor, PromptContext
from victor_server.protocols import BasePromptContributor

class CompliancePromptContributor(BasePromptContributor):
    """Add compliance requirements to prompts."""

    def priority(self) -> int:
        return 80  # High priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add compliance instructions if needed."""
        if context.get("requires_compliance"):
            return """

## Compliance Requirements
- Follow all regulatory requirements (GDPR, HIPAA, etc.)
- Do not include personal identifiable information (PII)
- Ensure data handling meets security standards
"""
        return ""

class CodeStylePromptContributor(BasePromptContributor):
    """Add code style guidelines to prompts."""

    def __init__(self, style_guide: dict):
        self.style_guide = style_guide

    def priority(self) -> int:
        return 60  # Medium priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add code style instructions for coding tasks."""
        if context.get("task") == "code_generation":
            return f"""

## Code Style Guidelines
- Max line length: {self.style_guide['max_line_length']}
- Use {self.style_guide['indentation']} for indentation
- Follow {self.style_guide['naming_convention']} naming convention
- Type hints required for all functions
"""
        return ""

class MultilingualPromptContributor(BasePromptContributor):
    """Add language-specific instructions."""

    def priority(self) -> int:
        return 70  # Medium-high priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add language instructions based on user preference."""
        language = context.get("language", "en")

        instructions = {
            "en": "Respond in English.",
            "es": "Responde en español.",
            "fr": "Répondre en français.",
            "de": "Auf Deutsch antworten.",
            "ja": "日本語で回答してください。",
        }

        return f"\nLanguage: {instructions.get(language, instructions['en'])}"
