"""Exceptions raised by invariance.

Every error subclasses the built-in exception that Albumentations users already catch
(``ValueError`` or ``TypeError``), so existing ``except`` clauses keep working.
"""

from __future__ import annotations


class InvarianceError(Exception):
    """Base class of every error raised on purpose by invariance."""


class ParameterError(InvarianceError, ValueError):
    """A transform or composition was constructed with an invalid argument."""


class InputError(InvarianceError, ValueError):
    """The data passed to a pipeline call is malformed (shape, range, missing field...)."""


class InputTypeError(InvarianceError, TypeError):
    """The data passed to a pipeline call has the wrong type or dtype."""


class SerializationError(InvarianceError, ValueError):
    """A policy file or dictionary cannot be turned into a pipeline."""


class ImageFileError(InvarianceError, ValueError):
    """An image file or buffer cannot be read: unknown format, damaged header, undecodable pixels."""


class ImageTooLargeError(ImageFileError):
    """An image whose header announces more pixels than the reader's limit (refused before decoding)."""


def describe(value: object, limit: int = 80) -> str:
    """A short, single-line representation of ``value`` for error messages."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
