"""One family of errors, each with a message a user can act on.

The core never prints or exits: it raises one of these and the caller (CLI,
GUI worker, test) decides how to show it.
"""

from __future__ import annotations


class AugbenchError(Exception):
    """Base class for every error augbench raises on purpose."""


class ConfigError(AugbenchError):
    """A job configuration has an unknown key or a bad value.

    ``field`` names the offending field so that a GUI can highlight it and a
    CLI can print it next to the allowed range.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnknownKindError(ConfigError):
    """A job or registry entry name that is not registered."""


class ImageReadError(AugbenchError):
    """An image file could not be decoded (corrupt, truncated, empty, unsupported)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class LabelFormatError(AugbenchError):
    """A label file (YOLO txt, VOC xml, COCO json) could not be parsed.

    Carries the file and, where known, the line so the user can fix it; the
    file itself is never overwritten because of this error.
    """

    def __init__(self, path: object, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


class WeightsError(AugbenchError):
    """Model weights are missing, of the wrong shape, or unsafe to load."""


class DependencyError(AugbenchError):
    """A program or package the job needs is not installed (says what to install)."""


class DatasetError(AugbenchError):
    """A data set folder is missing, empty, or not in a layout augbench reads."""


class Cancelled(AugbenchError):
    """Raised by ``CancelToken.check()`` when the user asked to stop.

    Runners let it propagate from a safe point (between two files, between two
    training steps) so that nothing half-written is left behind.
    """
