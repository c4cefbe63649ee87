"""How a ``bash`` command line becomes the program that runs, and how rules match it.

The allow-list is only sound when it is checked against the same parse that runs the command.
A check that splits the line one way while ``/bin/sh`` splits it another can be walked around
(``ls a#b; touch x``: a splitter that reads ``#`` as a comment sees only ``ls``, the shell runs
``touch`` too). So, by default, no shell runs at all:

- ``parse_argv`` splits the line into argv words with ``shlex`` in POSIX mode (quotes and
  backslashes as ``sh`` reads them) and the tool executes that argv directly;
- any character ``/bin/sh`` would interpret outside quotes (``; | & < > ( ) $ ` * ? [ ] { } ~ #
  !``, newlines and the like) is refused with ``NeedsShell`` rather than passed on as a literal,
  so the model is never surprised by a word it meant as syntax; inside double quotes ``$`` and
  `` ` `` are refused too, since ``sh`` would expand them there; a leading ``NAME=value`` is
  refused (it would set a variable, not name a program).

A line with shell syntax runs only where config opts into a full shell (``tools.bash.shell:
true``), and then under ``/bin/sh -c`` with no allow-list check, because no prefix rule can
bound what a shell line does.

Rules (``allow: ["git status", "pytest"]``) match argv prefixes: a rule is split with the same
``parse_argv`` and matches when its words equal the command's leading words (``git status``
matches ``git status --short`` but not ``git statuses`` or ``git push``); the rule ``*`` matches
every command. ``matches`` is the one definition both the bash allow-list and approval rules use.
"""

from __future__ import annotations

import shlex

from victor_server.tools.base import ToolError

# What /bin/sh interprets outside quotes (plus ! and {}, which bash does): never passed as text.
SHELL_METACHARACTERS = frozenset(";|&<>()$`*?[]{}~#!\n\r\x00")
# Inside double quotes sh still expands these.
EXPANDED_IN_DOUBLE_QUOTES = frozenset("$`\n\r\x00")
ANY_COMMAND = "*"


class CommandRefused(ToolError):
    """A command line the bash tool will not run; the message is written for the model."""


class NeedsShell(CommandRefused):
    """The line uses shell syntax, which runs only when config allows a full shell."""


def parse_argv(command: str) -> list[str]:
    """The argv ``command`` runs as without a shell; raises ``NeedsShell``/``CommandRefused``."""
    if not isinstance(command, str) or not command.strip():
        raise CommandRefused("bash: empty command")
    _refuse_shell_syntax(command)
    try:
        argv = shlex.split(command, comments=False, posix=True)
    except ValueError as exc:  # unbalanced quotes
        raise CommandRefused(f"bash: cannot parse command: {exc}") from exc
    if not argv:
        raise CommandRefused("bash: empty command")
    name, eq, _ = argv[0].partition("=")
    if eq and name and name.replace("_", "a").isalnum():
        raise CommandRefused(f"bash: variable assignment {argv[0]!r} before a command is not "
                             "allowed")
    return argv


def _refuse_shell_syntax(command: str) -> None:
    quote = ""  # "", "'" or '"'
    escaped = False
    for char in command:
        if escaped:  # a backslash outside single quotes: sh and shlex both take it literally
            escaped = False
            if char in "\n\r\x00":
                raise _needs_shell(char)
            continue
        if quote == "'":
            if char == "'":
                quote = ""
            elif char in "\n\r\x00":
                raise _needs_shell(char)
            continue
        if quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\":
                escaped = True
            elif char in EXPANDED_IN_DOUBLE_QUOTES:
                raise _needs_shell(char)
            continue
        if char in "'\"":
            quote = char
        elif char == "\\":
            escaped = True
        elif char in SHELL_METACHARACTERS:
            raise _needs_shell(char)


def _needs_shell(char: str) -> NeedsShell:
    shown = {"\n": "a newline", "\r": "a carriage return",
             "\x00": "a NUL byte"}.get(char, f"`{char}`")
    return NeedsShell(f"bash: {shown} is shell syntax; commands run without a shell, one "
                      "program with its arguments (quote the character if you meant it as "
                      "text; a full shell needs tools.bash.shell: true in config)")


def rule_words(rule: str) -> list[str]:
    """A rule's words: ``"*"`` for every command, else its argv prefix."""
    rule = rule.strip()
    if rule == ANY_COMMAND:
        return [ANY_COMMAND]
    return parse_argv(rule)


def matches(rule: str, argv: list[str]) -> bool:
    """True when ``rule`` (an argv prefix such as ``"git status"``, or ``"*"``) covers ``argv``."""
    try:
        words = rule_words(rule)
    except CommandRefused:
        return False  # a rule written with shell syntax can match nothing we would run
    if words == [ANY_COMMAND]:
        return True
    return bool(argv) and argv[:len(words)] == words


def first_match(rules: list[str], argv: list[str]) -> str | None:
    """The first rule in ``rules`` that covers ``argv``, or None."""
    return next((rule for rule in rules if matches(rule, argv)), None)
