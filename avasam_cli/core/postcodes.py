"""UK postcodes: format validation and supplier exclusion rules.

Exclusions are postcode areas (`HS`), districts (`KW15`), district ranges (`KW15-17`) or
full outward codes with a sub-district letter (`EC1A`). They are matched on the parsed
outward code, never on a plain string prefix: `B1` must not exclude `BT1`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from avasam_cli.core.errors import InvalidInput

_POSTCODE = re.compile(r"^([A-Z]{1,2})(\d{1,2})([A-Z]?)\s*(\d[A-Z]{2})$")
_RULE = re.compile(r"^([A-Z]{1,2})(?:(\d{1,2})([A-Z]?)(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class Outward:
    area: str
    district: int
    sub_district: str


# What people and shops put between or after the parts of a postcode: spaces, dashes, dots.
_SEPARATORS = re.compile(r"[\s\-_.,;:/]+")


def _compact(text: str) -> str:
    """'ＢＴ1-1aa.' -> 'BT11AA': full-width and other compatibility forms folded (NFKC),
    upper-cased, separators dropped, so a variant spelling parses as what it means."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())


def normalise_postcode(text: str) -> str:
    """'sw1a1aa' -> 'SW1A 1AA'. Raises InvalidInput for anything that is not a UK postcode."""
    compact = _compact(text)
    match = _POSTCODE.match(compact)
    if not match and compact != "GIR0AA":
        raise InvalidInput(f"postcode {text!r} is not a valid UK postcode; write it like SW1A 1AA")
    return f"{compact[:-3]} {compact[-3:]}"


def delivery_postcode(text: str, country: str, *, strict: bool) -> str:
    """The one rule for an order's postcode: a GB one in its standard form ('SW1A 1AA'), any
    other country's upper-cased. A GB postcode that does not parse raises InvalidInput when
    `strict` (someone at the keyboard can fix it), else is kept upper-cased as given (a
    channel's order is never lost for a typo)."""
    if country != "GB":
        return text.upper()
    try:
        return normalise_postcode(text)
    except InvalidInput:
        if strict:
            raise
        return text.upper()


def outward_of(postcode: str) -> Outward | None:
    """The parsed outward code, or None when the text is not a UK postcode."""
    match = _POSTCODE.match(_compact(postcode))
    if not match:
        return None
    return Outward(match.group(1), int(match.group(2)), match.group(3))


@dataclass(frozen=True)
class ExclusionRule:
    area: str
    low: int | None = None
    high: int | None = None
    sub_district: str = ""

    def excludes(self, outward: Outward) -> bool:
        if outward.area != self.area:
            return False
        if self.low is None or self.high is None:
            return True
        if self.sub_district and outward.sub_district != self.sub_district:
            return False
        return self.low <= outward.district <= self.high

    def __str__(self) -> str:
        if self.low is None:
            return self.area
        if self.high != self.low:
            return f"{self.area}{self.low}-{self.high}"
        return f"{self.area}{self.low}{self.sub_district}"


def parse_exclusions(text: str) -> list[ExclusionRule]:
    """'HS, ze, KW15-17' -> rules. Raises InvalidInput naming the bad entry."""
    rules: list[ExclusionRule] = []
    for raw in text.split(","):
        entry = raw.strip().upper().replace(" ", "")
        if not entry:
            continue
        match = _RULE.match(entry)
        if not match:
            raise InvalidInput(
                f"excluded postcode {raw.strip()!r} is not an area (HS), a district (KW15) "
                "or a district range (KW15-17)"
            )
        area, low, sub, high = match.groups()
        if low is None:
            rules.append(ExclusionRule(area))
            continue
        if high is not None and sub:
            raise InvalidInput(f"excluded postcode {raw.strip()!r}: a range takes no letter")
        low_n, high_n = int(low), int(high if high is not None else low)
        if high_n < low_n:
            raise InvalidInput(f"excluded postcode range {raw.strip()!r} runs backwards")
        rules.append(ExclusionRule(area, low_n, high_n, sub or ""))
    return rules


def format_exclusions(rules: list[ExclusionRule]) -> str:
    return ",".join(str(rule) for rule in rules)


def is_excluded(postcode: str, rules_text: str) -> bool:
    """Whether a parseable postcode falls in the rules. One that does not parse is never
    "not excluded": the caller holds it as an invalid address instead."""
    outward = outward_of(postcode)
    if outward is None:
        raise InvalidInput(f"postcode {postcode!r} is not a UK postcode")
    return any(rule.excludes(outward) for rule in parse_exclusions(rules_text))
