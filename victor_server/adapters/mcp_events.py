"""Resumable streamable-HTTP streams for ``victor-server mcp --http``.

With an event store the SDK numbers every SSE event it sends, opens each stream with a priming
event and a ``retry`` hint, and replays what a client missed when it reconnects with
``Last-Event-ID`` (a dropped connection in the middle of a long ``chat`` loses no progress and
no result). This store keeps events in memory and bounded: the newest ``per_stream`` events of
the newest ``streams`` streams, so a long-running server's memory stays flat. An event that has
been dropped cannot be replayed; the client then gets nothing older than what is kept.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage


class BoundedEventStore(EventStore):
    def __init__(self, streams: int = 256, per_stream: int = 512) -> None:
        self.max_streams, self.per_stream = streams, per_stream
        self._ids = itertools.count(1)
        self._streams: OrderedDict[StreamId, deque[tuple[int, JSONRPCMessage | None]]] = (
            OrderedDict())
        self._stream_of: dict[int, StreamId] = {}

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        number = next(self._ids)
        events = self._streams.get(stream_id)
        if events is None:
            events = self._streams[stream_id] = deque()
            while len(self._streams) > self.max_streams:
                _, dropped = self._streams.popitem(last=False)
                for old, _ in dropped:
                    self._stream_of.pop(old, None)
        self._streams.move_to_end(stream_id)
        if len(events) == self.per_stream:
            old, _ = events.popleft()
            self._stream_of.pop(old, None)
        events.append((number, message))
        self._stream_of[number] = stream_id
        return str(number)

    async def replay_events_after(self, last_event_id: EventId,
                                  send_callback: EventCallback) -> StreamId | None:
        try:
            after = int(last_event_id)
        except ValueError:
            return None
        stream_id = self._stream_of.get(after)
        if stream_id is None:
            return None
        for number, message in self._streams[stream_id]:
            if number > after and message is not None:
                await send_callback(EventMessage(message, str(number)))
        return stream_id
