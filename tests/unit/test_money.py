import pytest

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.money import format_pence, format_rate, parse_pence, parse_vat_rate, vat_on


@pytest.mark.parametrize(
    ("text", "pence"), [("2.99", 299), ("12.5", 1250), ("100", 10000), ("0", 0), ("£4.05", 405)]
)
def test_parse_pence(text: str, pence: int) -> None:
    assert parse_pence(text) == pence


@pytest.mark.parametrize(
    "text", ["abc", "-1", "1.234", "", "1,000", "nan", "1_000", "١٠", "１０", "1e3", "inf"]
)
def test_parse_pence_refuses(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_pence(text)


def test_vat_is_rounded_half_up_per_amount() -> None:
    assert vat_on(1250, 2000) == 250
    assert vat_on(1, 5000) == 1  # 0.5p rounds up
    assert vat_on(2, 2000) == 0  # 0.4p rounds down
    assert vat_on(3, 2000) == 1  # 0.6p rounds up
    assert vat_on(1999, 550) == 110  # 109.945p rounds to 110


def test_formatting() -> None:
    assert format_pence(1234) == "12.34"
    assert format_pence(-50) == "-0.50"
    assert format_pence(5) == "0.05"
    assert parse_vat_rate("5.5") == 550
    assert format_rate(550) == "5.5"
    assert format_rate(2000) == "20"
    with pytest.raises(InvalidInput):
        parse_vat_rate("101")


@pytest.mark.parametrize(
    ("text", "message"),
    [("-5", "cannot be negative"), ("10000000000", "is too large"), ("1_0", "is not a price")],
)
def test_refusals_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_pence(text)
