"""The approvals policy on its own (pure: config in, verdict out) and the gate's remembering,
against a real SQLite store. The faces are tested over their wires in tests/test_approvals_*.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from victor_server.store import SqliteStore
from victor_server.tools.approval_policy import (
    ApprovalConfigError,
    ApprovalPolicy,
    CommandRules,
    command_words,
    match_command,
)
from victor_server.tools.approvals import (
    ApprovalGate,
    ApprovalRequest,
    prefixes_of,
    remembered_prefix,
)
from victor_server.tools.base import ToolContext, ToolSpec

BASH = ToolSpec("bash", "run", writes=True)
READ = ToolSpec("read", "read")
WRITE = ToolSpec("write", "write", writes=True)
GITHUB_READ = ToolSpec("github__list_issues", "list", source="github")
GITHUB_WRITE = ToolSpec("github__create_issue", "create", writes=True, source="github")

RULES = {"bash": {"allow": ["git status", "pytest"], "ask": ["*"], "deny": ["rm", "git push"]}}


def decide(config: Any, spec: ToolSpec, tool_input: dict[str, Any] | None = None) -> str:
    return ApprovalPolicy(config).decide(spec, tool_input or {}).decision


def test_defaults_allow_reads_and_ask_for_writes() -> None:
    assert decide(None, READ) == "allow"
    assert decide(None, GITHUB_READ) == "allow"  # an MCP tool its server marked read-only
    for spec in (WRITE, BASH, GITHUB_WRITE):
        assert decide(None, spec, {"command": "ls"}) == "ask"


def test_exact_names_beat_globs_and_globs_go_in_order() -> None:
    config = {"github__create_issue": "allow", "github__*": "deny", "*": "ask"}
    assert decide(config, GITHUB_WRITE) == "allow"
    assert decide(config, GITHUB_READ) == "deny"
    assert decide(config, READ) == "ask"


@pytest.mark.parametrize("command, expected", [
    ("git status", "allow"), ("git status -s", "allow"), ("pytest -q tests", "allow"),
    ("git stash", "ask"), ("gitstatus", "ask"), ("make", "ask"),
    ("rm -rf build", "deny"), ("git push origin main", "deny"),
    ("git status && rm -rf /", "deny"),          # the strictest simple command decides
    ("git status; make", "ask"),
    ("pytest $(rm -rf ~)", "ask"),               # a substitution is never allowed by a rule
    ("git status 'unclosed", "ask"),
])
def test_bash_prefix_rules(command: str, expected: str) -> None:
    assert decide(RULES, BASH, {"command": command}) == expected


def test_longest_rule_wins_and_ties_go_to_the_strictest() -> None:
    rules = CommandRules(allow=(("git", "push", "--dry-run"),), deny=(("git", "push"),),
                         ask=((),))
    assert match_command(rules, ["git", "push", "--dry-run"])[0] == "allow"
    assert match_command(rules, ["git", "push"])[0] == "deny"
    tie = CommandRules(allow=(("make",),), deny=(("make",),))
    assert match_command(tie, ["make"]) == ("deny", 'deny: "make"')


def test_a_verdict_names_the_rule() -> None:
    verdict = ApprovalPolicy(RULES).decide(BASH, {"command": "rm -rf x"})
    assert verdict.rule == 'tools.approvals.bash.deny: "rm"'
    assert ApprovalPolicy({"github__*": "ask"}).decide(GITHUB_WRITE, {}).rule == \
        'tools.approvals."github__*": ask'


def test_command_words_split_on_operators() -> None:
    assert command_words("a 'b c' | d && e") == [["a", "b c"], ["d"], ["e"]]
    assert command_words("echo `id`") is None and command_words("a\nb") is None


@pytest.mark.parametrize("config, message", [
    ("allow", "must be a mapping"),
    ({"read": "yes"}, "tools.approvals.read: expected allow | ask | deny"),
    ({"write": {"allow": ["x"]}}, "command rules are for bash only"),
    ({"bash": {"permit": ["x"]}}, "unknown key 'permit'"),
    ({"bash": {"allow": [""]}}, "an empty rule"),
    ({"bash": {"allow": 3}}, "expected a list"),
])
def test_bad_config_is_named(config: Any, message: str) -> None:
    with pytest.raises(ApprovalConfigError, match=message):
        ApprovalPolicy(config)


def test_bad_config_fails_closed(tmp_path: Path) -> None:
    gate = ApprovalGate(tmp_path, {"read": "sometimes"})
    assert gate.policy.decide(READ, {}).decision == "ask"


def test_what_always_allow_remembers() -> None:
    assert remembered_prefix(("git", "status", "-s")) == "git status"
    assert remembered_prefix(("pytest", "tests/a.py")) == "pytest"
    assert remembered_prefix(("ls", "-la")) == "ls"
    assert prefixes_of(("git", "status", "-s")) == ["git", "git status", "git status -s"]


class Recorder:
    face = "test"

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    async def __call__(self, request: ApprovalRequest) -> str:
        self.requests.append(request)
        return self.answers.pop(0)


async def test_always_allow_is_kept_per_tenant_and_prefix(tmp_path: Path) -> None:
    store = await SqliteStore(tmp_path / "v.db").open()
    try:
        gate = ApprovalGate(tmp_path, None)
        gate.store = store
        asker = Recorder("allow_always", "reject", "reject", "allow_once")

        def ctx(session: str) -> ToolContext:
            return ToolContext(tmp_path, session, ask_permission=asker)

        async def check(session: str, command: str) -> bool:
            return await gate.check(BASH, {"command": command}, ctx(session), "t") is None

        assert await check("acme:s1", "git status -s")       # asked: always
        assert await check("acme:s2", "git status")           # remembered for acme
        assert not await check("acme:s1", "git stash")        # another subcommand: asked
        assert not await check("other:s1", "git status")      # another tenant: asked
        assert await check("acme:s1", "git status && touch x")  # a compound: asked, once
        assert [r.command for r in asker.requests] == [
            "git status -s", "git stash", "git status", "git status && touch x"]
        assert asker.requests[0].remember == \
            "bash commands starting with `git status` in this workspace"
        assert asker.requests[-1].remember is None  # nothing "always" could keep
        rows = await store.list_approvals()
        assert [(r.tenant, r.tool, r.prefix, r.face) for r in rows] == [
            ("acme", "bash", "git status", "test")]
    finally:
        await store.close()


async def test_write_request_carries_a_diff(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    asker = Recorder("reject")
    gate = ApprovalGate(tmp_path, None)
    refused = await gate.check(ToolSpec("edit", "e", writes=True),
                               {"path": "a.txt", "old": "two", "new": "2"},
                               ToolContext(tmp_path, "s", ask_permission=asker), "t")
    assert refused is not None and refused.is_error
    assert asker.requests[0].diff is not None
    assert "-two\n+2\n" in asker.requests[0].diff


async def test_no_asker_and_deny_name_the_config_key(tmp_path: Path) -> None:
    gate = ApprovalGate(tmp_path, RULES)
    ctx = ToolContext(tmp_path, "s")
    unasked = await gate.check(BASH, {"command": "make -j4"}, ctx, "t")
    assert unasked is not None and 'tools.approvals.bash.allow: ["make"]' in unasked.content
    denied = await gate.check(BASH, {"command": "rm x"}, ctx, "t")
    assert denied is not None and denied.content == (
        'bash `rm x` is denied by config (tools.approvals.bash.deny: "rm")')


class TurnSettings:
    """What the orchestrator puts in ``ToolContext.options["settings"]``: the turn's config."""

    def __init__(self, tools: dict[str, Any]) -> None:
        self.tools = tools


async def test_the_turns_config_wins_and_is_parsed_once(tmp_path: Path) -> None:
    gate = ApprovalGate(tmp_path, {"write": "deny"})
    edited = {"approvals": {"write": "allow"}, "approval_timeout": 5}

    def ctx(tools: dict[str, Any]) -> ToolContext:
        return ToolContext(tmp_path, "s", options={"settings": TurnSettings(tools)})

    assert await gate.check(WRITE, {"path": "a"}, ToolContext(tmp_path, "s"), "t") is not None
    assert await gate.check(WRITE, {"path": "a"}, ctx(edited), "t") is None
    assert await gate.check(WRITE, {"path": "a"}, ctx(dict(edited)), "t") is None
    assert len(gate._parsed) == 1  # an equal value reuses the parsed policy
    asker = Recorder("reject")
    await gate.check(WRITE, {"path": "a"}, ToolContext(
        tmp_path, "s", ask_permission=asker,
        options={"settings": TurnSettings({"approval_timeout": "soon"})}), "t")
    assert asker.requests[0].timeout == 120.0  # a bad timeout falls back to the default
