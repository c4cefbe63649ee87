# tenant_providers.py (recipe 6): a tenant's config and prompt template from the tenant's own
# database; db_connection is configured as a postgresql:// URL and arrives as a connection
# with asyncpg's fetchrow (JSONB columns read as dicts)
from victor_server.protocols import IConfigProvider

class TenantConfigProvider(IConfigProvider):
    """Load configuration per tenant."""

    def __init__(self, db_connection):
        self.db = db_connection

    def priority(self) -> int:
        return 100  # High priority

    async def get_config(self, session_id: str) -> dict:
        """Load tenant config from database."""
        # Extract tenant_id from session_id
        tenant_id = session_id.split(':')[0]  # Format: "tenant:session"

        query = """
            SELECT config FROM tenant_configs
            WHERE tenant_id = $1 AND active = true
        """

        result = await self.db.fetchrow(query, tenant_id)

        if result:
            return result['config']
        return {}


# tenant_contributors.py (recipe 6)
from victor_server.protocols import BasePromptContributor
from victor_server.protocols import PromptContext  # the recipe uses it without importing it

class TenantPromptContributor(BasePromptContributor):
    """Add tenant-specific prompts."""

    def __init__(self, db_connection):
        self.db = db_connection

    def priority(self) -> int:
        return 80

    async def get_contribution(self, context: PromptContext) -> str:
        """Load tenant prompt template."""
        tenant_id = context.get('tenant_id')

        if not tenant_id:
            return ""

        query = """
            SELECT prompt_template FROM tenant_prompt_templates
            WHERE tenant_id = $1
        """

        result = await self.db.fetchrow(query, tenant_id)

        if result:
            return f"\n{result['prompt_template']}"
        return ""
