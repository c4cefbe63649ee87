# prompt_contributors.py (recipe 2)
from victor_server.protocols import BasePromptContributor
from victor_server.protocols import PromptContext
from pathlib import Path  # the recipe uses Path without importing it

class ProjectStandardsContributor(BasePromptContributor):
    """Add project coding standards to prompts."""

    def __init__(self, project_path: str):
        self.project_path = project_path

    def priority(self) -> int:
        return 60  # Medium priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Read project standards from files."""

        # Check for project standards file
        standards_file = Path(self.project_path) / ".victor" / "standards.md"
        if not standards_file.exists():
            return ""

        with open(standards_file, 'r') as f:
            standards = f.read()

        return f"""

## Project-Specific Standards
{standards}
"""

class ComplianceContributor(BasePromptContributor):
    """Add compliance requirements based on industry."""

    def __init__(self, industry: str):
        self.industry = industry

    def priority(self) -> int:
        return 70  # High priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add compliance instructions."""

        requirements = {
            "healthcare": """
## Healthcare Compliance
- Follow HIPAA guidelines for patient data
- No personal health information (PHI) in code
- Ensure audit logging for data access
""",
            "finance": """
## Financial Compliance
- Follow PCI-DSS standards for payment data
- Implement SOC2 controls
- No hardcoding of credentials
""",
            "general": """
## General Compliance
- Follow GDPR data protection guidelines
- Implement proper error handling
- Use secure communication channels
"""
        }

        return requirements.get(self.industry, requirements["general"])

class TechStackContributor(BasePromptContributor):
    """Add technology-specific instructions."""

    def __init__(self, tech_stack: list):
        self.tech_stack = tech_stack

    def priority(self) -> int:
        return 50  # Medium-low priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add tech stack specific guidance."""

        guidelines = {
            "python": "- Use type hints for all functions\n- Follow PEP 8 style guide\n- Use async/await for I/O operations",
            "typescript": "- Use strict mode\n- Prefer interfaces over types\n- Use async/await over promises",
            "rust": "- Use Result types for error handling\n- Prefer iterators over collections\n- Use clap for CLI argument parsing",
        }

        instructions = [
            f"\n## {tech.title()} Guidelines\n{guidelines.get(tech, '')}"
            for tech in self.tech_stack
            if tech in guidelines
        ]

        return "\n".join(instructions)
