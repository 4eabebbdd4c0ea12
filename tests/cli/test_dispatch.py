from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import add_order, set_up_catalogue, snapshot, write
from tests.support import Cli


def status_of(cli: Cli, order: str) -> tuple[str, str, str]:
    data = json.loads(cli.ok("orders", "show", order, "-f", "json").stdout)
    return data["status"], data["payment_status"], data["shipping_status"]


def test_dispatch_by_hand(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    add_order(cli, reference="R1")
    run = cli.ok("orders", "dispatch", "R1", "--tracking", "RM1GB", "--carrier", "Royal Mail")
    assert run.stderr == "Order R1 dispatched with tracking RM1GB.\n"
    assert status_of(cli, "AV0000001") == ("dispatched", "paid", "shipped")
    again = cli.ok("orders", "dispatch", "R1", "--tracking", "RM1GB")
    assert again.stderr == "Order R1 was already dispatched with tracking RM1GB.\n"
    other = cli("orders", "dispatch", "R1", "--tracking", "OTHER")
    assert other.exit_code == 1
    assert other.stderr == "Error: order AV0000001 was already dispatched with tracking RM1GB\n"


def test_dispatching_a_queued_order_is_refused(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance=None)
    add_order(cli, reference="R1")
    before = snapshot(db_url)
    run = cli("orders", "dispatch", "R1", "--tracking", "T")
    assert (run.exit_code, run.stderr) == (
        1,
        "Error: order R1 is queue; only an open order can be dispatched\n",
    )
    assert snapshot(db_url) == before


def test_dispatch_file(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance="300")
    for ref in ("R1", "R2", "R3"):
        add_order(cli, reference=ref)
    balance_before = json.loads(cli.ok("account", "balance", "-f", "json").stdout)[0]["balance"]
    assert balance_before == "26.43"  # 300 - 3 x 91.19
    feed = write(
        tmp_path / "dispatch.csv",
        "OrderNumber,Status,TrackingNumber,Carrier\n"
        "AV0000001,SHIPPED,RM1GB,Royal Mail\n"
        "AV0000009,SHIPPED,RM9GB,Royal Mail\n"
        "AV0000002,CANCELLED,,\n"
        "AV0000003,LOST,,\n"
        "AV0000003,SHIPPED,,\n",
    )
    run = cli("dispatches", "import", str(feed))
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "Error: line 3 (AV0000009): column OrderNumber: no order 'AV0000009'",
        "Error: line 5 (AV0000003): column Status: 'LOST' must be SHIPPED or CANCELLED",
        "Error: line 6 (AV0000003): column TrackingNumber: is empty for a SHIPPED order",
        "Dispatched 1, cancelled 1, unchanged 0, failed 3.",
    ]
    assert status_of(cli, "AV0000001") == ("dispatched", "paid", "shipped")
    assert status_of(cli, "AV0000002") == ("cancelled", "refunded", "unshipped")
    assert status_of(cli, "AV0000003") == ("open", "paid", "unshipped")
    assert json.loads(cli.ok("account", "balance", "-f", "json").stdout)[0]["balance"] == "117.62"
    stock = json.loads(cli.ok("products", "show", "OAK-CHAIR-02", "-f", "json").stdout)["stock"]
    assert stock == 36  # 40 - 3 x 2 + 2 released

    before = snapshot(db_url)
    again = cli("dispatches", "import", str(feed))
    assert again.stderr.splitlines()[-1] == "Dispatched 0, cancelled 0, unchanged 2, failed 3."
    assert snapshot(db_url) == before


def test_a_dispatch_file_names_orders_by_channel_reference_and_may_omit_the_carrier(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path, balance="1000")
    add_order(cli, reference="1001")  # a shop's order id: a reference, never our internal id
    cli.ok("orders", "process")
    path = write(
        tmp_path / "d.csv", "OrderNumber,Status,TrackingNumber\n1001,DISPATCHED,TRK-1001\n"
    )
    cli.ok("dispatches", "import", str(path))
    order = json.loads(cli.ok("orders", "show", "1001", "-f", "json").stdout)
    assert (order["status"], order["tracking_number"], order["carrier"]) == (
        "dispatched",
        "TRK-1001",
        None,
    )
