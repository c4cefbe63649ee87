"""Secrets are masked whole in every log line, whatever characters they contain.

Hypothesis draws tokens from several alphabets (printable ASCII with spaces, commas, quotes and
backslashes; any non-surrogate Unicode) and logs them through the real redacting filter in the
shapes the server's logs hold them: as typed, inside JSON (escaped, ASCII-only or not), inside a
Python ``repr``, in a header line and in a URL. A token the config names is masked by value; one
a client made up is masked by the key it is logged under. Either way the line comes out exactly
as it would with the token replaced by ``***``: nothing of it is left, and nothing else is lost.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rpc_wire import WireServer

from victor_server import logging_redaction
from victor_server.logging_redaction import RedactingFilter, add_secret

ALPHABETS = {
    "ascii with separators": st.characters(min_codepoint=32, max_codepoint=126),
    "unicode": st.characters(blacklist_categories=("Cs",)),
    "spaces and commas": st.sampled_from(" ,;:=\"'\\{}[]&?#abcXYZ019\t"),
}
tokens = st.one_of(*(st.text(alphabet, min_size=6, max_size=40) for alphabet in
                     ALPHABETS.values()))



def _masked(line: str, encoded: str) -> tuple[str, str]:
    """``line`` and ``line`` with the quoted ``encoded`` token replaced by ``***`` in the same
    quotes."""
    return line, line.replace(encoded, encoded[0] + "***" + encoded[-1], 1)


# (the line with the token, the same line with *** in its place)
SHAPES: dict[str, Callable[[str], tuple[str, str]]] = {
    "json": lambda t: _masked(json.dumps({"authToken": t, "n": 1}), json.dumps(t)),
    "json unicode": lambda t: _masked(json.dumps({"authToken": t}, ensure_ascii=False),
                                      json.dumps(t, ensure_ascii=False)),
    "repr": lambda t: _masked(repr({"auth_token": t, "n": 1}), repr(t)),
}


def logged(line: str) -> str:
    """``line`` as the server's stderr handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.secret_masking")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("%s", line)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().rstrip("\n")


def plausible(token: str) -> bool:
    """Tokens that do not overlap the line around them (a token ``"n": 1`` would be found in
    the template itself); and, for the by-key net, are not all whitespace."""
    template = "".join(SHAPES[s]("")[0] for s in SHAPES) + "Authorization: Bearer GET /?x"
    return token.strip() != "" and token not in template and "***" not in token


@settings(max_examples=300, deadline=None)
@given(token=tokens, shape=st.sampled_from(sorted(SHAPES)))
def test_an_unknown_token_is_masked_whole_by_its_key(token: str, shape: str) -> None:
    assume(plausible(token))
    line, expected = SHAPES[shape](token)
    assert logged(line) == expected


@settings(max_examples=300, deadline=None)
@given(token=tokens, shape=st.sampled_from(["plain", "json", "json unicode", "repr", "url",
                                             "header"]))
def test_a_known_secret_is_masked_whole_in_every_shape(token: str, shape: str) -> None:
    assume(plausible(token) and "\n" not in token and "\r" not in token)
    saved = dict(logging_redaction._extra_secrets)
    try:
        add_secret(token)
        line = {"plain": f"chat failed for {token} today",
                "json": json.dumps({"x": token}),
                "json unicode": json.dumps({"x": token}, ensure_ascii=False),
                "repr": repr(["x", token]),
                "url": f"GET /api?session=1&key={quote(token, safe='')} HTTP/1.1",
                "header": f"X-Custom: {token}"}[shape]
        out = logged(line)
        for form in logging_redaction._extra_secrets[token]:
            assert form not in out, (form, out)
        assert "***" in out
    finally:
        logging_redaction._extra_secrets.clear()
        logging_redaction._extra_secrets.update(saved)


def test_header_and_query_forms() -> None:
    assert logged("Authorization: Bearer abc def, ghi") == "Authorization: ***"
    assert logged("GET /?token=abc%20def&x=1 HTTP/1.1") == "GET /?token=***&x=1 HTTP/1.1"
    assert logged('usage {"input_tokens": 3, "max_tokens": 5}') == \
        'usage {"input_tokens": 3, "max_tokens": 5}'


def test_a_traceback_is_masked_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.secret_masking.tb")
    logger.propagate = False
    logger.addHandler(handler)
    add_secret("tb-secret with space")
    try:
        raise ValueError("bad token tb-secret with space")
    except ValueError:
        logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert "tb-secret" not in stream.getvalue() and "ValueError: bad token ***" in \
        stream.getvalue()


def test_a_token_with_a_space_and_a_comma_leaves_no_fragment_in_server_logs(
        tmp_path: Path) -> None:
    """The real server at ``-vv``: a configured token and an unknown one, both with a space
    and a comma, presented at initialize; no fragment of either is in stderr."""
    known, unknown = "tok-KNOWN half, masked no-more", "tok-UNKNOWN other, half shown"
    workspace = tmp_path / "project"
    workspace.mkdir()
    config = tmp_path / "victor.yml"
    config.write_text("middleware:\n  - logging\n"
                      f"  - {{auth: {{tokens: {{\"{known}\": acme}}}}}}\n")
    for token in (known, unknown):
        with WireServer("lsp", workspace, args=["-vv", "--config", str(config)]) as server:
            server.initialize(authToken=token)
            server.request("victor/session/list", {})
            assert server.close() == 0
        log = server.stderr_path.read_text()
        assert "authToken" in log  # the options were logged, so they could have leaked
        for fragment in token.replace(",", " ").split():
            if fragment.startswith("tok-") or len(fragment) > 4:
                assert fragment not in log, (fragment, token)
