"""``onestop``: the command-line client citizens, companies and integrators use.

    onestop submit application.json --cert me.pem --key me.key [--chain chain.pem]
                   [--attach file.pdf[:材料名称] ...] [--api URL]
    onestop sign application.json --p12 me.p12 --password … -o envelope.json
    onestop upload file.pdf --name 营业执照
    onestop track RECEIPT CODE

The signature is a detached CMS SignedData over exactly the payload bytes, the same as
``openssl cms -sign -binary -outform DER`` makes (SM2 keys get SM2/SM3 with the default signer
id). ``signed_at`` and ``nonce`` are filled in when the application file leaves them out.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import secrets
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
CHINA = timezone(timedelta(hours=8))


def default_api() -> str:
    """The local stack's API if one is running from this checkout, else the default port."""
    state = ROOT / ".local" / "stack.json"
    if state.exists():
        return str(json.loads(state.read_text(encoding="utf-8"))["api_url"])
    return "http://127.0.0.1:8000"


def load_identity(args: argparse.Namespace) -> tuple[bytes, bytes, list[bytes]]:
    """Certificate, key and chain (PEM) from ``--cert/--key/--chain`` or ``--p12``."""
    from tools.signing import load_pkcs12

    if args.p12:
        password = args.password.encode() if args.password else None
        cert, key, chain = load_pkcs12(Path(args.p12).read_bytes(), password)
        return cert, key, list(chain)
    if not (args.cert and args.key):
        raise SystemExit("give --cert and --key (PEM), or --p12")
    chain = [Path(p).read_bytes() for p in (args.chain or [])]
    return Path(args.cert).read_bytes(), Path(args.key).read_bytes(), chain


def envelope(payload: bytes, cert: bytes, key: bytes, chain: list[bytes], *,
             signed_attributes: bool = True, wrapper: str = "pkcs7") -> dict[str, str]:
    """The contract's envelope for ``payload`` signed with ``cert``/``key``."""
    from tools.signing import sign_detached

    signature = sign_detached(payload, cert, key, chain, signed_attributes=signed_attributes,
                              wrapper=wrapper)  # type: ignore[arg-type]
    return {"payload": base64.b64encode(payload).decode(),
            "signature": base64.b64encode(signature).decode()}


def complete(application: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Fill ``signed_at`` and ``nonce`` when absent."""
    application = dict(application)
    application.setdefault("signed_at", (now or datetime.now(CHINA)).isoformat(timespec="seconds"))
    application.setdefault("nonce", secrets.token_hex(12))
    return application


def upload(api: str, path: Path, name: str) -> dict[str, Any]:
    """Upload one file through a presigned PUT; returns its ``attachments`` entry."""
    data = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    digest = hashlib.sha256(data).hexdigest()
    answer = requests.post(f"{api}/uploads", json={"name": name, "content_type": content_type,
                                                   "size": len(data), "sha256": digest},
                           timeout=30)
    _check(answer)
    grant = answer.json()
    put = requests.put(grant["url"], data=data, headers=grant["headers"], timeout=120)
    put.raise_for_status()
    return {"upload_id": grant["upload_id"], "name": name, "sha256": digest, "size": len(data)}


def _check(answer: requests.Response) -> None:
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
            message = f"{error['code']}: {error['message']} ({error.get('message_en', '')})"
        except (ValueError, KeyError, TypeError):
            message = answer.text[:500]
        raise SystemExit(f"HTTP {answer.status_code} {message}")


def _identity_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cert", help="signer certificate (PEM)")
    parser.add_argument("--key", help="signer private key (PEM)")
    parser.add_argument("--chain", action="append", help="intermediate certificates (PEM)")
    parser.add_argument("--p12", help="PKCS#12 file holding certificate, key and chain")
    parser.add_argument("--password", help="PKCS#12 password")
    parser.add_argument("--no-attrs", action="store_true",
                        help="sign without signed attributes (like openssl cms -noattr)")
    parser.add_argument("--wrapper", choices=["pkcs7", "gmt0010"], default="pkcs7",
                        help="CMS OIDs: PKCS#7 (default) or GM/T 0010")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onestop", description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=None, help="API base URL (default: the local stack)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_sign = sub.add_parser("sign", help="sign an application into an envelope")
    p_sign.add_argument("application", type=Path)
    p_sign.add_argument("-o", "--output", type=Path)
    _identity_args(p_sign)
    p_submit = sub.add_parser("submit", help="upload attachments, sign and submit")
    p_submit.add_argument("application", type=Path)
    p_submit.add_argument("--attach", action="append", default=[],
                          help="FILE[:NAME] attachment (NAME: the material's code or name)")
    _identity_args(p_submit)
    p_upload = sub.add_parser("upload", help="upload one attachment")
    p_upload.add_argument("file", type=Path)
    p_upload.add_argument("--name", required=True, help="material code or name")
    p_track = sub.add_parser("track", help="where does my application stand?")
    p_track.add_argument("receipt")
    p_track.add_argument("code")
    args = parser.parse_args(argv)
    api = (args.api or default_api()).rstrip("/")

    if args.command == "upload":
        print(json.dumps(upload(api, args.file, args.name), ensure_ascii=False, indent=2))
        return 0
    if args.command == "track":
        answer = requests.get(f"{api}/track/{args.receipt}", params={"code": args.code},
                              timeout=30)
        _check(answer)
        print(json.dumps(answer.json(), ensure_ascii=False, indent=2))
        return 0
    application = complete(json.loads(args.application.read_text(encoding="utf-8")))
    if args.command == "submit":
        for spec in args.attach:
            file, _, name = spec.partition(":")
            application.setdefault("attachments", []).append(
                upload(api, Path(file), name or Path(file).name))
    payload = json.dumps(application, ensure_ascii=False, sort_keys=True).encode()
    cert, key, chain = load_identity(args)
    body = envelope(payload, cert, key, chain, signed_attributes=not args.no_attrs,
                    wrapper=args.wrapper)
    if args.command == "sign":
        text = json.dumps(body, indent=2)
        if args.output:
            args.output.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    answer = requests.post(f"{api}/applications", json=body, timeout=60)
    _check(answer)
    print(json.dumps(answer.json(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
