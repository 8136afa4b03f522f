"""Per-owner inputs: prefixes that never merge two owners, filenames that stay one key segment, and reads where a
missing key, a forbidden one (S3's 403) and another owner's one all answer the same. S3 errors are injected at
the boto3 call with botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from longhaul.adapters.s3 import S3Blobs
from longhaul.errors import InputNotFound, InvalidTaskParams
from longhaul.inputs import OwnerInputs, input_key, input_prefix, safe_filename

BUCKET = "longhaul-test-results"


def stubbed() -> tuple[S3Blobs, Stubber]:
    client = boto3.client("s3", region_name="us-east-1")
    return S3Blobs(BUCKET, client), Stubber(client)


def test_an_owner_prefix_is_a_plain_key_segment_for_any_owner():
    for owner in ["alice", "a.b", "a_b", "用户", "🙂", "../..", "a/b:c@d", "x" * 5000, "\ud800"]:
        prefix = input_prefix(owner)
        assert prefix.startswith("inputs/") and prefix.endswith("/") and len(prefix) == 40
        assert prefix[7:39].isalnum() and prefix[7:39].isascii()
    assert len({input_prefix(o) for o in ["a.b", "a_b", "a-b", "a@b", "A.b"]}) == 5


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("sales-2026.csv", "sales-2026.csv"),
        ("my file (1).csv", "my_file_1_.csv"),
        ("../../etc/passwd", "_._etc_passwd"),
        (".hidden", "hidden"),
        ("données.csv", "donn_es.csv"),
    ],
)
def test_filenames_become_one_safe_key_segment(filename, expected):
    assert safe_filename(filename) == expected
    assert input_key("alice", filename) == input_prefix("alice") + expected


@pytest.mark.parametrize("filename", ["", "..", "///", "🙂"])
def test_a_filename_with_no_letter_or_digit_is_refused(filename):
    with pytest.raises(InvalidTaskParams, match="filename"):
        safe_filename(filename)


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("head_object", "404", 404),
        ("head_object", "403", 403),  # HEAD has no body: S3 says only the status
        ("get_object", "NoSuchKey", 404),
        ("get_object", "AccessDenied", 403),
    ],
)
def test_missing_and_forbidden_inputs_answer_alike(operation, code, status):
    blobs, stub = stubbed()
    stub.add_client_error(operation, service_error_code=code, http_status_code=status)
    key = input_key("alice", "data.csv")
    with stub, pytest.raises(InputNotFound) as raised:
        if operation == "head_object":
            blobs.size(key)
        else:
            blobs.read_range(key, 0, 9)
    assert str(raised.value) == str(InputNotFound(key))


def test_other_s3_errors_are_not_disguised_as_missing():
    blobs, stub = stubbed()
    stub.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
    with stub, pytest.raises(ClientError):
        blobs.size(input_key("alice", "data.csv"))


def test_owner_inputs_never_ask_s3_about_a_key_outside_the_owners_prefix():
    blobs, stub = stubbed()  # no responses queued: any S3 call would fail the test
    bobs = OwnerInputs(blobs, "bob")
    for key in [
        input_key("alice", "data.csv"),
        input_prefix("bob"),
        input_prefix("bob") + "../" + input_key("alice", "data.csv"),
        "inputs/data.csv",
        "results/task.json",
    ]:
        with stub, pytest.raises(InputNotFound) as raised:
            bobs.size(key)
        assert str(raised.value) == str(InputNotFound(key))
    stub.assert_no_pending_responses()


def test_owner_inputs_read_the_owners_own_file():
    blobs, stub = stubbed()
    key = input_key("bob", "data.csv")
    stub.add_response("head_object", {"ContentLength": 5}, {"Bucket": BUCKET, "Key": key})
    with stub:
        assert OwnerInputs(blobs, "bob").size(key) == 5
