"""Task inputs: files a caller uploads under their own key prefix, and the only reader kinds get for them.

Every owner has a prefix derived from a hash of the owner string, so it is a valid S3 key for any owner
(unicode, '/', '..', very long) and two owners never share one (no naive sanitising that maps ``a.b`` and
``a_b`` together). Reads check the prefix before S3 is asked, and a foreign key answers exactly like a
missing one.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

from longhaul.errors import InputNotFound, InvalidTaskParams

INPUTS_PREFIX = "inputs/"
MAX_FILENAME_CHARS = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")


def input_prefix(owner: str) -> str:
    """``inputs/<32 hex chars>/``: 128 bits of SHA-256 over the owner (lone surrogates kept, not dropped)."""
    digest = hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{INPUTS_PREFIX}{digest[:32]}/"


def safe_filename(filename: str) -> str:
    """A file name that is one plain S3 key segment: letters, digits, '.', '_' and '-' (runs of anything else
    become '_', of dots one '.'), no leading dot, at most 200 characters. Raises InvalidTaskParams when nothing
    usable is left."""
    name = _DOTS.sub(".", _UNSAFE.sub("_", filename)).lstrip(".")[:MAX_FILENAME_CHARS]
    if not re.search(r"[A-Za-z0-9]", name):
        raise InvalidTaskParams(
            "filename must contain at least one letter or digit (allowed: letters, digits, '.', '_', '-')"
        )
    return name


def input_key(owner: str, filename: str) -> str:
    return input_prefix(owner) + safe_filename(filename)


class InputReader(Protocol):
    """Read access to one owner's inputs. Both methods raise InputNotFound for a missing or foreign key."""

    def size(self, key: str) -> int: ...
    def read_range(self, key: str, start: int, end_inclusive: int) -> bytes: ...


class OwnerInputs:
    """An InputReader confined to ``input_prefix(owner)``."""

    def __init__(self, blobs: InputReader, owner: str):
        """``blobs`` reads any key of the bucket (S3Blobs: 403 and 404 both raise InputNotFound)."""
        self._blobs = blobs
        self._prefix = input_prefix(owner)

    def _checked(self, key: str) -> str:
        if not key.startswith(self._prefix) or len(key) == len(self._prefix) or ".." in key:
            raise InputNotFound(key)
        return key

    def size(self, key: str) -> int:
        return self._blobs.size(self._checked(key))

    def read_range(self, key: str, start: int, end_inclusive: int) -> bytes:
        return self._blobs.read_range(self._checked(key), start, end_inclusive)
