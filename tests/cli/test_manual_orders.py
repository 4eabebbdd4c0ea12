"""The scenario of the foundation: held, paid, failed payment then paid after a top-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import add_order, set_up_catalogue, snapshot, write
from tests.support import Cli


def show(cli: Cli, order: str) -> dict:  # type: ignore[type-arg]
    return json.loads(cli.ok("orders", "show", order, "-f", "json").stdout)  # type: ignore[no-any-return]


def events(cli: Cli, order: str) -> list[tuple[str, str | None, str | None]]:
    from avasam_cli.core.config import Settings
    from avasam_cli.core.services.order_views import order_audit
    from avasam_cli.core.workspace import Workspace

    ws = Workspace(Settings.resolve(None))
    try:
        return [(e["event"], e["from_status"], e["to_status"]) for e in order_audit(ws, order)]
    finally:
        ws.close()


def test_the_lifecycle_scenario(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance="100")

    held = add_order(cli, postcode="HS1 2AB", reference="R-HELD")
    assert held.exit_code == 0
    assert held.stderr == "Order QUEUE (id 1, total 0.00 GBP): held: excluded_postcode.\n"

    paid = add_order(cli, postcode="sw1a1aa", reference="R-PAID")
    # 2 x 35.50 = 71.00 + 4.99 shipping; VAT 14.20 + 1.00 (0.998 rounded) = 91.19
    assert paid.stderr == (
        "Order AV0000002 (id 2, total 91.19 GBP): paid and passed to the supplier.\n"
    )

    poor = add_order(cli, item="OAK-TABLE-01", reference="R-POOR")
    assert poor.exit_code == 0
    assert "payment failed: balance 8.81 GBP is less than the order total 149.99 GBP" in poor.stderr

    order = show(cli, "R-POOR")
    assert (order["number"], order["status"], order["payment_status"]) == (
        "QUEUE",
        "queue",
        "unpaid",
    )
    cli.ok("account", "topup", "200")
    processed = cli.ok("orders", "process", "-f", "json")
    results = {r["reference"]: r for r in json.loads(processed.stdout)}
    assert results["R-POOR"]["number"] == "AV0000003"
    assert results["R-POOR"]["payment"] == "paid"
    assert results["R-HELD"]["status"] == "held"

    assert show(cli, "AV0000003")["status"] == "open"
    assert json.loads(cli.ok("account", "balance", "-f", "json").stdout)[0]["balance"] == "58.82"
    held_order = show(cli, "R-HELD")
    assert (held_order["status"], held_order["hold_reason"]) == ("held", "excluded_postcode")

    assert events(cli, "R-HELD") == [("created", None, "queue"), ("held", "queue", "held")]
    assert events(cli, "AV0000002") == [
        ("created", None, "queue"),
        ("invoiced", None, None),
        ("payment_taken", None, None),
        ("passed_to_supplier", "queue", "open"),
    ]
    assert events(cli, "R-POOR") == [
        ("created", None, "queue"),
        ("payment_failed", None, None),
        ("invoiced", None, None),
        ("payment_taken", None, None),
        ("passed_to_supplier", "queue", "open"),
    ]

    table = show(cli, "AV0000002")
    assert table["totals"] == {
        "items_ex_vat": "71.00",
        "shipping_ex_vat": "4.99",
        "vat": "15.20",
        "total": "91.19",
        "currency": "GBP",
    }
    assert table["items"][0]["supplier_product_id"] == "OAK-1002"
    stock = json.loads(cli.ok("products", "show", "OAK-CHAIR-02", "-f", "json").stdout)["stock"]
    assert stock == 38


def test_processing_again_charges_nothing_twice(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance="100")
    add_order(cli, reference="R1")
    before = snapshot(db_url)
    run = cli.ok("orders", "process")
    assert run.stderr == "No orders to process.\n"
    after = snapshot(db_url)
    assert len(after.pop("job_runs")) == len(before.pop("job_runs")) + 1  # the run is recorded
    assert after == before


def test_a_repeated_payment_failure_is_audited_once(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance="1")
    add_order(cli, reference="R1")
    cli.ok("orders", "process")
    cli.ok("orders", "process")
    assert [e[0] for e in events(cli, "R1")] == ["created", "payment_failed"]


def test_held_order_goes_ahead_once_the_cause_is_fixed(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    out = add_order(cli, item="OAK-SHELF-03", reference="R1")
    assert "held: out_of_stock" in out.stderr
    feed = (
        "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
        "OAK-1003,OAK-SHELF-03,Oak Wall Shelf,4,18.25,29.99,20\n"
    )
    cli.ok("products", "import", str(write(tmp_path / "restock.csv", feed)), "--supplier", "OAKCO")
    cli.ok("orders", "process")
    order = show(cli, "R1")
    assert (order["status"], order["hold_reason"], order["payment_status"]) == (
        "open",
        None,
        "paid",
    )
    assert [e[0] for e in events(cli, "R1")] == [
        "created",
        "held",
        "released",
        "invoiced",
        "payment_taken",
        "passed_to_supplier",
    ]


def test_outside_uk_is_held_unless_the_supplier_ships_abroad(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    run = add_order(cli, "--country", "FR", postcode="75001", reference="FR1")
    assert "held: outside_uk" in run.stderr
    assert show(cli, "FR1")["delivery"]["postcode"] == "75001"


def test_note_and_file_input(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    order_file = write(
        tmp_path / "order.json",
        json.dumps(
            {
                "name": "Zoë Brontë",
                "address1": "3 Rue",
                "city": "York",
                "postcode": "YO1 7HH",
                "items": ["OAK-CHAIR-02:1", {"sku": "OAK-TABLE-01", "qty": 1}],
                "shipping_service": "standard",
                "reference": "FILE-1",
                "note": "leave with neighbour",
            }
        ),
    )
    cli.ok("orders", "add", "--from-file", str(order_file))
    order = show(cli, "FILE-1")
    assert order["delivery"]["name"] == "Zoë Brontë"
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [
        ("OAK-CHAIR-02", 1),
        ("OAK-TABLE-01", 1),
    ]
    assert [n["text"] for n in order["notes"]] == ["leave with neighbour"]
    assert order["status"] == "open"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--item", "NOPE:1"], "Error: unknown SKU 'NOPE'; see `avasam products list --search`"),
        (
            ["--item", "OAK-CHAIR-02:0"],
            "Error: item 'OAK-CHAIR-02:0': quantity 0 must be 1 or more",
        ),
        (
            ["--item", "OAK-CHAIR-02:99999999999999999999"],
            "Error: item 'OAK-CHAIR-02:99999999999999999999': quantity "
            "'99999999999999999999' is more than 10,000",
        ),
        (
            ["--postcode", "12345"],
            "Error: postcode '12345' is not a valid UK postcode; write it like SW1A 1AA",
        ),
        (
            ["--shipping-service", "expedited"],
            "Error: supplier OAKCO does not offer expedited shipping "
            "(offers: standard); add it with `avasam suppliers shipping OAKCO expedited --price P`",
        ),
        (
            ["--reference", "DUP"],
            "Error: reference 'DUP' is already used by another order; choose another --reference",
        ),
        (
            ["--country", "France"],
            "Error: country 'FRANCE' must be a two-letter ISO code such as GB",
        ),
    ],
)
def test_bad_manual_orders_change_nothing(
    cli: Cli, db_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_order(cli, reference="DUP")
    before = snapshot(db_url)
    base = {
        "--name": "Ann",
        "--address1": "1 High St",
        "--city": "London",
        "--postcode": "SW1A 1AA",
        "--item": "OAK-CHAIR-02",
        "--shipping-service": "standard",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    run = cli("orders", "add", *[x for pair in base.items() for x in pair])
    assert run.exit_code == 1
    assert run.stderr == message + "\n"
    assert snapshot(db_url) == before


def test_ambiguous_and_unknown_order_identifiers(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok("suppliers", "add", "TEAK", "--name", "Teak")
    cli.ok("suppliers", "shipping", "TEAK", "standard", "--price", "1")
    feed = "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\nT1,TEAK-1,Teak stool,9,10,,20\n"
    cli.ok("products", "import", str(write(tmp_path / "teak.csv", feed)), "--supplier", "TEAK")
    split = cli.ok(
        "orders",
        "add",
        "--name",
        "A",
        "--address1",
        "1 St",
        "--city",
        "Bath",
        "--postcode",
        "BA1 1AA",
        "--item",
        "OAK-CHAIR-02",
        "--item",
        "TEAK-1",
        "--shipping-service",
        "standard",
        "--reference",
        "SPLIT",
    )
    assert split.stderr.count("paid and passed to the supplier") == 2
    run = cli("orders", "show", "SPLIT")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: reference 'SPLIT' matches 2 orders: AV0000001 (id 1, open), "
        "AV0000002 (id 2, open); name one by its id\n"
    )
    assert show(cli, "2")["supplier"] == "TEAK"
    missing = cli("orders", "show", "AV9999999")
    assert missing.stderr == (
        "Error: no order 'AV9999999' (tried order number, id and reference); "
        "find it with `avasam orders list --search`\n"
    )


def test_changing_commands_print_the_order_for_scripts(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    added = add_order(cli, "-f", "json", reference="S1")
    assert added.exit_code == 0
    order = json.loads(added.stdout)
    assert order["number"] == "AV0000001" and order["reference"] == "S1"
    assert (order["status"], order["payment_status"], order["shipping_status"]) == (
        "open",
        "paid",
        "unshipped",
    )
    # 2 x 35.50 + 20% VAT = 85.20, standard shipping 4.99 + 20% VAT = 5.99
    assert order["total"] == "91.19" and order["currency"] == "GBP"
    assert added.stderr.startswith("Order AV0000001 (id 1, total 91.19 GBP)")
    dispatched = json.loads(
        cli.ok("orders", "dispatch", "S1", "--tracking", "RM1", "-f", "json").stdout
    )
    assert dispatched["status"] == "dispatched" and dispatched["tracking_number"] == "RM1"
    add_order(cli, reference="S2")
    add_order(cli, reference="S3")
    cancelled = json.loads(
        cli.ok("orders", "cancel", "S2", "S3", "--reason", "price_error", "-f", "json").stdout
    )
    assert [(o["reference"], o["status"], o["payment_status"]) for o in cancelled] == [
        ("S2", "cancelled", "refunded"),
        ("S3", "cancelled", "refunded"),
    ]
    table = cli.ok("orders", "dispatch", "S1", "--tracking", "RM1").stdout.splitlines()
    assert table[0].split() == [
        "id",
        "number",
        "reference",
        "supplier",
        "status",
        "payment_status",
        "shipping_status",
        "hold_reason",
        "cancel_reason",
        "tracking_number",
        "total",
    ]
    assert table[2].split() == [
        "1",
        "AV0000001",
        "S1",
        "OAKCO",
        "dispatched",
        "paid",
        "shipped",
        "RM1",
        "91.19",
    ]
