"""The one reader of users' text files: product feeds, dispatch files and dropped orders."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from avasam_cli.core.csvfile import FileFormatError, Utf8Lines, csv_rows, open_csv
from avasam_cli.core.errors import InvalidInput


def lines(data: bytes) -> Utf8Lines:
    return Utf8Lines(io.BytesIO(data))


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_any_line_ending_with_or_without_bom(end: bytes) -> None:
    for bom in (b"", b"\xef\xbb\xbf"):
        data = bom + end.join([b"Order ID,SKU", "Zoë,A".encode(), b"", b"2,B"]) + end
        assert list(csv_rows(lines(data), ["order_id", "sku"])) == [
            (2, {"order_id": "Zoë", "sku": "A"}),
            (4, {"order_id": "2", "sku": "B"}),
        ]


def test_headers_match_ignoring_case_spaces_and_underscores() -> None:
    data = b" ORDER_ID , s k u,Unit Price,extra\n1 , A ,2.50,x\n3,B\n"
    assert list(csv_rows(lines(data), ["order_id", "sku"], ["unit_price", "title"])) == [
        (2, {"order_id": "1", "sku": "A", "unit_price": "2.50"}),
        (3, {"order_id": "3", "sku": "B", "unit_price": ""}),
    ]


def test_a_line_that_is_not_utf8_is_named_exactly_even_far_into_the_file() -> None:
    good = b"".join(b"%d,SKU-%d\n" % (n, n) for n in range(2, 20000))
    data = b"order_id,sku\n" + good + b"20000,Zo\xeb\n"
    with pytest.raises(
        FileFormatError, match=r"^line 20000: not UTF-8 text; save the file as UTF-8$"
    ):
        list(csv_rows(lines(data), ["order_id", "sku"]))


def test_long_lines_and_line_endings_mixed_in_one_file() -> None:
    long_text = "é" * 70000
    data = f"order_id,sku\n1,{long_text}\r2,B\r\n3,C\r".encode()
    rows = list(csv_rows(lines(data), ["order_id", "sku"]))
    assert [(line, row["order_id"]) for line, row in rows] == [(2, "1"), (3, "2"), (4, "3")]
    assert rows[0][1]["sku"] == long_text


def test_a_quoted_newline_counts_its_lines() -> None:
    data = b'order_id,sku\n1,"A\nstill A"\n2,B\n'
    assert [(line, row["sku"]) for line, row in csv_rows(lines(data), ["order_id", "sku"])] == [
        (3, "A\nstill A"),
        (4, "B"),
    ]


def test_missing_columns_and_empty_files() -> None:
    with pytest.raises(FileFormatError) as caught:
        csv_rows(lines(b"order_id,title\n1,x\n"), ["order_id", "sku"])
    assert str(caught.value) == "the file has no column sku; the header needs: order_id, sku"
    assert caught.value.named("a.csv") == "a.csv has no column sku; the header needs: order_id, sku"
    assert list(csv_rows(lines(b""), ["order_id"], empty_ok=True)) == []
    with pytest.raises(FileFormatError, match="is empty; it needs a header row: order_id"):
        csv_rows(lines(b""), ["order_id"])


def test_json_readers_read_by_size_across_lines() -> None:
    source = lines(b"\xef\xbb\xbf[1,\n2]\n")
    assert (source.read(3), source.read(100), source.read(5)) == ("[1,", "\n2]\n", "")
    assert source.number == 2


def test_open_csv_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(b"SKU\nA\nZo\xeb\n")
    with (
        pytest.raises(InvalidInput, match=r"^feed\.csv, line 3: not UTF-8 text"),
        open_csv(path, ["SKU"]) as rows,
    ):
        list(rows)
    for name, required, message in [
        ("feed.csv", ["SKU", "Title"], r"^feed\.csv has no column Title"),
        ("nope.csv", ["SKU"], "does not exist"),
    ]:
        with pytest.raises(InvalidInput, match=message), open_csv(tmp_path / name, required):
            pass


@pytest.mark.parametrize("header", [b"order_id,sku,SKU\n", b"order_id,sku,Order ID\n"])
def test_a_column_named_twice_is_refused(header: bytes) -> None:
    with pytest.raises(FileFormatError, match=r"names column .* twice"):
        list(csv_rows(lines(header + b"1,A,B\n"), ["order_id", "sku"]))


def test_text_after_a_json_array_is_refused() -> None:
    from avasam_cli.core.channels.files import _json_records

    order = b'{"order_id": "1", "lines": [{"sku": "A"}]}'
    good = list(_json_records(lines(b"[" + order + b"]\n  \n")))
    assert len(good) == 1
    with pytest.raises(FileFormatError, match="text after the closing"):
        list(_json_records(lines(b"[" + order + b"] " + order)))
