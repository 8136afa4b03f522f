"""Large results and task input data in the stack's private S3 bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from longhaul.adapters._aws import AwsAdapter
from longhaul.errors import InputNotFound

if TYPE_CHECKING:  # the type only: the worker's step that writes a large result builds one, on demand
    from longhaul.models import ResultRef

RESULTS_PREFIX = "results/"
# S3 answers 403 instead of 404 for a missing key when the caller may not list the bucket: both mean "not there".
_NOT_FOUND = {"403", "404", "AccessDenied", "NoSuchKey", "NotFound", "Forbidden"}


class S3Blobs(AwsAdapter):
    service = "s3"

    def __init__(self, bucket: str, client: Any = None):
        super().__init__(client)
        self.bucket = bucket
        self._presigner: Any = None

    @property
    def presigner(self) -> Any:
        """The client that signs URLs: SigV4 always. A default client in us-east-1 still presigns SigV2
        (``AWSAccessKeyId``/``Expires``), which S3 rejects for newer buckets and regions. Signing is local, so
        this client never calls AWS; it shares the region and settings of the one that does."""
        if self._presigner is None:
            meta = self.client.meta
            self._presigner = boto3.client(
                "s3",
                region_name=meta.region_name,
                config=meta.config.merge(Config(signature_version="s3v4")),
            )
        return self._presigner

    def put_result(self, task_id: str, body: bytes) -> ResultRef:
        from longhaul.models import ResultRef

        key = f"{RESULTS_PREFIX}{task_id}.json"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return ResultRef(bucket=self.bucket, key=key, size_bytes=len(body))

    def get(self, ref: ResultRef) -> bytes:
        return bytes(self.client.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read())

    def download_url(self, ref: ResultRef, expires_seconds: int) -> str:
        """A presigned GET URL: the caller downloads a result too large for an MCP response directly."""
        return str(
            self.presigner.generate_presigned_url(
                "get_object", Params={"Bucket": ref.bucket, "Key": ref.key}, ExpiresIn=expires_seconds
            )
        )

    def upload_url(self, key: str, content_type: str | None, expires_seconds: int) -> str:
        """A presigned PUT URL for one key. With a content type, the upload must send that same Content-Type."""
        params = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ContentType"] = content_type
        return str(self.presigner.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_seconds))

    def size(self, key: str) -> int:
        """Size of an input object; a missing or forbidden key raises InputNotFound (the same for both)."""
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as error:
            raise _translated(error, key) from None

    def read_range(self, key: str, start: int, end_inclusive: int) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end_inclusive}")
        except ClientError as error:
            raise _translated(error, key) from None
        return bytes(response["Body"].read())


def _translated(error: ClientError, key: str) -> Exception:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    if code in _NOT_FOUND or status in {"403", "404"}:
        return InputNotFound(key)
    return error
