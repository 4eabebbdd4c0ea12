"""One folding rule for text search: what a title is indexed as and what a search word
is compared as, so "cafe" finds "Café", "strasse" finds "Straße" and "lodz" finds "Łódź".

Pure standard library and cheap to import: the light read path and the writers both use
it. Every writer of `order_lines.title` writes `search_title = fold_text(title)` in the
same statement; the title indexes (SQLite FTS5 trigram, PostgreSQL pg_trgm) are built on
`search_title`.
"""

from __future__ import annotations

import unicodedata

# Letters that carry their accent in the glyph itself, so NFKD leaves them whole.
_UNDECOMPOSED = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ŧ": "t",
        "ı": "i",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
    }
)


def fold_text(text: str) -> str:
    """Case-folded, compatibility-decomposed, accents dropped; punctuation and emoji kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
