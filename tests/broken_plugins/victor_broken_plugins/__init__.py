"""Plugins of every kind that break at the stage ``VICTOR_TEST_BREAK`` names.

Each also prints to stdout at every stage, as careless plugin code does: the protocol stream
must not see it.
"""

import os

STAGE = os.environ.get("VICTOR_TEST_BREAK", "call")
print("broken plugins imported")  # must never reach the JSON-RPC stream

if STAGE == "import":
    raise ImportError("broken plugin: this module cannot be imported")


class Breaks:
    def __init__(self, **options):
        print(f"building {type(self).__name__}")
        if STAGE == "construction":
            raise RuntimeError(f"broken plugin: {type(self).__name__} cannot be built")

    def _call(self):
        print(f"calling {type(self).__name__}")
        raise RuntimeError(f"broken plugin: {type(self).__name__} failed when called")


class Config(Breaks):
    def priority(self):
        return 10

    async def get_config(self, session_id):
        self._call()


class Contributor(Breaks):
    def priority(self):
        return 10

    async def get_contribution(self, context):
        self._call()


class Compaction(Breaks):
    async def compact(self, context):
        self._call()


class Selection(Breaks):
    async def select_tools(self, query, available_tools, selection_coordinator):
        self._call()


class Exporter(Breaks):
    async def export(self, events):
        self._call()


class DashboardExporter(Breaks):
    """A broadcaster whose server, run from start_server() in the background, fails."""

    async def start_server(self):
        self._call()

    async def export(self, events):
        return None  # broadcasting to nobody works: the failed server must stay reported


def _coordinator_base():
    from victor_server.protocols import ConfigCoordinator

    return ConfigCoordinator


class ABCoordinator(Breaks, _coordinator_base()):
    """An A/B testing ConfigCoordinator subclass whose load_config raises."""

    async def load_config(self, session_id, config_override=None):
        self._call()


class Provider(Breaks):
    name = "broken_provider"

    async def stream(self, request):
        self._call()
        yield None


async def middleware(orchestrator, func, *args, **kwargs):
    print("broken middleware called")
    raise RuntimeError("broken plugin: middleware failed when called")


async def auth_middleware(orchestrator, func, *args, **kwargs):
    raise RuntimeError("broken plugin: auth middleware failed when called")


class BrokenTool(Breaks):
    def __init__(self, **options):
        super().__init__(**options)
        from victor_server.tools.base import ToolSpec

        self.spec = ToolSpec("broken_tool", "A tool that always fails", {
            "type": "object", "properties": {}})

    async def run(self, tool_input, ctx):
        self._call()


class Middleware(Breaks):  # the class shape: built with options, then called per method
    async def __call__(self, call, call_next):
        self._call()


class AuthGuard(Middleware):  # a class authentication middleware: its name says "auth"
    pass
