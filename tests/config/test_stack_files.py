"""Reading one stack file (homelab/config/reader.py): what a hand-edited file can get wrong,
each named with the file and the line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError

from homelab.config import reader as stack_files
from homelab.config.cluster import OWNER_ID
from homelab.config.reader import StackFileError, read_stack_file
from homelab.config.yaml_text import yaml_problem


def read(tmp_path: Path, content: str | bytes) -> dict[str, object]:
    path = tmp_path / "Pulumi.lab.yaml"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return read_stack_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('"config"\n', "Pulumi.lab.yaml:1: the top level is a string; "),
        ("\n\ntrue\n", "Pulumi.lab.yaml:3: the top level is a boolean; "),
        ("3\n", "Pulumi.lab.yaml:1: the top level is a number; "),
        ("1.5\n", "Pulumi.lab.yaml:1: the top level is a number; "),
        ("2024-01-01\n", "Pulumi.lab.yaml:1: the top level is a date; "),
        ("- config\n", "Pulumi.lab.yaml:1: the top level is a list; "),
    ],
    ids=["string", "boolean", "int", "float", "date", "list"],
)
def test_a_top_level_that_is_not_a_mapping_is_named_by_its_kind(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, content)
    assert str(err.value) == message + "a stack file is a mapping with a `config:` mapping in it"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("encryptionsalt: x\nconfig: true\n", "Pulumi.lab.yaml:2: `config:` is a boolean;"),
        ("config:\n  - a\n", "Pulumi.lab.yaml:2: `config:` is a list;"),
        ("config: 0.5\n", "Pulumi.lab.yaml:1: `config:` is a number;"),
    ],
)
def test_a_config_that_is_not_a_mapping_is_named_by_its_kind(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, content)
    assert str(err.value) == message + " it must be a mapping of config keys"


def test_a_control_character_is_refused_with_its_line(tmp_path: Path) -> None:
    """The YAML reader refuses it before parsing; that used to end in a traceback."""
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:a: 1\n  homelab:b: x\x07\n")
    assert str(err.value) == "Pulumi.lab.yaml:3: a character YAML does not allow (#x0007): remove it"


def test_a_byte_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, b"\nconfig:\n  homelab:a: \xff\n  homelab:b: 1\n  homelab:c: 2\n  homelab:d: 3\n")
    assert str(err.value) == "Pulumi.lab.yaml:3: not UTF-8 text (byte 0xff); save the file as UTF-8"


def test_tab_indentation_gets_the_hint(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n\thomelab:a: 1\n")
    assert str(err.value) == "Pulumi.lab.yaml:2: tab character in column 1: YAML indents and separates with spaces only"


def test_a_tab_inside_a_value_gets_no_tab_hint_for_another_error(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, 'config:\n  homelab:a: "x\ty"\n  homelab:b: [\n')
    assert str(err.value) == (
        "Pulumi.lab.yaml:4: not valid YAML: expected the node content, but found '<stream end>' "
        "(while parsing a flow node)"
    )


def test_a_yaml_error_without_a_position_or_problem_still_reads() -> None:
    """ruamel's loaders always give both; the message must not depend on it."""
    assert yaml_problem("", YAMLError("no position")) == (1, "not valid YAML: no position")
    at_line_3 = StreamMark("Pulumi.lab.yaml", 20, 2, 0)
    assert yaml_problem("", MarkedYAMLError(problem_mark=at_line_3)) == (3, "not valid YAML")
    assert yaml_problem("", MarkedYAMLError(problem="broken")) == (1, "not valid YAML: broken")


@pytest.mark.parametrize(("content", "config"), [("", {}), ("# nothing yet\n", {}), ("config:\n", {})])
def test_an_empty_file_or_config_has_no_keys(tmp_path: Path, content: str, config: dict[str, object]) -> None:
    assert read(tmp_path, content) == config


def test_keys_without_a_namespace_belong_to_the_project(tmp_path: Path) -> None:
    assert read(tmp_path, "config:\n  cloudflareApiToken: x\n  cloudflare:apiToken: z\n") == {
        "homelab:cloudflareApiToken": "x",
        "cloudflare:apiToken": "z",
    }


def test_an_alias_inside_the_node_it_names_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:apps: &apps\n    - *apps\n")
    assert str(err.value) == "Pulumi.lab.yaml:2: a YAML alias refers to the node that contains it"  # the anchor


def test_a_null_document_has_no_keys(tmp_path: Path) -> None:
    assert read(tmp_path, "~\n") == {}


def test_merge_keys_work_and_may_be_overridden(tmp_path: Path) -> None:
    content = "base: &base {homelab:a: 1, homelab:b: 2}\nconfig:\n  <<: *base\n  homelab:b: 3\n"
    assert read(tmp_path, content) == {"homelab:a": 1, "homelab:b": 3}


def test_a_config_merged_in_is_named_at_the_top(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "<<: {config: 3}\n")
    assert str(err.value) == "Pulumi.lab.yaml:1: `config:` is a number; it must be a mapping of config keys"


def test_a_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.lab.yaml").symlink_to(tmp_path / "Pulumi.loop.yaml")
    (tmp_path / "Pulumi.loop.yaml").symlink_to(tmp_path / "Pulumi.lab.yaml")
    with pytest.raises(StackFileError) as err:
        read_stack_file(tmp_path / "Pulumi.lab.yaml")
    assert str(err.value) == "Pulumi.lab.yaml: cannot read it: Too many levels of symbolic links"


def test_an_alias_cycle_through_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  ? &k [*k]\n  : 1\n")
    assert str(err.value) == "Pulumi.lab.yaml:2: a YAML alias refers to the node that contains it"


def test_an_alias_bomb_is_refused_in_linear_time(tmp_path: Path) -> None:
    """Each level names the one below twice: 2**22 paths, 23 nodes. Nodes are counted once, and
    the first level past 100,000 values is named (level i holds 3 x 2**i - 1: level 16, 196,607)."""
    levels = ["  l0: &l0 [x]"] + [f"  l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, 23)]
    start = time.monotonic()
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n" + "\n".join(levels) + "\n")
    assert time.monotonic() - start < 1.0
    assert str(err.value) == (
        "Pulumi.lab.yaml:18: YAML aliases expand this value to over 100,000 values (a stack file holds a few "
        "hundred): write the values out, or name fewer aliases"
    )


def test_aliases_that_expand_within_the_bound_are_read(tmp_path: Path) -> None:
    levels = ["  l0: &l0 [x]"] + [f"  l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, 10)]
    config = read(tmp_path, "config:\n" + "\n".join(levels) + "\n")
    assert config["homelab:l1"] == [["x"], ["x"]] and len(config) == 10


@pytest.mark.parametrize(("name", "ok"), [("lab", True), ("lab-2.b_c", True), (".", False), ("..", False)])
def test_stack_names_follow_pulumi_and_are_never_dot_paths(name: str, ok: bool) -> None:
    assert stack_files.is_stack_name(name) is ok


def test_stack_files_are_the_readable_pulumi_stack_files_in_name_order(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.main.yaml", "Pulumi.a b.yaml", "Pulumi...yaml"):
        (tmp_path / name).write_text("config: {}\n")
    (tmp_path / "Pulumi.lab.yaml").mkdir()
    assert stack_files.stack_files(tmp_path) == {
        "main": tmp_path / "Pulumi.main.yaml",
        "staging": tmp_path / "Pulumi.staging.yaml",
    }


def test_keys_after_a_merge_are_still_checked_for_duplicates(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "base: &base {homelab:a: 1}\nconfig:\n  <<: *base\n  homelab:b: 3\n  homelab:b: 4\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:5: duplicate key `homelab:b` (lines 4 and 5): YAML readers keep only the last, silently; "
        "keep one"
    )


def test_keys_after_an_unhashable_key_are_still_checked_for_duplicates(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "? [a]\n: 1\nconfig:\n  homelab:x: 1\n  homelab:x: 2\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:5: duplicate key `homelab:x` (lines 4 and 5): YAML readers keep only the last, silently; "
        "keep one"
    )


NUMBER_FIX = "write the decimal number you mean (no leading zero, prefix, `_`, `:` or exponent), or quote it for text"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("010", f"`010` is not a plain decimal number (YAML 1.1 reads 8, the Pulumi CLI may not); {NUMBER_FIX}"),
        (
            "0x1923",
            f"`0x1923` is not a plain decimal number (YAML 1.1 reads 6435, the Pulumi CLI may not); {NUMBER_FIX}",
        ),
        ("0b11", f"`0b11` is not a plain decimal number (YAML 1.1 reads 3, the Pulumi CLI may not); {NUMBER_FIX}"),
        ("1_000", f"`1_000` is not a plain decimal number (YAML 1.1 reads 1000, the Pulumi CLI may not); {NUMBER_FIX}"),
        (
            "1:47:23",
            f"`1:47:23` is not a plain decimal number (YAML 1.1 reads 6443, the Pulumi CLI may not); {NUMBER_FIX}",
        ),
        ("0o10", f"`0o10` is text to YAML 1.1 but a number to the Pulumi CLI; {NUMBER_FIX}"),
        ("1e3", f"`1e3` is text to YAML 1.1 but a number to the Pulumi CLI; {NUMBER_FIX}"),
        ("1.0", f"`1.0` is read as a different number by the Pulumi CLI; {NUMBER_FIX}"),
        ("2.5e1", f"`2.5e1` is text to YAML 1.1 but a number to the Pulumi CLI; {NUMBER_FIX}"),
        ("2.5e+1", f"`2.5e+1` is read as a different number by the Pulumi CLI; {NUMBER_FIX}"),
        (".inf", '`.inf` stops the Pulumi CLI from loading the stack file; quote it (".inf") or remove it'),
        ("-.Inf", '`-.Inf` stops the Pulumi CLI from loading the stack file; quote it ("-.Inf") or remove it'),
        (".NaN", '`.NaN` stops the Pulumi CLI from loading the stack file; quote it (".NaN") or remove it'),
        ("yes", '`yes` is a boolean to YAML 1.1 but text to the Pulumi CLI; write true or false, or quote it ("yes")'),
        ("y", '`y` is a boolean to YAML 1.1 but text to the Pulumi CLI; write true or false, or quote it ("y")'),
        ("0X1F", f"`0X1F` is text to YAML 1.1 but a number to the Pulumi CLI; {NUMBER_FIX}"),
        ("0B1", f"`0B1` is text to YAML 1.1 but a number to the Pulumi CLI; {NUMBER_FIX}"),
        ("Off", '`Off` is a boolean to YAML 1.1 but text to the Pulumi CLI; write true or false, or quote it ("Off")'),
        (
            "2026-01-01",
            '`2026-01-01` is a date to YAML readers, each writing it back its own way; quote it ("2026-01-01")',
        ),
        (
            "!!binary aGVsbG8=",
            "the tag !!binary is read differently by the Pulumi CLI; write the value without it (only !!str is safe)",
        ),
        (
            "!!int '3'",
            "the tag !!int is read differently by the Pulumi CLI; write the value without it (only !!str is safe)",
        ),
        ("!!set {a, b}", "the tag !!set is read differently by the Pulumi CLI; write a plain mapping"),
        ("!!omap [a: 1]", "the tag !!omap is read differently by the Pulumi CLI; write a plain list"),
    ],
)
def test_a_value_the_cli_reads_otherwise_is_refused(tmp_path: Path, value: str, why: str) -> None:
    """The CLI reads stack files with yaml.v3, the plan with ruamel (YAML 1.2), many tools with
    YAML 1.1: a value whose meaning depends on the reader is refused with its line, its key and
    the fix."""
    with pytest.raises(StackFileError) as err:
        read(tmp_path, f"config:\n  homelab:cluster:\n    name: lab\n    clusterId: {value}\n")
    assert str(err.value) == f"Pulumi.lab.yaml:4: homelab:cluster.clusterId: {why}"


def test_reader_traps_are_found_in_lists_nested_keys_and_top_level_values(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:apps:\n    - name: a\n      ports: [80, 0443]\n")
    assert str(err.value) == (
        f"Pulumi.lab.yaml:4: homelab:apps[0].ports[1]: `0443` is not a plain decimal number (YAML 1.1 reads 291, "
        f"the Pulumi CLI may not); {NUMBER_FIX}"
    )
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:promotion:\n    on: true\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:3: homelab:promotion.on: `on` is a boolean to YAML 1.1 but text to the Pulumi CLI; "
        'write true or false, or quote it ("on")'
    )
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:flag: no\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:2: homelab:flag: `no` is a boolean to YAML 1.1 but text to the Pulumi CLI; "
        'write true or false, or quote it ("no")'
    )


@pytest.mark.parametrize(
    ("value", "read_as"),
    [
        ("'010'", "010"),
        ('"yes"', "yes"),
        ("!!str 1:47:23", "1:47:23"),
        ("10", 10),
        ("-3", -3),
        ("+3", 3),
        ("1.5", 1.5),
        ("true", True),
        ("False", False),
        ("'2026-01-01'", "2026-01-01"),
    ],
)
def test_values_every_reader_agrees_on_are_read(tmp_path: Path, value: str, read_as: object) -> None:
    assert read(tmp_path, f"config:\n  homelab:x:\n    v: {value}\n") == {"homelab:x": {"v": read_as}}


#: Shapes of what `pulumi config set --secret` writes (made-up bytes, not anyone's secret).
V1 = "v1:AAECAwQFBgcICQoL:c2VjcmV0LWJ5dGVzLW9mLWEtdG9rZW4tLS0tLS0="
V1_OTHER = "v1:CwoJCAcGBQQDAgEA:b3RoZXItc2VjcmV0LWJ5dGVzLW9mLWEtdG9rZW4="
CLOUD = "AAABAHZhdWx0OnYxOmNpcGhlcnRleHQtb2YtYS10b2tlbg=="
SET = "set it with `pulumi config set --secret homelab:cloudflareApiToken <value>`"


@pytest.mark.parametrize(
    ("secure", "line", "why"),
    [
        ("''", 3, f"`secure:` is empty (the CLI fails: bad value); {SET}"),
        (
            "{a: b}",
            3,
            f"a mapping under `secure:`: the Pulumi CLI hands this to the program as a plain object, not as a "
            f"secret; {SET}",
        ),
        (
            "[x]",
            3,
            f"a list under `secure:`: the Pulumi CLI hands this to the program as a plain object, not as a "
            f"secret; {SET}",
        ),
        (
            "12345",
            3,
            f"a non-text value under `secure:`: the Pulumi CLI hands this to the program as a plain object, not "
            f"as a secret; {SET}",
        ),
        (
            "my-cloudflare-token-in-plain-text",
            3,
            "`secure:` does not hold a value the CLI encrypted (`v1:<nonce>:<ciphertext>`, or base64 from Pulumi "
            f"Cloud), so it may be the secret itself in plain text; {SET}",
        ),
        (
            "v1:short:abc",
            3,
            "`secure:` does not hold a value the CLI encrypted (`v1:<nonce>:<ciphertext>`, or base64 from Pulumi "
            f"Cloud), so it may be the secret itself in plain text; {SET}",
        ),
    ],
    ids=["empty", "mapping", "list", "number", "plaintext", "malformed-v1"],
)
def test_a_secure_value_the_cli_cannot_use_is_refused(tmp_path: Path, secure: str, line: int, why: str) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, f"config:\n  homelab:cloudflareApiToken:\n    secure: {secure}\n")
    assert str(err.value) == f"Pulumi.lab.yaml:{line}: homelab:cloudflareApiToken: {why}"


def test_encrypted_values_in_the_shapes_the_cli_writes_are_read_as_they_are(tmp_path: Path) -> None:
    config = read(
        tmp_path,
        f"config:\n  homelab:cloudflareApiToken:\n    secure: {V1}\n"
        f"  homelab:cloudflareDnsApiToken:\n    secure: {CLOUD}\n"
        f"  homelab:other:\n    nested:\n      secure: {V1_OTHER}\n",
    )
    assert config == {
        "homelab:cloudflareApiToken": {"secure": V1},
        "homelab:cloudflareDnsApiToken": {"secure": CLOUD},
        "homelab:other": {"nested": {"secure": V1_OTHER}},
    }


def test_one_ciphertext_under_two_keys_is_one_secret_copied(tmp_path: Path) -> None:
    """The nonce is random: the CLI never writes the same text twice, so both tokens are one."""
    with pytest.raises(StackFileError) as err:
        read(
            tmp_path,
            f"config:\n  homelab:cloudflareApiToken:\n    secure: {V1}\n"
            f"  homelab:cloudflareDnsApiToken:\n    secure: {V1}\n",
        )
    assert str(err.value) == (
        "Pulumi.lab.yaml:5: homelab:cloudflareDnsApiToken: the same ciphertext as homelab:cloudflareApiToken: one "
        "secret copied under two keys (a value never encrypts twice to the same text); set it with `pulumi config "
        "set --secret homelab:cloudflareDnsApiToken <value>`"
    )


def test_a_nested_secure_value_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:cluster:\n    cloudflare:\n      accountId:\n        secure: ''\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:5: homelab:cluster.cloudflare.accountId: `secure:` is empty (the CLI fails: bad value); "
        "set it with `pulumi config set --secret --path 'homelab:cluster.cloudflare.accountId' <value>`"
    )


@pytest.mark.parametrize(
    ("value", "tag"),
    [("!!int 6443", "!!int"), ("!!bool true", "!!bool"), ("!custom 6443", "!custom"), ("!!float 1.5", "!!float")],
)
def test_every_tag_but_str_is_refused_with_its_key(tmp_path: Path, value: str, tag: str) -> None:
    """Even a tag that says what the reader would resolve anyway, and one no reader knows."""
    with pytest.raises(StackFileError) as err:
        read(tmp_path, f"config:\n  homelab:cluster:\n    network:\n      port: {value}\n")
    assert str(err.value) == (
        f"Pulumi.lab.yaml:4: homelab:cluster.network.port: the tag {tag} is read differently by the Pulumi CLI; "
        "write the value without it (only !!str is safe)"
    )


def test_a_trap_never_echoes_what_looks_like_a_credential(tmp_path: Path) -> None:
    token = "0123456789012345678901234567890123456789"
    with pytest.raises(StackFileError) as err:
        read(tmp_path, f"config:\n  homelab:cloudflareApiToken: {token}\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:2: homelab:cloudflareApiToken: `[hidden: 40 characters that look like a credential]` is "
        f"text to YAML 1.1 but a number to the Pulumi CLI; {NUMBER_FIX}"
    )
    assert token not in str(err.value)


def test_one_ciphertext_named_twice_through_an_alias_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(
            tmp_path,
            f"config:\n  homelab:cloudflareApiToken: &t\n    secure: {V1}\n  homelab:cloudflareDnsApiToken: *t\n",
        )
    assert str(err.value) == (
        "Pulumi.lab.yaml:3: homelab:cloudflareDnsApiToken: the same ciphertext as homelab:cloudflareApiToken: one "
        "secret copied under two keys (a value never encrypts twice to the same text); set it with `pulumi config "
        "set --secret homelab:cloudflareDnsApiToken <value>`"
    )


PLAIN = (
    "`secure:` does not hold a value the CLI encrypted (`v1:<nonce>:<ciphertext>`, or base64 from Pulumi Cloud), so "
    f"it may be the secret itself in plain text; {SET}"
)


def test_a_pasted_token_is_no_pulumi_cloud_ciphertext(tmp_path: Path) -> None:
    """40 base64-safe characters decode to 30 bytes: less than any ciphertext here."""
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:cloudflareApiToken:\n    secure: abcdefabcdefabcdefabcdefabcdefabcdef1234\n")
    assert str(err.value) == f"Pulumi.lab.yaml:3: homelab:cloudflareApiToken: {PLAIN}"


def test_a_file_with_a_passphrase_salt_holds_v1_texts_only(tmp_path: Path) -> None:
    """The passphrase and KMS providers write `v1:`; base64 alone is Pulumi Cloud's form."""
    with pytest.raises(StackFileError) as err:
        read(tmp_path, f"encryptionsalt: {V1}\nconfig:\n  homelab:cloudflareApiToken:\n    secure: {CLOUD}\n")
    assert str(err.value) == f"Pulumi.lab.yaml:4: homelab:cloudflareApiToken: {PLAIN}"
    config = read(tmp_path, f"encryptionsalt: {V1}\nconfig:\n  homelab:cloudflareApiToken:\n    secure: {V1}\n")
    assert config == {"homelab:cloudflareApiToken": {"secure": V1}}


def test_nesting_past_the_limit_is_refused_while_reading(tmp_path: Path) -> None:
    """A file nested thousands deep would exhaust recursion in every walk over it."""
    deep = "config:\n  homelab:x: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(StackFileError) as err:
        read(tmp_path, deep)
    assert str(err.value) == "Pulumi.lab.yaml:2: nested too deep (over 100 levels): no stack file needs that"


def test_nesting_within_the_limit_is_read(tmp_path: Path) -> None:
    assert read(tmp_path, "config:\n  homelab:x: " + "[" * 90 + "]" * 90 + "\n") != {}


def test_mixed_line_ends_are_read_as_the_cli_reads_them(tmp_path: Path) -> None:
    """Only promote, which writes the file back, needs one style of line end."""
    assert read(tmp_path, b"config:\r\n  homelab:a: 1\n  homelab:b: 2\r") == {"homelab:a": 1, "homelab:b": 2}


def test_a_bom_and_crlf_file_is_read(tmp_path: Path) -> None:
    assert read(tmp_path, b"\xef\xbb\xbfconfig:\r\n  homelab:a: x\r\n") == {"homelab:a": "x"}


def test_a_mapping_used_as_a_key_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:cluster:\n    ? {a: 1}\n    : x\n")
    assert str(err.value) == "Pulumi.lab.yaml:3: homelab:cluster: a mapping used as a key; a key is text"


def test_a_yaml_directive_is_refused(tmp_path: Path) -> None:
    """ruamel would read `y` as true under it; the Pulumi CLI would not."""
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "%YAML 1.1\n---\nconfig:\n  homelab:x: 1\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:1: a %YAML directive changes how YAML readers read the values, not alike: remove it"
    )


@pytest.mark.parametrize("value", ['"homelab\\n"', "|\n      homelab"])
def test_a_trailing_newline_is_no_owner_id(tmp_path: Path, value: str) -> None:
    """Patterns end at the end of the text (\\Z), not before a final newline ($)."""
    text = read(tmp_path, f"config:\n  homelab:x:\n    v: {value}\n")["homelab:x"]
    assert isinstance(text, dict) and text["v"].startswith("homelab") and text["v"].endswith("\n")
    assert OWNER_ID.match(text["v"]) is None


def test_duplicate_keys_spelled_otherwise_never_quote_a_value(tmp_path: Path) -> None:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, "config:\n  homelab:x:\n    True: s3cretvalue1\n    true: s3cretvalue2\n")
    assert str(err.value) == (
        "Pulumi.lab.yaml:4: duplicate key: two keys here read as the same one (such as `1` and `+1`); keep one"
    )
