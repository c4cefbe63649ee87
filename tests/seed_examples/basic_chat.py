# ruff: noqa
# victor-ai's basic chat example as written; only the import lines are changed.
import asyncio
from victor_server.api import AgentOrchestrator
from victor_server.api import Settings
from victor_server.api import AnthropicProvider

async def basic_chat_example():
    """Basic chat using coordinator-based orchestrator."""

    # Step 1: Initialize settings and provider
    settings = Settings()
    provider = AnthropicProvider(api_key="sk-ant-...")

    # Step 2: Create orchestrator
    # Coordinators are automatically initialized:
    # - ConfigCoordinator: loads configuration
    # - PromptCoordinator: builds prompts
    # - ContextCoordinator: manages context
    # - ChatCoordinator: handles chat
    # - ToolCoordinator: executes tools
    # - AnalyticsCoordinator: tracks analytics
    # ... (15 coordinators total)
    orchestrator = AgentOrchestrator(
        settings=settings,
        provider=provider,
        model="claude-sonnet-4-5"
    )

    # Step 3: Use the orchestrator
    response = await orchestrator.chat(
        "Explain what coordinators are in Victor."
    )

    # Step 4: Access response
    print(f"Response: {response.content}")
    print(f"Tokens used: {response.usage.total_tokens}")

    # Coordinators worked together:
    # 1. ConfigCoordinator loaded configuration
    # 2. PromptCoordinator built the system prompt
    # 3. ContextCoordinator managed conversation context
    # 4. ChatCoordinator executed the chat
    # 5. AnalyticsCoordinator tracked token usage

if __name__ == "__main__":
    asyncio.run(basic_chat_example())
