# websocket_analytics.py (recipe 7)
from typing import Set, List
from victor_server.protocols import IAnalyticsExporter, ExportResult, AnalyticsEvent
import websockets
import json
import asyncio  # the recipe uses asyncio and BaseAnalyticsExporter without importing them
from victor_server.protocols import BaseAnalyticsExporter

class WebSocketAnalyticsExporter(BaseAnalyticsExporter):
    """Export analytics to WebSocket clients."""

    def __init__(self, host: str = "localhost", port: int = 8765):
        self.host = host
        self.port = port
        self.clients: Set[websockets.WebSocketServerProtocol] = set()

    async def export(self, events: List[AnalyticsEvent]) -> ExportResult:
        """Broadcast events to all connected clients."""
        if not self.clients or not events:
            return ExportResult(success=True, exported_count=0)

        message = json.dumps([e.model_dump() for e in events])

        # Broadcast to all clients
        for client in list(self.clients):  # Copy to avoid modification during iteration
            try:
                await client.send(message)
            except Exception as e:
                print(f"Error sending to client: {e}")
                self.clients.discard(client)

        return ExportResult(success=True, exported_count=len(events))

    async def start_server(self):
        """Start WebSocket server."""
        async with websockets.serve(
            self._handle_client,
            self.host,
            self.port
        ):
            print(f"WebSocket analytics server running on ws://{self.host}:{self.port}")
            await asyncio.Future()  # Run forever

    # the one change to a body: ``path=None``. websockets 13 and later call a handler with the
    # connection alone (the request path is ``websocket.request.path``), so the recipe's
    # two-parameter handler would fail every connection with a TypeError
    async def _handle_client(self, websocket, path=None):
        """Handle new WebSocket client connection."""
        print(f"New client connected: {websocket.remote_address}")
        self.clients.add(websocket)

        try:
            await websocket.wait_closed()
        finally:
            self.clients.discard(websocket)
            print(f"Client disconnected: {websocket.remote_address}")
