"""Debian's cron daemon runs the installed block: a pull happens within a minute."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from tests.helpers import set_up_catalogue, write
from tests.support import Cli


def test_cron_runs_the_installed_pull(cli: Cli, db_url: str, tmp_path: Path) -> None:
    if "postgresql" in db_url:
        return  # one database is enough to see cron run the job; locks are tested on both
    set_up_catalogue(cli, tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    write(
        drop / "a.csv",
        "order_id,placed_at,name,address1,city,postcode,shipping_method,sku\n"
        "CRON1,2026-11-28T10:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,OAK-CHAIR-02\n",
    )
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(drop))
    block = cli.ok("cron", "show", "--log", str(tmp_path / "jobs.log")).stdout
    every_minute = re.sub(r"^[^#\n]\S* \S+ \S+ \S+ \S+ ", "* * * * * ", block, flags=re.M)
    saved = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    started = subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode != 0
    try:
        subprocess.run(["crontab", "-"], input=every_minute, text=True, check=True)
        if started:
            subprocess.run(["/usr/sbin/cron"], check=True)
        deadline = time.monotonic() + 130
        while time.monotonic() < deadline and not (drop / "processed" / "a.csv").exists():
            time.sleep(1)
        assert (drop / "processed" / "a.csv").exists(), "cron did not run the pull"
        assert cli.ok("orders", "list", "--count", "--all").stdout == "1\n"
        log = (tmp_path / "jobs.log").read_text()
        assert " pull ok new=1 " in log
    finally:
        if saved.returncode == 0:
            subprocess.run(["crontab", "-"], input=saved.stdout, text=True, check=True)
        else:
            subprocess.run(["crontab", "-r"], capture_output=True)
        if started:
            subprocess.run(["pkill", "-x", "cron"], check=False)
