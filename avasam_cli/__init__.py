"""avasam: a dropshipping seller's order lifecycle at the command line.

The version lives in the package metadata (setup.cfg): `avasam --version` reads it.
"""
