"""Where hub events may go. A callback must be https (plain http only where the operator
allows it), carry no credentials, not be this server, and every address its host resolves
to must be public unless the operator's allow-list names the host or a network holding it.
The same check runs at registration and again at each delivery, whose connection goes to
the address that was checked (a name that resolves elsewhere a second later is not asked
again)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

__all__ = [
    "Destination",
    "DestinationPolicy",
    "Refused",
    "Resolver",
    "SystemResolver",
    "not_public",
    "own_addresses",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Why an address is not public, most specific first.
_KINDS = (
    ("unspecified", "is_unspecified"),
    ("loopback", "is_loopback"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("private", "is_private"),
    ("reserved", "is_reserved"),
)


class Resolver(Protocol):
    """Names to addresses (the system's DNS; tests give names addresses of their own)."""

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of `host`; raises OSError when it has none."""
        ...


class SystemResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Refused(Exception):
    """A callback events may not go to, and why."""

    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Destination:
    """Where to connect (the checked address) and the name the request is for."""

    url: httpx.URL
    host: str | None  # the name for the Host header and TLS; None when the URL named an address
    host_header: str


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


def not_public(address: Address) -> str | None:
    """Why an address is no place for events ("loopback", ...), None when it is public."""
    for kind, attribute in _KINDS:
        if getattr(address, attribute):
            return kind
    return None if address.is_global else "non-public"


@dataclass(frozen=True)
class DestinationPolicy:
    """The rules of `panther.adapters.outbound` with the operator's settings: whether plain
    http is allowed, the allow-list (host names and networks) and this server's own
    addresses (host, port)."""

    allow_http: bool = False
    allowed: tuple[str, ...] = ()
    own: tuple[tuple[str, int], ...] = ()
    _names: frozenset[str] = field(init=False, repr=False)
    _networks: tuple[Network, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names, networks = set(), []
        for entry in self.allowed:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_networks", tuple(networks))

    def refusal(self, callback: str, resolver: Resolver) -> str | None:
        """Why events may not go to `callback` (None: they may). A name that does not
        resolve now is let through: nothing is sent before a delivery resolves it again."""
        try:
            self.destination(callback, resolver)
        except Refused as exc:
            return exc.reason
        except OSError:
            return None
        return None

    def destination(self, url: str, resolver: Resolver) -> Destination:
        """Where to deliver to `url`; raises `Refused`, or OSError when the name has no
        address now."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise Refused(f"not a URL: {exc}") from None
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parsed.scheme not in schemes:
            raise Refused(f"the callback must be an {' or '.join(schemes)} URL")
        if parsed.userinfo:
            raise Refused("the callback must not carry credentials (user:password@)")
        host = parsed.host.lower().rstrip(".")
        if not host:
            raise Refused("the callback names no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = _address(host)
        if (host, port) in self.own or (literal is not None and (str(literal), port) in self.own):
            raise Refused("the callback is this server")
        addresses = [literal] if literal is not None else self._resolve(host, port, resolver)
        for address in addresses:
            self._check(host, port, address)
        chosen = str(addresses[0])
        return Destination(
            url=parsed.copy_with(host=chosen),
            host=None if literal is not None else parsed.host,
            host_header=parsed.netloc.decode("ascii"),
        )

    @staticmethod
    def _resolve(host: str, port: int, resolver: Resolver) -> list[Address]:
        found = [_address(a) for a in resolver.resolve(host, port)]
        addresses = [a for a in found if a is not None]
        if not addresses:
            raise OSError(f"{host} has no address")
        return addresses

    def _check(self, host: str, port: int, address: Address) -> None:
        if (str(address), port) in self.own:
            raise Refused(f"the callback is this server ({host} is {address})")
        if host in self._names or any(address in n for n in self._networks):
            return
        kind = not_public(address)
        if kind is not None:
            article = "an" if kind[0] in "aeiou" else "a"
            shown = f"{host} is" if str(address) == host else f"{host} resolves to {address},"
            raise Refused(f"{shown} {article} {kind} address; callbacks must be public")


def own_addresses(hosts: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """The (host, port) pairs that are this server, normalised as `destination` compares
    them; a server listening on every interface is also its loopback names."""
    out: list[tuple[str, int]] = []
    for host, port in hosts:
        name = host.lower().strip("[]").rstrip(".")
        literal = _address(name)
        out.append((str(literal) if literal is not None else name, port))
        if literal is not None and (literal.is_unspecified or literal.is_loopback):
            out += [("localhost", port), ("127.0.0.1", port), ("::1", port)]
    return tuple(dict.fromkeys(out))
