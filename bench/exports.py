"""Benchmark `exports run` of 100,000 open orders to a local SFTP (OpenSSH) and FTP
(pyftpdlib) server, as whole processes, with peak RSS. Needs root (it runs sshd).

    python bench/exports.py --orders 100000

The floor beside each: copying the same file with the same protocol library alone
(paramiko `put`, ftplib `storbinary`), measured in the same run.
"""

from __future__ import annotations

import argparse
import ftplib
import os
import shutil
import subprocess
import sys
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="avasam-bench-"))
    env = {
        **os.environ,
        "AVASAM_DATABASE_URL": f"sqlite:///{workdir / 'avasam.db'}",
        "EXPORT_PASSWORD": PASSWORD,
    }
    try:
        open_orders(workdir, env, args.orders)
        ftp_root = workdir / "ftp"
        ftp_root.mkdir()
        with serve_sshd() as sshd, serve_ftp(ftp_root) as ftp:
            env["SFTP_PASSWORD"] = sshd.password
            known = workdir / "known_hosts"
            known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_public_line}\n")
            common = ["--supplier", "OAKCO", "--host", "127.0.0.1"]
            subprocess.run(
                [
                    *AVASAM,
                    "exports",
                    "add",
                    "sftp",
                    *common,
                    "--protocol",
                    "sftp",
                    "--port",
                    str(sshd.port),
                    "--username",
                    "avasamsftp",
                    "--password-env",
                    "SFTP_PASSWORD",
                    "--known-hosts",
                    str(known),
                    "--remote-dir",
                    "in",
                ],
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
            sftp_s, sftp_rss = run(env, "exports", "run", "sftp")
            ftp_s, ftp_rss = run(env, "exports", "run", "ftp")
            [produced] = list(ftp_root.iterdir())
            size = produced.stat().st_size
            floor_sftp = _sftp_floor(produced, sshd.port, sshd.password)
            floor_ftp = _ftp_floor(produced, ftp.port)
        print(
            f"| `exports run` {args.orders:,} orders ({size / 2**20:.0f} MiB CSV) to SFTP | "
            f"{sftp_s:.1f} s | {sftp_rss / 1024:.0f} MiB | paramiko put alone: "
            f"{floor_sftp:.1f} s |"
        )
        print(
            f"| `exports run` {args.orders:,} orders to FTP | {ftp_s:.1f} s | "
            f"{ftp_rss / 1024:.0f} MiB | ftplib storbinary alone: {floor_ftp:.1f} s |"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _sftp_floor(path: Path, port: int, password: str) -> float:
    started = time.perf_counter()
    transport = paramiko.Transport(("127.0.0.1", port))
    transport.connect(username="avasamsftp", password=password)
    sftp = paramiko.SFTPClient.from_transport(transport)
    assert sftp is not None
    sftp.put(str(path), "in/floor.csv")
    sftp.remove("in/floor.csv")
    transport.close()
    return time.perf_counter() - started


def _ftp_floor(path: Path, port: int) -> float:
    started = time.perf_counter()
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login(USER, PASSWORD)
    with path.open("rb") as handle:
        ftp.storbinary("STOR floor.csv", handle, blocksize=1 << 16)
    ftp.quit()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
