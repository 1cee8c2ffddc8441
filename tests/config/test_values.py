"""Value syntaxes the config accepts (homelab/config/syntax.py), as the tools that read them do."""

from __future__ import annotations

import pytest

from homelab.config import credentials
from homelab.config import syntax as values


def test_an_invalid_interface_regex_is_refused_with_re2s_reason_and_nothing_on_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """RE2 would also log the error itself; the user sees it once, in the refusal."""
    with pytest.raises(ValueError) as err:
        values.interface_regex("(?=eth)")
    assert str(err.value) == "'(?=eth)' is not a valid Go (RE2) regular expression: invalid perl operator: (?="
    assert capfd.readouterr() == ("", "")


def test_a_valid_interface_regex_is_kept_as_written() -> None:
    assert values.interface_regex("^(eth|enp)[0-9]+$") == "^(eth|enp)[0-9]+$"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15s", 15.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        (".5s", 0.5),
        ("2.s", 2.0),
        ("100ms", 0.1),
        ("10us", 10e-6),
        ("10µs", 10e-6),
        ("7ns", 7e-9),
        ("1h2m3s", 3723.0),
        ("", None),
        ("15", None),
        ("-5s", None),
        ("5d", None),
        ("1m x", None),
    ],
)
def test_go_durations_read_as_go_does(text: str, seconds: float | None) -> None:
    assert values.go_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512", 512),
        ("64Ki", 65536),
        ("128Mi", 134217728),
        ("2Gi", 2147483648),
        ("1Ti", 1099511627776),
        ("5k", 5000),
        ("3M", 3000000),
        ("2G", 2000000000),
        ("1T", 1000000000000),
        ("100m", None),
        ("1.5Gi", None),
        ("Mi", None),
    ],
)
def test_memory_quantities_in_bytes(text: str, size: int | None) -> None:
    assert values.memory_bytes(text) == size


@pytest.mark.parametrize(
    ("host", "domain", "below"),
    [
        ("app.example.com", "example.com", True),
        ("a.b.example.com", "example.com", False),
        ("example.com", "example.com", False),
        (".example.com", "example.com", False),
        ("app.example.org", "example.com", False),
        ("App.example.com", "example.com", False),
        ("appexample.com", "example.com", False),
    ],
)
def test_one_label_below_the_domain(host: str, domain: str, below: bool) -> None:
    assert values.is_one_below(host, domain) is below


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("example.com", True),
        ("a-b.example.com", True),
        ("example", False),
        ("-a.example.com", False),
        ("a-.example.com", False),
        ("example.c0m", True),
        ("example.0com", False),
        ("Example.com", False),
        (f"{'a' * 63}.com", True),
        (f"{'a' * 64}.com", False),
        (".".join(["a" * 63] * 3) + "." + "a" * 57 + ".com", True),  # 253 characters: the longest
        (".".join(["a" * 63] * 3) + "." + "a" * 58 + ".com", False),  # 254
    ],
)
def test_dns_names(name: str, ok: bool) -> None:
    assert values.is_dns_name(name) is ok


@pytest.mark.parametrize(
    ("value", "credential"),
    [
        ("Ab3dEf6hIj9kLm2nOp5qRs8tUvWx", True),  # 28 mixed token characters
        ("Ab3dEf6hIj9kLm2nOp5qRs8t", True),  # 24: the shortest
        ("Ab3dEf6hIj9kLm2nOp5qRs8", False),  # 23
        ("ab3def6hij9klm2nop5qrs8tuvwx", False),  # no upper case
        ("AB3DEF6HIJ9KLM2NOP5QRS8TUVWX", False),  # no lower case
        ("AbcdEfghIjklMnopQrstUvwx", False),  # no digit
        ("0123456789abcdef0123456789abcdef01234", True),  # 37 hex digits: a global API key
        ("0123456789abcdef0123456789abcdef0123", False),  # 36
        ("0123456789abcdef0123456789abcdef", False),  # a Cloudflare id
        ("kubernetes-admin-main-2024", False),
    ],
)
def test_what_looks_like_a_credential(value: str, credential: bool) -> None:
    assert credentials.looks_like_credential(value) is credential


def test_addresses_and_networks_say_what_is_wrong() -> None:
    with pytest.raises(ValueError) as err:
        values._ipv4("10.0.0.256")
    assert str(err.value) == "not an IPv4 address: Octet 256 (> 255) not permitted in '10.0.0.256'"
    with pytest.raises(ValueError) as err:
        values._ipv4_net("10.0.0.1/24")
    assert str(err.value) == "not an IPv4 CIDR: 10.0.0.1/24 has host bits set"
    assert str(values._ipv4("10.0.0.1")) == "10.0.0.1"
    assert str(values._ipv4_net("10.0.0.0/24")) == "10.0.0.0/24"


def test_below_is_strictly_below() -> None:
    assert values.is_below("lab.example.com", "example.com")
    assert not values.is_below("example.com", "example.com")
    assert not values.is_below("labexample.com", "example.com")


TOKEN = "Xq7vR2mN9pL4kT8wZ3yB6cD1fG5hJ0sA-uE_iO2r"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"admin Bearer {TOKEN}", {TOKEN}),
        ("x Basic dXNlcjpwYXNz", {"dXNlcjpwYXNz"}),
        (f"https://example.com/?key={TOKEN}&x=1", {TOKEN}),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}),
        ("key 0123456789abcdef0123456789abcdef01234 end", {"0123456789abcdef0123456789abcdef01234"}),
        # found by `make fuzz`: the plan's own output masked a kind name (CamelCase with a version)
        ("kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy  cilium-l2-policy", set()),
        ("apiextensions.k8s.io/v1/CustomResourceDefinition", set()),
        ("sha256:" + "ab" * 32, set()),  # digests and commit ids stay readable
        ("commit 0123456789abcdef0123456789abcdef01234567", set()),
        ("kubernetes-admin-main-2024", set()),
        # found by review: a URL's password, short or not token-like, is a credential too
        ("proxy: https://homelab:hunter2@proxy.lan:3128/", {"hunter2"}),
        ("see https://example.com/a:b@c and mailto:x@example.com", set()),
        # found by review: English after the scheme words, in the CRDs' descriptions
        ("HTTP Basic authentication with Basic constraints", set()),
        # a 40-character token with fewer than 3 digits (about 4% of random ones)
        ("x AbcdEfghIjklMnopQrstUvwxYzabCdefGhijKl1z y", {"AbcdEfghIjklMnopQrstUvwxYzabCdefGhijKl1z"}),
    ],
)
def test_what_is_found_as_a_credential_inside_text(text: str, found: set[str]) -> None:
    assert credentials.credentials_in(text) == found
