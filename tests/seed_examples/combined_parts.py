# ruff: noqa
"""What victor-ai's combined-coordinators example combines: the config provider, prompt
contributors, compaction strategy and exporters of the examples before it, imported from the
plugin packages that hold them with their bodies as written (``victor_seed_recipes``,
``victor_seed_plugins``), and the values the example leaves to its reader (``your_db``,
``style_guide``, ``pushgateway_url``, ``job_name``, ``provider``, ``model``), made at the bottom
from the environment the test gives."""

import os

from victor_server.api import EnvironmentConfigProvider
from victor_server.api import AnthropicProvider
from victor_seed_recipes.config_providers import DatabaseConfigProvider
from victor_seed_recipes.prompt_contributors import (
    CompliancePromptContributor, CodeStylePromptContributor, MultilingualPromptContributor,
)
from victor_seed_recipes.exporters import DatabaseAnalyticsExporter, PrometheusMetricsExporter
from victor_seed_plugins.compaction import RecentMessagesCompactionStrategy


# -- what example 6 leaves to its reader -------------------------------------------------------

class _Database:
    """An asyncpg pool opened on first use (in the event loop ``asyncio.run`` starts), JSONB
    read and written as Python objects."""

    def __init__(self, url):
        self.url = url
        self.pool = None

    async def _pool(self):
        import asyncpg
        import json

        async def init(connection):
            await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                            schema="pg_catalog")

        if self.pool is None:
            self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=2, init=init)
        return self.pool

    async def fetchrow(self, query, *args):
        return await (await self._pool()).fetchrow(query, *args)

    async def executemany(self, query, records):
        return await (await self._pool()).executemany(query, records)


your_db = _Database(os.environ["EXAMPLE_DB_URL"])
style_guide = {"max_line_length": 100, "indentation": "4 spaces", "naming_convention": "PEP8"}
pushgateway_url = os.environ["EXAMPLE_PUSHGATEWAY_URL"]
job_name = "victor-example-6"
provider = AnthropicProvider(api_key="sk-ant-example", base_url=os.environ["EXAMPLE_API_URL"])
model = "claude-sonnet-4-5"
