"""Large results (and task input data) in the stack's private S3 bucket."""

from __future__ import annotations

from typing import Any

from longhaul.adapters._aws import AwsAdapter
from longhaul.models import ResultRef

RESULTS_PREFIX = "results/"


class S3Blobs(AwsAdapter):
    service = "s3"

    def __init__(self, bucket: str, client: Any = None):
        super().__init__(client)
        self.bucket = bucket

    def put_result(self, task_id: str, body: bytes) -> ResultRef:
        key = f"{RESULTS_PREFIX}{task_id}.json"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return ResultRef(bucket=self.bucket, key=key, size_bytes=len(body))

    def get(self, ref: ResultRef) -> bytes:
        return bytes(self.client.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read())

    def download_url(self, ref: ResultRef, expires_seconds: int) -> str:
        """A presigned GET URL: the caller downloads a result too large for an MCP response directly."""
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": ref.bucket, "Key": ref.key}, ExpiresIn=expires_seconds
            )
        )

    def size(self, key: str) -> int:
        return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def read_range(self, key: str, start: int, end_inclusive: int) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end_inclusive}")
        return bytes(response["Body"].read())
