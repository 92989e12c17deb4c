"""Errors of the signature package."""

from __future__ import annotations

from chalicelib.errors import OnestopError


class SignatureError(OnestopError):
    """Base of the errors the signature package raises."""


class MalformedSignature(SignatureError):
    """The bytes are not a detached CMS SignedData with exactly one signer."""
