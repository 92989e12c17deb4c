"""Attachment uploads: a presigned S3 PUT per material, bounded in size and type.

The applicant signs each attachment's SHA-256 and size inside the application; the verify step
checks the stored object against them, so the presigned URL needs no further trust.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from chalicelib import storage
from chalicelib.errors import ClientError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "application/ofd",
                           "application/json", "text/plain"})
EXPIRES_SECONDS = 900
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class UploadError(ClientError):
    """The upload request is not acceptable."""

    code = "INVALID_UPLOAD"


def object_key(upload_id: str) -> str:
    """Where an upload's bytes live in the uploads bucket."""
    return f"uploads/{upload_id}"


def new_upload(request: Any, bucket: str) -> dict[str, Any]:
    """Check an upload request ``{name, content_type, size[, sha256]}``; answer a presigned PUT."""
    if not isinstance(request, dict):
        raise UploadError("请求体必须是JSON对象", "the body must be a JSON object")
    name = request.get("name")
    content_type = request.get("content_type")
    size = request.get("size")
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise UploadError("材料名称不正确", "name must be 1-200 characters", code="INVALID_NAME")
    if content_type not in ALLOWED_TYPES:
        raise UploadError("不支持的文件类型", "content type not allowed", code="UNSUPPORTED_TYPE",
                          status=415, details={"allowed": sorted(ALLOWED_TYPES)})
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_UPLOAD_BYTES:
        raise UploadError("文件大小超出限制", "size must be between 1 byte and 20 MB",
                          code="UPLOAD_TOO_LARGE", status=413,
                          details={"max_bytes": MAX_UPLOAD_BYTES})
    sha = request.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.match(sha)):
        raise UploadError("sha256 格式不正确", "sha256 must be 64 hex digits",
                          code="INVALID_SHA256")
    upload_id = secrets.token_urlsafe(18)
    url = storage.presign_put(bucket, object_key(upload_id), content_type=content_type,
                              expires=EXPIRES_SECONDS)
    return {"upload_id": upload_id, "url": url, "method": "PUT",
            "headers": {"Content-Type": content_type}, "expires_in": EXPIRES_SECONDS,
            "max_bytes": MAX_UPLOAD_BYTES}
