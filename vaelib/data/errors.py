"""The errors of `vaelib.data`: what a user may catch, and one internal signal."""


class DataUnavailableError(RuntimeError):
    """No source could provide the data set; the message says which sources failed and why."""


class CorruptFileError(ValueError):
    """A data file is truncated, corrupt, of the wrong type or not the expected file."""


class SourceFailed(Exception):
    """One source could not provide the data: a reason to try the next, not a user error."""
