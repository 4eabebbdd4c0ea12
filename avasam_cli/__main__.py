from avasam_cli.main import run

run()
