"""Where hub events may go (the destination policy), how a delivery connects, and the rate
limits' answers; no server, no database."""

from __future__ import annotations

import httpx
import pytest

from panther.adapters.outbound import DestinationPolicy, Refused, own_addresses
from panther.adapters.rate_limits import RateLimits
from panther.adapters.webhooks import WebhookDispatcher


class Names:
    """DNS as the test says; a name it does not know has no address."""

    def __init__(self, **names: list[str]) -> None:
        self.names = {k.replace("_", "."): v for k, v in names.items()}

    def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.names:
            raise OSError(f"{host}: no address")
        return self.names[host]


DNS = Names(
    hooks_partner_net=["93.184.215.14"],
    v6_partner_net=["2606:2800:220:1::1"],
    intranet_partner_net=["10.9.8.7"],
    metadata_partner_net=["169.254.169.254"],
    mapped_partner_net=["::ffff:10.0.0.1"],
    mixed_partner_net=["93.184.215.14", "127.0.0.1"],
)
HTTP = DestinationPolicy(allow_http=True)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.partner.net/cb", "must be an https URL"),
        ("ftp://hooks.partner.net/cb", "must be an https URL"),
        ("https://a:b@hooks.partner.net/cb", "credentials"),
        ("https://intranet.partner.net/cb", "resolves to 10.9.8.7, a private address"),
        ("https://metadata.partner.net/cb", "169.254.169.254, a link-local address"),
        ("https://mapped.partner.net/cb", "10.0.0.1, a private address"),
        ("https://mixed.partner.net/cb", "127.0.0.1, a loopback address"),
        ("https://[fe80::1]/cb", "fe80::1 is a link-local address"),
        ("https://[ff02::1]/cb", "a multicast address"),
        ("https://0.0.0.0/cb", "0.0.0.0 is an unspecified address"),
        ("https://240.0.0.1/cb", "240.0.0.1 is a private address"),
    ],
)
def test_refused(url: str, why: str) -> None:
    reason = DestinationPolicy().refusal(url, DNS)
    assert reason is not None and why in reason
    with pytest.raises(Refused, match=why):
        DestinationPolicy().destination(url, DNS)


def test_public_names_and_addresses_pass_and_unknown_names_wait_for_delivery() -> None:
    policy = DestinationPolicy()
    for url in ("https://hooks.partner.net/cb", "https://v6.partner.net/cb", "https://8.8.8.8/x"):
        assert policy.refusal(url, DNS) is None
    assert policy.refusal("https://unknown.partner.net/cb", DNS) is None
    with pytest.raises(OSError):
        policy.destination("https://unknown.partner.net/cb", DNS)


def test_allow_list_names_hosts_and_networks() -> None:
    policy = DestinationPolicy(allowed=("intranet.partner.net", "127.0.0.0/8", "fd00::/8"))
    assert policy.refusal("https://intranet.partner.net/cb", DNS) is None
    assert policy.refusal("https://127.0.0.2:9000/cb", DNS) is None
    assert policy.refusal("https://[fd00::5]/cb", DNS) is None
    assert policy.refusal("https://metadata.partner.net/cb", DNS) is not None


def test_this_server_is_refused_by_name_and_by_address() -> None:
    own = own_addresses([("0.0.0.0", 8080), ("Panther.Example.NET", 443)])
    policy = DestinationPolicy(allow_http=True, allowed=("127.0.0.0/8",), own=own)
    for url in (
        "https://panther.example.net/x",
        "https://panther.example.net./x",
        "http://localhost:8080/x",
        "http://127.0.0.1:8080/x",
        "http://[::1]:8080/x",
        "http://[::ffff:127.0.0.1]:8080/x",
    ):
        assert policy.refusal(url, DNS) == "the callback is this server", url
    assert policy.refusal("http://127.0.0.1:8081/x", DNS) is None


def test_delivery_connects_to_the_checked_address_and_follows_no_redirect() -> None:
    seen: list[httpx.Request] = []

    def far_side(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(307, headers={"Location": "http://169.254.169.254/latest"})

    client = httpx.Client(transport=httpx.MockTransport(far_side))
    dispatcher = WebhookDispatcher(client, resolver=DNS)
    dispatcher.publish("https://hooks.partner.net:8443/cb", "E", {"n": 1})
    dispatcher.publish("https://v6.partner.net/cb", "E", {"n": 2})
    dispatcher.publish("https://intranet.partner.net/cb", "E", {"n": 3})
    dispatcher.drain()
    assert [(str(r.url), r.headers["Host"]) for r in seen] == [
        ("https://93.184.215.14:8443/cb/listener/E", "hooks.partner.net:8443"),
        ("https://[2606:2800:220:1::1]/cb/listener/E", "v6.partner.net"),
    ]
    assert seen[0].extensions["sni_hostname"] == "hooks.partner.net"


def test_rate_limits_count_and_say_how_long_to_wait() -> None:
    limits = RateLimits()
    assert [limits.hit("2/minute", "a") for _ in range(2)] == [None, None]
    wait = limits.hit("2/minute", "a")
    assert wait is not None and 1 <= wait <= 60
    assert limits.exhausted("2/minute", "a") == wait
    assert limits.exhausted("2/minute", "b") is None  # another key
    assert limits.exhausted("5/minute", "b") is None
    assert limits.hit("2/minute", "b") is None  # counting nothing left b untouched
