"""API key permissions and trusted IPs (gateway.keyrules): pure rules, no I/O."""

import pytest

from exchange_core.errors import ApiError
from gateway.grpcapi.signing import peer_ip
from gateway.keyrules import (
    MAX_ALLOWED_IPS,
    ApiKeyGrant,
    check_key_use,
    ip_allowed,
    normalize_ip,
    parse_allowed_ips,
)


def test_addresses_are_normalized() -> None:
    assert normalize_ip(" 203.0.113.7 ") == "203.0.113.7"
    assert normalize_ip("2001:DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert normalize_ip("::ffff:198.51.100.2") == "198.51.100.2"  # IPv4-mapped: the IPv4 address
    assert normalize_ip("::1") == "::1"


@pytest.mark.parametrize(
    "bad", ["", "1.2.3", "256.1.1.1", "1.2.3.4/32", "10.0.0.0/8", "example.com", "fe80::1%eth0", "1.2.3.4 5"]
)
def test_anything_but_one_address_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_ip(bad)
    with pytest.raises(ApiError) as refused:
        parse_allowed_ips(["127.0.0.1", bad])
    assert refused.value.code == -1130 and refused.value.status == 400
    assert f"'{bad}'" in refused.value.msg


def test_the_message_can_always_be_sent_as_json() -> None:
    with pytest.raises(ApiError) as refused:
        parse_allowed_ips(["1.2.3.\ud800" + "9" * 100])
    assert refused.value.msg == "Invalid IP address: '1.2.3.?" + "9" * 57 + "…'."
    refused.value.msg.encode()  # no lone surrogate left to fail the JSON answer


def test_the_list_keeps_its_order_without_duplicates_up_to_the_limit() -> None:
    assert parse_allowed_ips(["10.0.0.2", "::1", "10.0.0.2", "0:0:0:0:0:0:0:1"]) == ["10.0.0.2", "::1"]
    assert parse_allowed_ips([]) == []
    many = [f"10.0.0.{i}" for i in range(MAX_ALLOWED_IPS + 1)]
    assert len(parse_allowed_ips(many[:-1])) == MAX_ALLOWED_IPS
    with pytest.raises(ApiError) as refused:
        parse_allowed_ips(many)
    assert refused.value.code == -1130 and "At most 30" in refused.value.msg


def test_an_empty_list_trusts_every_ip_and_a_list_only_its_own() -> None:
    assert ip_allowed(frozenset(), None) and ip_allowed(frozenset(), "203.0.113.7")
    allowed = frozenset({"203.0.113.7", "2001:db8::1"})
    assert ip_allowed(allowed, "203.0.113.7")
    assert ip_allowed(allowed, "::ffff:203.0.113.7")  # a dual-stack socket's view of the same client
    assert ip_allowed(allowed, "2001:0db8::0001")
    assert not ip_allowed(allowed, "203.0.113.8")
    assert not ip_allowed(allowed, None)  # an unknown peer is not trusted
    assert not ip_allowed(allowed, "testclient")  # a peer that is not an address


def test_check_key_use_refuses_with_binance_2015() -> None:
    read_only = ApiKeyGrant(1, b"s", can_trade=False, allowed_ips=frozenset())
    trader = ApiKeyGrant(1, b"s", can_trade=True, allowed_ips=frozenset({"127.0.0.1"}))
    check_key_use(read_only, "10.1.1.1", trading=False)
    check_key_use(trader, "127.0.0.1", trading=True)
    for grant, ip, trading in [(read_only, "127.0.0.1", True), (trader, "10.1.1.1", False)]:
        with pytest.raises(ApiError) as refused:
            check_key_use(grant, ip, trading)
        assert refused.value.status == 401
        assert refused.value.body() == {
            "code": -2015,
            "msg": "Invalid API-key, IP, or permissions for action.",
        }


def test_the_ip_of_a_grpc_peer() -> None:
    assert peer_ip("ipv4:127.0.0.1:50432") == "127.0.0.1"
    assert peer_ip("ipv6:[::1]:50432") == "::1"
    assert peer_ip("ipv6:[2001:db8::7]:1") == "2001:db8::7"
    assert peer_ip("unix:/tmp/grpc.sock") is None and peer_ip(None) is None and peer_ip("") is None
