"""What every adapter shares: a boto3 client made on first use, or the one a test hands in."""

from __future__ import annotations

from typing import Any, ClassVar

import boto3

from longhaul.faults import boto_config


class AwsAdapter:
    service: ClassVar[str]

    def __init__(self, client: Any = None):
        self._client = client

    @property
    def client(self) -> Any:
        # Built lazily: no connection exists at import (cold start, SnapStart snapshot) until a request needs one.
        if self._client is None:
            self._client = boto3.client(self.service, config=boto_config())
        return self._client
