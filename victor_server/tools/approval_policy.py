"""The approvals policy: whether a tool call runs, asks the user first, or is refused.

Config (``tools.approvals``; every key optional)::

    tools:
      approvals:
        read: allow
        write: ask
        "github__*": ask            # fnmatch globs, for MCP tools (``<server>__<tool>``)
        bash:
          allow: ["git status", "pytest"]
          ask: ["*"]
          deny: ["rm", "git push"]
      approval_timeout: 120         # seconds an editor may take to answer before "reject"

A tool's decision is its exact name's entry, else the first glob (in the order written) that
matches, else the default: ``ask`` for tools that write files or run commands (``write``,
``edit``, ``bash``, MCP tools whose server does not mark them ``readOnlyHint``), ``allow`` for
the rest. A plain ``allow | ask | deny`` applies to every call of the tool.

Only ``bash`` takes command rules. A rule is a command prefix in words (``"git status"`` matches
``git status -s`` but not ``git stash``; ``"*"`` matches every command). The rule with the most
words wins; on a tie ``deny`` beats ``ask`` beats ``allow``; a command no rule matches is
``ask``. A command of several simple commands (``a && b``, ``a | b``) is decided per command and
the strictest decision wins, and a command the split cannot see through (substitutions, quotes
that do not close) is never ``allow`` by rule, only ``ask`` or ``deny``.

This module is pure: no I/O, nothing remembered. ``approvals`` adds the store and the asking.
"""

from __future__ import annotations

import fnmatch
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from victor_server.tools.base import ToolSpec
from victor_server.tools.bash_command import CommandRefused, parse_argv

ALLOW, ASK, DENY = "allow", "ask", "deny"
DECISIONS = (ALLOW, ASK, DENY)
STRICTNESS = {ALLOW: 0, ASK: 1, DENY: 2}
CONFIG_KEY = "tools.approvals"
COMMAND_TOOL = "bash"
# What a shell treats as more than one word list; such a command is decided per simple command.
OPERATORS = {";", "&&", "||", "|", "&", "|&", ";;", "(", ")"}
UNSEEABLE = ("`", "$(", "<(", ">(", "\n", "\r")


class ApprovalConfigError(ValueError):
    """``tools.approvals`` is not shaped as documented; the message names the key."""


@dataclass(frozen=True)
class CommandRules:
    """Command-prefix rules for ``bash``: each a tuple of words (``()`` for ``"*"``)."""

    allow: tuple[tuple[str, ...], ...] = ()
    ask: tuple[tuple[str, ...], ...] = ()
    deny: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Verdict:
    decision: str  # allow | ask | deny
    rule: str  # the config key (and rule) that decided, for messages: tools.approvals.bash.deny
    # For a single bash command, its words: what "always allow" remembers a prefix of.
    argv: tuple[str, ...] | None = None


def command_words(command: str) -> list[list[str]] | None:
    """The simple commands of a shell command as word lists; None when the split cannot be
    trusted to see what a shell would run (substitutions, several lines, unclosed quotes).

    A command without shell syntax is split by the same parse that runs it
    (``bash_command.parse_argv``), so the words a rule sees are the argv that executes. A line
    with shell syntax only runs where ``tools.bash.shell`` allows a full shell; it is split on
    the shell's operators here, and anything the split cannot see through gives None.
    """
    try:
        return [parse_argv(command)]
    except CommandRefused:
        pass
    if any(marker in command for marker in UNSEEABLE):
        return None
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def match_command(rules: CommandRules, argv: Sequence[str]) -> tuple[str, str]:
    """The decision for one simple command's words, and the rule that made it."""
    best: tuple[int, int, str, str] | None = None  # (words, strictness, decision, rule)
    for decision in DECISIONS:
        for prefix in getattr(rules, decision):
            if tuple(argv[:len(prefix)]) != prefix:
                continue
            candidate = (len(prefix), STRICTNESS[decision], decision,
                         f'{decision}: "{" ".join(prefix) or "*"}"')
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if best is None:
        return ASK, "no rule matches; the default is ask"
    return best[2], best[3]


class ApprovalPolicy:
    def __init__(self, config: Any = None) -> None:
        self.tools: dict[str, str | CommandRules] = {}
        self.globs: list[tuple[str, str | CommandRules]] = []
        if config is None:
            return
        if not isinstance(config, Mapping):
            raise ApprovalConfigError(f"{CONFIG_KEY} must be a mapping of tool name to "
                                      "allow | ask | deny")
        for name, value in config.items():
            entry = _entry(str(name), value)
            if any(c in str(name) for c in "*?["):
                self.globs.append((str(name), entry))
            else:
                self.tools[str(name)] = entry

    def decide(self, spec: ToolSpec, tool_input: Mapping[str, Any]) -> Verdict:
        name = spec.name
        entry = self.tools.get(name)
        key = f"{CONFIG_KEY}.{name}"
        if entry is None:
            for pattern, value in self.globs:
                if fnmatch.fnmatchcase(name, pattern):
                    entry, key = value, f'{CONFIG_KEY}."{pattern}"'
                    break
        command = tool_input.get("command") if name == COMMAND_TOOL else None
        words = command_words(command) if isinstance(command, str) else None
        argv = tuple(words[0]) if words is not None and len(words) == 1 else None
        if isinstance(entry, CommandRules):
            return self._decide_command(entry, key, words, argv)
        if entry is None:
            default = ASK if spec.writes else ALLOW
            return Verdict(default, f"{key} is not set; {default} is the default for {name}",
                           argv)
        return Verdict(entry, f"{key}: {entry}", argv)

    @staticmethod
    def _decide_command(rules: CommandRules, key: str, words: list[list[str]] | None,
                        argv: tuple[str, ...] | None) -> Verdict:
        if not words:  # nothing the rules can read: never allowed by a rule
            return Verdict(ASK, f"{key}: a command the rules cannot read is asked about")
        decided = [match_command(rules, w) for w in words]
        decision, rule = max(decided, key=lambda d: STRICTNESS[d[0]])
        return Verdict(decision, f"{key}.{rule}" if ":" in rule else f"{key}: {rule}", argv)


def policy_from_config(config: Any) -> tuple[ApprovalPolicy, ApprovalConfigError | None]:
    """The policy ``tools.approvals`` sets, or, when it is invalid, the fail-closed one (every
    call asks until it is fixed) with the error."""
    try:
        return ApprovalPolicy(config), None
    except ApprovalConfigError as exc:
        return ApprovalPolicy({"*": ASK}), exc


def _entry(name: str, value: Any) -> str | CommandRules:
    key = f"{CONFIG_KEY}.{name}"
    if isinstance(value, str) and value in DECISIONS:
        return value
    if isinstance(value, Mapping):
        if name != COMMAND_TOOL:
            raise ApprovalConfigError(f"{key}: command rules are for bash only; use "
                                      "allow | ask | deny")
        unknown = set(value) - set(DECISIONS)
        if unknown:
            raise ApprovalConfigError(f"{key}: unknown key {sorted(unknown)[0]!r} (allow, ask "
                                      "and deny take lists of command prefixes)")
        return CommandRules(**{d: _prefixes(f"{key}.{d}", value.get(d)) for d in DECISIONS})
    raise ApprovalConfigError(f"{key}: expected allow | ask | deny, got {value!r}")


def _prefixes(key: str, value: Any) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApprovalConfigError(f"{key}: expected a list of command prefixes")
    prefixes = []
    for rule in value:
        try:
            words = () if rule.strip() == "*" else tuple(shlex.split(rule))
        except ValueError as exc:
            raise ApprovalConfigError(f"{key}: cannot split {rule!r}: {exc}") from exc
        if not words and rule.strip() != "*":
            raise ApprovalConfigError(f"{key}: an empty rule; write \"*\" for every command")
        prefixes.append(words)
    return tuple(prefixes)
