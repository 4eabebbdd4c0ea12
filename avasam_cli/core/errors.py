"""The one error hierarchy. The CLI turns every AvasamError into `Error: ...` and exit 1."""


class AvasamError(Exception):
    """An expected failure: the message is shown to the user as it is, so it must say
    what is wrong and what to do, and must never contain a secret."""


class NotFound(AvasamError):
    pass


class InvalidInput(AvasamError):
    pass


class NotAllowed(AvasamError):
    """The lifecycle (or another business rule) forbids the requested change."""


class Conflict(AvasamError):
    """Something with the same identity already exists."""


class SchemaOutdated(AvasamError):
    pass


class RemoteError(AvasamError):
    """A remote server (channel API, FTP/SFTP) failed."""


class InvalidRows(InvalidInput):
    """A file had bad rows; `problems` lists each as `line N, column C: what is wrong`."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def no_channel(name: str) -> NotFound:
    """The one "not found" of a channel name (the lookups of services/lookup.py, the light
    read path and the pull)."""
    return NotFound(f"no channel {name!r}; see `avasam channels list`")


def no_supplier(code: str) -> NotFound:
    return NotFound(f"no supplier {code!r}; see `avasam suppliers list`")


def printable(text: str) -> str:
    """Text fit for a terminal line: control characters, lone surrogates (bytes that were
    not UTF-8) and other unprintables written as escapes, e.g. 'a\\x1b[31m.csv'."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def describe_unexpected(exc: BaseException) -> str:
    """`Type: first line of the message` for an exception nobody foresaw, safe to show.

    A database error's text carries its SQL and parameters (addresses, names), so only
    the driver's own message (`.orig`) is used, and only its first line; control
    characters are escaped and the line is cut short."""
    source = getattr(exc, "orig", None) or exc
    try:
        text = str(source).strip()
    except Exception:  # a __str__ that itself fails
        text = ""
    line = text.splitlines()[0] if text else ""
    line = printable(line)
    if len(line) > _MAX_DETAIL:
        line = line[: _MAX_DETAIL - 3] + "..."
    name = type(exc).__name__
    return f"{name}: {line}" if line else name


_MAX_DETAIL = 200
