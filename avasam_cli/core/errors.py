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
