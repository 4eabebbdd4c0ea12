import pytest

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.postcodes import (
    format_exclusions,
    is_excluded,
    normalise_postcode,
    parse_exclusions,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("HS1 2AB", "HS1 2AB"),
        (" m1  1ae ", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_valid_postcodes_are_normalised(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "SW1A", "SW1A 1A", "1AB 2CD", "ABC1 2DE"])
def test_malformed_postcodes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid UK postcode"):
        normalise_postcode(raw)


RULES = "HS,ZE,KW15-17,BT,B1,EC1A"


@pytest.mark.parametrize(
    ("postcode", "excluded"),
    [
        ("HS1 2AB", True),
        ("ZE2 9XX", True),
        ("KW15 1AA", True),
        ("KW16 3BB", True),
        ("KW17 2CC", True),
        ("KW14 1AA", False),
        ("KW1 4AA", False),
        ("BT1 1AA", True),
        ("B1 1AA", True),
        ("B12 1AA", False),
        ("EC1A 1BB", True),
        ("EC1M 1BB", False),
        ("SW1A 1AA", False),
        ("H1 1AA", False),
    ],
)
def test_exclusions_match_the_outward_code_not_a_prefix(postcode: str, excluded: bool) -> None:
    assert is_excluded(postcode, RULES) is excluded


def test_b1_does_not_exclude_bt1() -> None:
    assert is_excluded("BT1 1AA", "B1") is False
    assert is_excluded("B1 1AA", "B1") is True


def test_exclusions_are_normalised() -> None:
    assert format_exclusions(parse_exclusions(" hs, kw15 - 17 ,ze,,")) == "HS,KW15-17,ZE"


@pytest.mark.parametrize("bad", ["H-5", "KW17-15", "123", "KW15A-17", "ABC"])
def test_bad_exclusion_rules_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_exclusions(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HS1-2AB", "HS1 2AB"),
        ("HS1 2AB.", "HS1 2AB"),
        ("ＢＴ1 1AA", "BT1 1AA"),  # full-width letters and digits
        ("bt1\u00a01aa", "BT1 1AA"),  # a no-break space
        ("ze1.0aa", "ZE1 0AA"),
    ],
)
def test_variant_spellings_are_the_postcode_they_mean(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["HS1-2AB", "HS1 2AB.", "ＢＴ1 1AA", "ｈｓ１ ２ａｂ"])
def test_variant_spellings_cannot_slip_past_an_exclusion(raw: str) -> None:
    assert is_excluded(raw, "HS,BT")


def test_an_unparseable_postcode_is_never_taken_as_allowed() -> None:
    with pytest.raises(InvalidInput, match="not a UK postcode"):
        is_excluded("HS1 2AB 9", "HS")
