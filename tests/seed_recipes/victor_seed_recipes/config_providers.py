# Example 2: custom config providers. db_connection is configured as a postgresql:// URL and
# arrives as a connection with asyncpg's fetchrow (JSONB columns read as dicts).
import asyncio
from typing import Dict
from victor_server.protocols import IConfigProvider

class DatabaseConfigProvider(IConfigProvider):
    """Load configuration from a database."""

    def __init__(self, db_connection):
        self.db = db_connection

    def priority(self) -> int:
        """Higher priority = checked first."""
        return 100

    async def get_config(self, session_id: str) -> Dict:
        """Fetch configuration from database."""
        query = "SELECT config FROM sessions WHERE session_id = $1"
        result = await self.db.fetchrow(query, session_id)

        if result:
            return result["config"]
        return {}  # Empty config = let next provider try

class APIConfigProvider(IConfigProvider):
    """Load configuration from a remote API."""

    def __init__(self, api_base_url: str, api_key: str):
        self.api_base_url = api_base_url
        self.api_key = api_key

    def priority(self) -> int:
        """Lower priority = fallback."""
        return 50

    async def get_config(self, session_id: str) -> Dict:
        """Fetch configuration from API."""
        import httpx2 as httpx  # import line changed: httpx2 is the HTTP stack installed here

        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"{self.api_base_url}/config/{session_id}",
                headers={"Authorization": f"Bearer {self.api_key}"}
            )
            return response.json() if response.status_code == 200 else {}
