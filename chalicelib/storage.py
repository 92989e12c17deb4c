"""S3: application bytes, uploaded materials, trust store objects, licences and evidence."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError as BotoClientError

from chalicelib.clients import client


def put(bucket: str, key: str, body: bytes, *, content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None) -> None:
    """Store an object (buckets are encrypted by default in the template)."""
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                            Metadata=metadata or {})


def get(bucket: str, key: str) -> bytes:
    """Read a whole object."""
    return bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def head(bucket: str, key: str) -> dict[str, Any] | None:
    """Metadata of an object, or None if it does not exist."""
    try:
        return dict(client("s3").head_object(Bucket=bucket, Key=key))
    except BotoClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def delete(bucket: str, key: str) -> None:
    """Delete an object (its versions stay in a versioned bucket)."""
    client("s3").delete_object(Bucket=bucket, Key=key)


def list_keys(bucket: str, prefix: str = "") -> list[str]:
    """Every key under ``prefix``."""
    keys: list[str] = []
    paginator = client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def presign_put(bucket: str, key: str, *, content_type: str, expires: int = 900) -> str:
    """A presigned PUT URL for one upload; the client must send the same Content-Type."""
    return str(client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=expires, HttpMethod="PUT"))


def presign_get(bucket: str, key: str, *, expires: int = 300) -> str:
    """A presigned GET URL for reading one object."""
    return str(client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires))
