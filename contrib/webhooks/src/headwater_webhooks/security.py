"""Outbound requests that cannot be turned against the server's own network (SSRF).

Rules (configuration in :class:`NetworkPolicy`):

- the URL's scheme must be allowed (default ``http`` and ``https``);
- loopback, private, link-local, multicast, reserved and unspecified
  addresses are refused unless ``HEADWATER_WEBHOOK_ALLOW_PRIVATE_IPS=true`` or
  the address is inside ``HEADWATER_WEBHOOK_ALLOWED_NETWORKS`` (CIDRs);
- a URL is checked when a webhook is saved (every address its host resolves
  to), and again on the address each connection is actually made to, after
  DNS: a name that resolved to a public address at creation and to
  127.0.0.1 later (DNS rebinding) is refused before a byte is sent;
- proxy environment variables are ignored and redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from headwater.exceptions import HeadwaterError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """A connection to an address the policy forbids; nothing was sent."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class NetworkPolicy:
    allowed_schemes: frozenset[str] = frozenset({"http", "https"})
    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "NetworkPolicy":
        env = os.environ if environ is None else environ
        schemes = env.get("HEADWATER_WEBHOOK_ALLOWED_SCHEMES") or env.get("MLFLOW_WEBHOOK_ALLOWED_SCHEMES")
        networks = env.get("HEADWATER_WEBHOOK_ALLOWED_NETWORKS", "")
        return cls(
            allowed_schemes=frozenset(s.strip().lower() for s in schemes.split(",") if s.strip())
            if schemes else cls.allowed_schemes,
            allow_private=_truthy(env.get("HEADWATER_WEBHOOK_ALLOW_PRIVATE_IPS")
                                  or env.get("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS")),
            allowed_networks=tuple(ipaddress.ip_network(n.strip(), strict=False)
                                   for n in networks.split(",") if n.strip()),
        )

    def refusal(self, ip: str) -> str | None:
        """Why connecting to ``ip`` is refused, or None if it is allowed."""
        address: Address = ipaddress.ip_address(ip.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if self.allow_private or any(address in net for net in self.allowed_networks):
            return None
        for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
            if getattr(address, f"is_{kind}"):
                return f"{address} is a {kind.replace('_', '-')} address"
        return None

    def check_url(self, url: str) -> None:
        """Refuse (INVALID_PARAMETER_VALUE) a URL that is not allowed or resolves to a forbidden address."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in self.allowed_schemes:
            raise HeadwaterError.invalid(
                f"Invalid webhook URL '{url}': the scheme must be one of {sorted(self.allowed_schemes)}.")
        host = parts.hostname
        if not host:
            raise HeadwaterError.invalid(f"Invalid webhook URL '{url}': it has no host.")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, ValueError) as exc:
            raise HeadwaterError.invalid(f"Invalid webhook URL '{url}': its host does not resolve ({exc}).")
        for info in infos:
            why = self.refusal(str(info[4][0]))
            if why:
                raise HeadwaterError.invalid(
                    f"Invalid webhook URL '{url}': {host} resolves to a disallowed address ({why}). Private,"
                    " loopback and link-local targets need HEADWATER_WEBHOOK_ALLOW_PRIVATE_IPS=true or"
                    " HEADWATER_WEBHOOK_ALLOWED_NETWORKS.")


def _guarded(connection_class: type, policy: NetworkPolicy) -> type:
    class Guarded(connection_class):  # type: ignore[misc, valid-type]
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            why = policy.refusal(peer)
            if why:
                sock.close()
                raise AddressRefused(f"refused to connect to {self.host}: {why}")
            return sock

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: NetworkPolicy, **kwargs: Any):
        self._policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": _guarded(HTTPConnection, self._policy)})
        https = type("GuardedHTTPSPool", (HTTPSConnectionPool,),
                     {"ConnectionCls": _guarded(HTTPSConnection, self._policy)})
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}


def guarded_session(policy: NetworkPolicy) -> requests.Session:
    """A session whose every connection is checked against ``policy`` after DNS, without proxies."""
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment
    adapter = _GuardedAdapter(policy, max_retries=0, pool_maxsize=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
