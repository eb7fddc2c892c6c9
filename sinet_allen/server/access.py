"""Which requests `allennlp sinet-serve` answers at all: the `Host` a request names must be one of
the allowed host names, and the `Origin` a browser sends must be the server's own page.

A server on 127.0.0.1 is reachable by any web page open in the user's browser: the page can post
to it directly (its `Origin` is then the page's site), or through DNS rebinding, where the page's
own host name is made to resolve to 127.0.0.1 (its `Host` is then that name). Both are refused
with 403 before the request reaches the model. Clients that are not browsers send no `Origin`.
"""
from typing import Iterable, Optional
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

ANY_HOST = "*"


class HostAndOriginCheck:
    """ASGI middleware refusing (403) requests whose `Host` is not allowed or whose `Origin` is
    another site than the `Host` they name.

    # Parameters

    app : `ASGIApp`
        The application behind the check.
    allowed_hosts : `Iterable[str]`
        Host names (or IP addresses) a request's `Host` may name, without port; `*` allows any.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host.lower().strip("[]") for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await JSONResponse({"detail": refusal}, status_code=403)(scope, receive, send)

    def refusal(self, scope: Scope) -> Optional[str]:
        """Why the request is refused, or None."""
        headers = {name: value.decode("latin-1") for name, value in scope["headers"]}
        host = headers.get(b"host", "").lower()
        name = _host_name(host)
        if ANY_HOST not in self.allowed_hosts and name not in self.allowed_hosts:
            return (f"the Host {host!r} is not one this server answers to (it allows "
                    f"{', '.join(sorted(self.allowed_hosts))}; see sinet-serve --allowed-hosts)")
        origin = headers.get(b"origin")
        if origin is not None and urlsplit(origin.lower()).netloc != host:
            return f"requests from the web page of {origin!r} are refused: only this server's own page may call it"
        return None


def _host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '::1'; '' for a missing or malformed Host."""
    try:
        return urlsplit(f"//{host}").hostname or ""
    except ValueError:  # e.g. an unclosed '['
        return ""
