"""Benchmark `exports run` of 100,000 open orders to a local SFTP (OpenSSH) and FTP
(pyftpdlib) server, as whole processes, with peak RSS. Needs root (it runs sshd).

    python bench/exports.py --orders 100000 --runs 5
    python bench/exports.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Every run sends the same 100,000 orders for the first time: the database is put back to
its state before the first run (a copy of the SQLite file, or a PostgreSQL database made
from a template) before each one, outside the timing. The floor beside each: copying the
same file with the same protocol library alone (paramiko `put`, ftplib `storbinary`),
measured in the same run, as many times. Medians are printed, with every run.
"""

from __future__ import annotations

import argparse
import ftplib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import paramiko

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.ftp_server import PASSWORD, USER, serve_ftp
from tests.fakes.sshd import serve_sshd

AVASAM = [sys.executable, "-m", "avasam_cli"]


def run(env: dict[str, str], *args: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *AVASAM, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(done.stderr.strip().splitlines()[-1])


def open_orders(workdir: Path, env: dict[str, str], count: int) -> None:
    drop = workdir / "drop"
    drop.mkdir()
    with (drop / "orders.csv").open("w") as out:
        out.write("order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n")
        for n in range(count):
            out.write(
                f"B{n},2026-11-28T10:00:00Z,Ann Lee,{n} High Street,London,SW1A 1AA,"
                f"Standard,PEG-{n % 50},{1 + n % 3}\n"
            )
    feed = workdir / "feed.csv"
    feed.write_text(
        "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
        + "".join(f"P{n},PEG-{n},Oak peg {n},10000000,0.10,,20\n" for n in range(50))
    )
    for args in (
        ["init"],
        ["suppliers", "add", "OAKCO", "--name", "Oak"],
        ["suppliers", "shipping", "OAKCO", "standard", "--price", "1"],
        ["products", "import", str(feed), "--supplier", "OAKCO"],
        ["account", "topup", "10000000"],
        ["channels", "add", "drop", "--type", "file", "--path", str(drop)],
        ["channels", "map-shipping", "drop", "Standard", "standard"],
        ["channels", "pull", "drop"],
        ["orders", "process"],
    ):
        subprocess.run([*AVASAM, *args], env=env, check=True, capture_output=True)


class SqliteSnapshot:
    def __init__(self, path: Path) -> None:
        self.path, self.saved = path, path.with_name("snapshot.db")

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def save(self) -> None:
        shutil.copy(self.path, self.saved)  # the last process closed the WAL into the file

    def restore(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.saved, self.path)


class PostgresSnapshot:
    """A database `avasam_bench_exports`, saved as the template `..._snapshot`."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import make_url

        self.admin = make_url(admin_url)
        self.name = "avasam_bench_exports"
        self._sql(
            f"DROP DATABASE IF EXISTS {self.name}_snapshot", f"DROP DATABASE IF EXISTS {self.name}"
        )
        self._sql(f"CREATE DATABASE {self.name}")

    @property
    def url(self) -> str:
        return self.admin.set(database=self.name).render_as_string(hide_password=False)

    def save(self) -> None:
        self._sql("VACUUM ANALYZE", database=self.name)
        self._sql(
            f"DROP DATABASE IF EXISTS {self.name}_snapshot",
            f"CREATE DATABASE {self.name}_snapshot TEMPLATE {self.name}",
        )

    def restore(self) -> None:
        self._sql(
            f"DROP DATABASE {self.name}",
            f"CREATE DATABASE {self.name} TEMPLATE {self.name}_snapshot",
        )
        self._sql("VACUUM ANALYZE", database=self.name)

    def drop(self) -> None:
        self._sql(
            f"DROP DATABASE IF EXISTS {self.name}", f"DROP DATABASE IF EXISTS {self.name}_snapshot"
        )

    def _sql(self, *statements: str, database: str | None = None) -> None:
        import psycopg

        url = self.admin.set(drivername="postgresql", database=database or self.admin.database)
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="run on PostgreSQL instead")
    parser.add_argument("--only", choices=["sftp", "ftp"], help="one protocol only")
    parser.add_argument(
        "--prepared",
        metavar="DB",
        type=Path,
        help="a SQLite workspace this script set up before (OAKCO's open orders): copied "
        "instead of setting one up again (15 minutes on a busy machine)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="avasam-bench-"))
    snapshot: SqliteSnapshot | PostgresSnapshot = (
        PostgresSnapshot(args.postgres) if args.postgres else SqliteSnapshot(workdir / "avasam.db")
    )
    env = {**os.environ, "AVASAM_DATABASE_URL": snapshot.url, "EXPORT_PASSWORD": PASSWORD}
    try:
        started = time.perf_counter()
        if args.prepared and isinstance(snapshot, SqliteSnapshot):
            shutil.copy(args.prepared, snapshot.path)
        else:
            open_orders(workdir, env, args.orders)
        print(f"set up {args.orders:,} open orders in {time.perf_counter() - started:.0f} s")
        ftp_root = workdir / "ftp"
        ftp_root.mkdir()
        with serve_sshd() as sshd, serve_ftp(ftp_root) as ftp:
            env["SFTP_PASSWORD"] = sshd.password
            known = workdir / "known_hosts"
            known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_public_line}\n")
            common = ["--supplier", "OAKCO", "--host", "127.0.0.1"]
            add = [
                ["sftp", "--protocol", "sftp", "--port", str(sshd.port)],
                ["--username", "avasamsftp", "--password-env", "SFTP_PASSWORD"],
                ["--known-hosts", str(known), "--remote-dir", "in"],
            ]
            subprocess.run(
                [*AVASAM, "exports", "add", *common, *(a for part in add for a in part)],
                env=env,
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [
                    *AVASAM,
                    "exports",
                    "add",
                    "ftp",
                    *common,
                    "--protocol",
                    "ftp",
                    "--port",
                    str(ftp.port),
                    "--username",
                    USER,
                    "--password-env",
                    "EXPORT_PASSWORD",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            snapshot.save()
            results: dict[str, list[tuple[float, int]]] = {"sftp": [], "ftp": []}
            for _ in range(args.runs):
                for protocol in ("sftp", "ftp"):
                    if args.only and protocol != args.only:
                        continue
                    snapshot.restore()
                    results[protocol].append(run(env, "exports", "run", protocol))
            # The file both sent (the same orders each time), for the floors.
            source = next(iter([*ftp_root.iterdir(), *(sshd.home / "in").iterdir()]))
            size = source.stat().st_size
            floor_file = workdir / "floor.csv"
            shutil.copy(source, floor_file)
            floors_sftp = [
                _sftp_floor(floor_file, sshd.port, sshd.password) for _ in range(args.runs)
            ]
            floors_ftp = [_ftp_floor(floor_file, ftp.port) for _ in range(args.runs)]
        database = "PostgreSQL" if args.postgres else "SQLite"
        for protocol, floors, floor_name in (
            ("sftp", floors_sftp, "paramiko put"),
            ("ftp", floors_ftp, "ftplib storbinary"),
        ):
            if not results[protocol]:
                continue
            times = [t for t, _ in results[protocol]]
            rss = max(r for _, r in results[protocol])
            print(
                f"| `exports run` {args.orders:,} orders ({size / 2**20:.0f} MiB CSV) to "
                f"{protocol.upper()}, {database} | {statistics.median(times):.2f} s | "
                f"{rss / 1024:.0f} MiB | {floor_name} alone: {statistics.median(floors):.2f} s |"
            )
            print(f"    runs: {_shown(times)}; floor runs: {_shown(floors)}")
    finally:
        if isinstance(snapshot, PostgresSnapshot):
            snapshot.drop()
        shutil.rmtree(workdir, ignore_errors=True)


def _shown(times: list[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


def _timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _sftp_floor(path: Path, port: int, password: str) -> float:
    def copy() -> None:
        transport = paramiko.Transport(("127.0.0.1", port))
        transport.connect(username="avasamsftp", password=password)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        sftp.put(str(path), "in/floor.csv")
        sftp.remove("in/floor.csv")
        transport.close()

    return _timed(copy)


def _ftp_floor(path: Path, port: int) -> float:
    def copy() -> None:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", port)
        ftp.login(USER, PASSWORD)
        with path.open("rb") as handle:
            ftp.storbinary("STOR floor.csv", handle, blocksize=1 << 16)
        ftp.delete("floor.csv")
        ftp.quit()

    return _timed(copy)


if __name__ == "__main__":
    main()
