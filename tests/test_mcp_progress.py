"""Progress notifications during ``chat`` and ``notifications/cancelled`` keeping what was said."""

from __future__ import annotations

from pathlib import Path

import anyio
from fake_anthropic import FakeAnthropic, slow_text, text
from mcp_face_harness import mcp_client, structured


async def test_chat_reports_each_delta_as_progress(workspace: Path, tmp_path: Path,
                                                   fake: FakeAnthropic) -> None:
    chunks = ["Streaming ", "one ", "chunk ", "at a time."]
    fake.queue(slow_text(chunks, delay=0.01))
    seen: list[tuple[float, str | None]] = []
    all_seen = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))
        if len(seen) == len(chunks):
            all_seen.set()

    async with mcp_client(workspace, tmp_path / "v.db", fake.env()) as client:
        result = structured(await client.call_tool(
            "chat", {"message": "stream please"}, progress_callback=on_progress))
        assert result["content"] == "".join(chunks)
        # notifications may trail the response by a moment; the last one is the final delta
        with anyio.fail_after(10):
            await all_seen.wait()
        assert [m for _, m in seen] == chunks
        assert [p for p, _ in seen] == sorted(p for p, _ in seen)

        fake.queue(text("quiet"))
        quiet: list[str | None] = []

        async def on_quiet(progress: float, total: float | None, message: str | None) -> None:
            quiet.append(message)

        result = structured(await client.call_tool(
            "chat", {"message": "no stream", "stream": False}, progress_callback=on_quiet))
        assert result["content"] == "quiet" and quiet == []


async def test_cancel_stops_the_turn_and_keeps_what_was_said(workspace: Path, tmp_path: Path,
                                                             fake: FakeAnthropic) -> None:
    fake.queue(slow_text(["The first part. ", "never ", "sent ", "at all"], delay=1.5))
    got_first = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        got_first.set()

    async with mcp_client(workspace, tmp_path / "v.db", fake.env()) as client:
        async with anyio.create_task_group() as tg:
            async def run_chat() -> None:
                await client.call_tool("chat", {"message": "talk slowly", "session_id": "slow"},
                                       progress_callback=on_progress)

            tg.start_soon(run_chat)
            with anyio.fail_after(30):
                await got_first.wait()
            # cancelling the caller sends notifications/cancelled for the request
            tg.cancel_scope.cancel()

        with anyio.fail_after(30):
            while True:
                session = structured(await client.call_tool("get_session",
                                                            {"session_id": "slow"}))
                if len(session["messages"]) >= 2:
                    break
                await anyio.sleep(0.1)
        user, assistant = session["messages"][:2]
        assert user["content"] == "talk slowly"
        said = " ".join(b.get("text", "") for b in assistant["content"])
        assert "The first part." in said and "at all" not in said
        assert assistant.get("complete") is False

        # the session stays usable: the next turn sends a valid history
        fake.queue(text("Back again."))
        again = structured(await client.call_tool("chat", {"message": "go on",
                                                           "session_id": "slow"}))
        assert again["content"] == "Back again."
        roles = [m["role"] for m in fake.last_request.body["messages"]]
        assert roles[0] == "user" and roles[-1] == "user"
