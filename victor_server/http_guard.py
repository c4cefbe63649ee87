"""Who may talk to the HTTP surfaces (the dashboard, ``mcp --http``, the WebSocket analytics
exporter): one set of checks, applied before anything is served.

* **Host** must be one the operator named: the loopback names (``localhost``, ``127.0.0.1``,
  ``[::1]``) with or without the port we listen on, the address we bound when it is a specific
  one, and ``http.allowed_hosts`` from config. Anything else is 421: a page on another site
  that made its own name resolve to 127.0.0.1 (DNS rebinding) is refused.
* **Origin**, when a browser sends one, must be ``http://`` or ``https://`` plus an allowed
  host, or one of ``http.allowed_origins``; anything else is 403. No Origin is a non-browser
  client and is let through to the token check.
* **Token**: with ``--token-file FILE`` or ``VICTOR_HTTP_TOKEN`` set, every request needs it as
  ``Authorization: Bearer <token>`` (or the ``victor_token`` cookie the dashboard sets when
  opened once as ``/?token=<token>``); an operator token sees every tenant. The auth
  middleware's tenant tokens are accepted too, and see only their tenant. A surface bound to
  anything but loopback refuses to start without an operator token. Tokens are compared with
  ``hmac.compare_digest`` against every known token, so timing says nothing about a match.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import unquote

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
TOKEN_ENV = "VICTOR_HTTP_TOKEN"
COOKIE = "victor_token"


class HttpSetupError(ValueError):
    """A surface that must not start as configured; the message is the one line to print."""


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def read_token(token_file: str | Path | None, env: Mapping[str, str] | None = None) -> str | None:
    """The operator token: ``token_file`` (only its owner may read it) or ``VICTOR_HTTP_TOKEN``."""
    if token_file:
        path = Path(token_file).expanduser()
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise HttpSetupError(f"--token-file {path} is readable by others "
                                     f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}")
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise HttpSetupError(f"--token-file {path}: {exc.strerror or exc}") from exc
        if len(token) < 16:
            raise HttpSetupError(f"--token-file {path}: the token must be at least 16 characters")
        return token
    token = (env if env is not None else os.environ).get(TOKEN_ENV, "").strip()
    if token and len(token) < 16:
        raise HttpSetupError(f"{TOKEN_ENV}: the token must be at least 16 characters")
    return token or None


@dataclass(frozen=True)
class Principal:
    """Who a request is: ``tenant`` None means every tenant (operator, or an open loopback)."""

    tenant: str | None = None

    @property
    def all_tenants(self) -> bool:
        return self.tenant is None


@dataclass
class HttpGuard:
    port: int
    bind_host: str = "127.0.0.1"
    token: str | None = None
    tenant_tokens: dict[str, str] = field(default_factory=dict)  # token -> tenant
    extra_hosts: Iterable[str] = ()
    extra_origins: Iterable[str] = ()

    def __post_init__(self) -> None:
        self.extra_hosts = tuple(h.lower() for h in self.extra_hosts)
        self.extra_origins = tuple(o.rstrip("/").lower() for o in self.extra_origins)
        if not 0 <= self.port <= 65535:
            raise HttpSetupError(f"--port {self.port}: a port is a number from 0 to 65535")
        if not is_loopback(self.bind_host) and not self.token:
            raise HttpSetupError(
                f"refusing to listen on {self.bind_host} (not loopback) without a token: put a "
                f"random token in a file only you can read and pass --token-file FILE, or set "
                f"{TOKEN_ENV}; clients then send 'Authorization: Bearer <token>'")

    # ---- the allow-lists -----------------------------------------------------------------------

    def host_names(self) -> list[str]:
        names = list(LOOPBACK_NAMES)
        bound = self.bind_host.lower()
        if bound not in ("0.0.0.0", "::", "[::]", "") and not is_loopback(bound):
            names.append(f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound)
        return names + list(self.extra_hosts)

    def allowed_hosts(self) -> list[str]:
        """Exact ``Host`` values: each name bare and with our port (a configured name that
        carries its own port, as behind a proxy, is taken as it is)."""
        hosts = []
        for name in self.host_names():
            has_port = "]:" in name if name.startswith("[") else ":" in name
            hosts += [name] if has_port else [name, f"{name}:{self.port}"]
        return hosts

    def allowed_origins(self) -> list[str]:
        origins = []
        for host in self.allowed_hosts():
            origins += [f"http://{host}", f"https://{host}"]
        return origins + list(self.extra_origins)

    def host_ok(self, host: str | None) -> bool:
        return host is not None and host.strip().lower() in self.allowed_hosts()

    def origin_ok(self, origin: str | None) -> bool:
        if origin is None:
            return True
        return origin.strip().rstrip("/").lower() in self.allowed_origins()

    # ---- tokens ---------------------------------------------------------------------------------

    @property
    def requires_token(self) -> bool:
        return bool(self.token or self.tenant_tokens)

    def principal_for(self, presented: str | None) -> Principal | None:
        """Who ``presented`` is, or None; when no token is configured, everyone is operator."""
        if not self.requires_token:
            return Principal()
        if not presented:
            return None
        candidate = presented.encode()
        found: Principal | None = None
        if self.token is not None and hmac.compare_digest(self.token.encode(), candidate):
            found = Principal()
        for known, tenant in self.tenant_tokens.items():  # every one: timing says nothing
            if hmac.compare_digest(known.encode(), candidate) and found is None:
                found = Principal(tenant)
        return found

    def check(self, headers: Any, query_token: str | None = None) \
            -> tuple[int, str] | Principal:
        """``(status, reason)`` for a refused request, else who is asking. ``headers`` is any
        case-insensitive mapping with ``get``."""
        if not self.host_ok(headers.get("host")):
            return 421, "misdirected request: this Host is not served here"
        if not self.origin_ok(headers.get("origin")):
            return 403, "forbidden: cross-origin request refused"
        principal = self.principal_for(presented_token(headers) or query_token)
        if principal is None:
            return 401, ("unauthorized: send 'Authorization: Bearer <token>' "
                         "(or open /?token=<token> once in a browser)")
        return principal


def presented_token(headers: Any) -> str | None:
    authorization = headers.get("authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return str(value.strip())
    cookie_header = headers.get("cookie")
    if cookie_header:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except Exception:  # a malformed Cookie header is no token
            return None
        if COOKIE in cookies:
            return unquote(cookies[COOKIE].value) or None
    return None


def tenant_tokens_of(settings: Any) -> dict[str, str]:
    """``token -> tenant`` from the ``auth`` middleware entry in config, if any."""
    found: dict[str, str] = {}
    for entry in getattr(settings, "middleware", None) or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("auth"), Mapping):
            tokens = entry["auth"].get("tokens") or {}
            if isinstance(tokens, Mapping):
                found.update({str(k): str(v) for k, v in tokens.items()})
    return found


def http_settings(settings: Any) -> tuple[list[str], list[str], str | None]:
    """``http.allowed_hosts``, ``http.allowed_origins`` and ``http.token_file`` from config."""
    section = getattr(settings, "http", None) or {}
    if not isinstance(section, Mapping):
        section = getattr(section, "model_dump", dict)()
    hosts = [str(h) for h in section.get("allowed_hosts") or []]
    origins = [str(o) for o in section.get("allowed_origins") or []]
    token_file = section.get("token_file")
    return hosts, origins, str(token_file) if token_file else None




class GuardedASGI:
    """An ASGI app behind ``guard``: a refused request is answered here (421, 403, 401) and
    never reaches ``app``."""

    def __init__(self, app: Any, guard: HttpGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _AsgiHeaders(scope.get("headers") or [])
        verdict = self.guard.check(headers)
        if isinstance(verdict, Principal):
            await self.app(scope, receive, send)
            return
        status, reason = verdict
        body = f"{reason}\n".encode()
        if scope["type"] == "websocket":  # refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode())]
            + ([(b"www-authenticate", b"Bearer")] if status == 401 else [])})
        await send({"type": "http.response.body", "body": body})


class _AsgiHeaders:
    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._values: dict[str, str] = {}
        for name, value in raw:
            self._values.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name.lower(), default)


async def load_guard(host: str, port: int, token_file: Path | None, workspace: Path,
                     config: Path | None, tenant_tokens: bool = True) -> HttpGuard:
    """The guard config and the command line describe (raises ``HttpSetupError``)."""
    from victor_server.config import (
        ConfigCoordinator,
        EnvironmentConfigProvider,
        FileConfigProvider,
    )

    resolved = await ConfigCoordinator(
        [EnvironmentConfigProvider(), FileConfigProvider(config, workspace)]).resolve()
    hosts, origins, configured_file = http_settings(resolved.settings)
    return HttpGuard(port, host, read_token(token_file or configured_file),
                     tenant_tokens_of(resolved.settings) if tenant_tokens else {}, hosts,
                     origins)


__all__ = ["COOKIE", "TOKEN_ENV", "GuardedASGI", "HttpGuard", "HttpSetupError", "Principal",
           "http_settings", "is_loopback", "load_guard", "presented_token", "read_token",
           "tenant_tokens_of"]
