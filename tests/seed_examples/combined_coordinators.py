# ruff: noqa
# victor-ai's combined-coordinators example as written; only the import lines are changed.
import asyncio
from victor_server.api import AgentOrchestrator
from victor_server.api import (
    ConfigCoordinator,
    PromptCoordinator,
    ContextCoordinator,
    AnalyticsCoordinator,
)
from victor_server.api import Settings
from seed_examples.combined_parts import (  # defined by the examples before it
    DatabaseConfigProvider, EnvironmentConfigProvider, CompliancePromptContributor,
    CodeStylePromptContributor, MultilingualPromptContributor, RecentMessagesCompactionStrategy,
    DatabaseAnalyticsExporter, PrometheusMetricsExporter,
    your_db, style_guide, pushgateway_url, job_name, provider, model,
)

async def combined_coordinators_example():
    """Combine multiple custom coordinators."""

    # Step 1: Create custom config coordinator
    config_coordinator = ConfigCoordinator(providers=[
        DatabaseConfigProvider(your_db),
        EnvironmentConfigProvider(),
    ])

    # Step 2: Create custom prompt coordinator
    prompt_coordinator = PromptCoordinator(contributors=[
        CompliancePromptContributor(),
        CodeStylePromptContributor(style_guide),
        MultilingualPromptContributor(),
    ])

    # Step 3: Create custom context coordinator
    context_coordinator = ContextCoordinator(
        compaction_strategy=RecentMessagesCompactionStrategy(keep_last_n=15)
    )

    # Step 4: Create custom analytics coordinator
    analytics_coordinator = AnalyticsCoordinator(exporters=[
        DatabaseAnalyticsExporter(your_db),
        PrometheusMetricsExporter(pushgateway_url, job_name),
    ])

    # Step 5: Create orchestrator with all custom coordinators
    orchestrator = AgentOrchestrator(
        settings=Settings(
            enable_analytics=True,
            context_compaction_threshold=0.8,
        ),
        provider=provider,
        model=model,
        _config_coordinator=config_coordinator,
        _prompt_coordinator=prompt_coordinator,
        _context_coordinator=context_coordinator,
        _analytics_coordinator=analytics_coordinator,
    )

    # Step 6: Use the orchestrator
    # All custom coordinators work together
    response = await orchestrator.chat("Generate Python code...")

    print(response.content)

if __name__ == "__main__":
    asyncio.run(combined_coordinators_example())
