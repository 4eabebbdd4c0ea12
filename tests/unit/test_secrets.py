"""Where a variable's NAME belongs, a secret itself is refused: avasam stores that value."""

from __future__ import annotations

from pathlib import Path

import pytest

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.secrets import check_env_name, check_secret_file


@pytest.mark.parametrize(
    "value",
    [
        "shpat_0123456789abcdef",
        "ck_4f3e2d1c0b",
        "cs_9a8b7c6d5e",
        "aB3dE5gH7jK9mN1pQ3sT5v",
    ],
)
def test_a_secret_where_a_name_belongs_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(value, raising=False)
    with pytest.raises(InvalidInput, match="looks like the token itself") as caught:
        check_env_name(value, "--token-env", "token")
    assert value not in str(caught.value)  # the refusal does not echo the secret


@pytest.mark.parametrize("value", ["SHOPIFY_TOKEN", "OAK_SFTP_PASSWORD", "WC_KEY"])
def test_variable_names_that_are_set_are_accepted(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(value, "x")
    check_env_name(value, "--token-env", "token")


@pytest.mark.parametrize("value", ["Summer2026", "SHOPIFY_TOKEN"])
def test_a_name_that_is_not_set_is_refused_without_echoing_it(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(value, raising=False)
    with pytest.raises(InvalidInput, match="no environment variable of that name is set") as e:
        check_env_name(value, "--token-env", "token")
    assert value not in str(e.value)


def test_a_lower_case_name_that_is_set_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("shop_token", "x")
    check_env_name("shop_token", "--token-env", "token")


def test_an_unreadable_secret_file_is_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "secret"
    folder.mkdir(mode=0o700)
    with pytest.raises(InvalidInput, match="cannot read"):
        check_secret_file(str(folder), "--password-file")
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    binary.chmod(0o600)
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        check_secret_file(str(binary), "--password-file")
