"""avasam: a dropshipping seller's order lifecycle at the command line."""

__version__ = "0.1.0"
