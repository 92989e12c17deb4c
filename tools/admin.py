"""``onestop-admin``: the operator's command (trust store, catalog, staff enrolment).

    onestop-admin [--stage local|dev|prod] trust list
    onestop-admin trust add FILE --kind root|intermediate|crl
    onestop-admin trust remove KEY
    onestop-admin catalog import FILE.json|FILE.csv
    onestop-admin principals add --role officer|clerk|supervisor|admin
                  (--cert FILE.pem | --fingerprint HEX | --identity NUMBER)
                  [--department CODE] [--display NAME] [--email ADDRESS]
    onestop-admin principals list
    onestop-admin principals remove KEY
    onestop-admin audit verify RECEIPT|login:SUBJECT [--json]

Against ``local`` it talks to the running local stack (``.local/stack.json``); against a cloud
stage it uses the stage's configuration and your AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIND_PREFIX = {"root": "roots/", "intermediate": "intermediates/", "crl": "crls/"}


def connect(stage: str, state_file: Path = ROOT / ".local" / "stack.json") -> None:
    """Point this process at a stage: its resource names and, for local, the embedded AWS."""
    from chalicelib import runtime

    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    os.environ.update(config["stages"][stage]["environment_variables"])
    if stage == "local":
        if not state_file.exists():
            raise SystemExit("no local stack is running (start it with `make run`)")
        state = json.loads(state_file.read_text(encoding="utf-8"))
        os.environ.update({"AWS_ENDPOINT_URL": state["aws_endpoint_url"],
                           "AWS_DEFAULT_REGION": state["region"], "AWS_REGION": state["region"]})
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    runtime.reset()
    runtime.ready()


def trust_key(kind: str, path: Path) -> str:
    """Object key of a trust store file."""
    return KIND_PREFIX[kind] + path.name


def check_trust_object(kind: str, data: bytes) -> str | None:
    """Why the verifier could not use ``data`` as a ``kind`` (None when it can)."""
    from cryptography import x509

    try:
        if kind == "crl":
            if b"-----BEGIN" in data:
                x509.load_pem_x509_crl(data)
            else:
                x509.load_der_x509_crl(data)
            return None
        certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                 else [x509.load_der_x509_certificate(data)])
    except ValueError as exc:
        return f"not a {kind} in PEM or DER ({exc})"
    for cert in certs:
        try:
            ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            ca = False
        if not ca:
            return f"{cert.subject.rfc4514_string()} is not a CA certificate"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onestop-admin", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", choices=["local", "dev", "prod"])
    parser.add_argument("--state-file", type=Path, default=ROOT / ".local" / "stack.json")
    sub = parser.add_subparsers(dest="area", required=True)
    trust = sub.add_parser("trust", help="roots, intermediates and CRLs the verifier trusts")
    tsub = trust.add_subparsers(dest="action", required=True)
    tsub.add_parser("list")
    t_add = tsub.add_parser("add")
    t_add.add_argument("file", type=Path)
    t_add.add_argument("--kind", required=True, choices=sorted(KIND_PREFIX))
    t_remove = tsub.add_parser("remove")
    t_remove.add_argument("key")
    catalog = sub.add_parser("catalog", help="service items")
    csub = catalog.add_subparsers(dest="action", required=True)
    c_import = csub.add_parser("import")
    c_import.add_argument("file", type=Path)
    add_principals_parser(sub)
    add_audit_parser(sub)
    args = parser.parse_args(argv)
    connect(args.stage, args.state_file)

    from chalicelib import storage
    from chalicelib.names import Bucket
    from chalicelib.settings import get_settings

    settings = get_settings()
    if args.area == "trust":
        bucket = settings.bucket(Bucket.TRUST)
        if args.action == "list":
            for prefix in KIND_PREFIX.values():
                for key in storage.list_keys(bucket, prefix):
                    print(key)
        elif args.action == "add":
            data = args.file.read_bytes()
            problem = check_trust_object(args.kind, data)
            if problem:
                raise SystemExit(f"refused {args.file}: {problem}")
            key = trust_key(args.kind, args.file)
            storage.put(bucket, key, data)
            print(f"added {key}; the verifier picks it up within 60 seconds")
        else:
            storage.delete(bucket, args.key)
            print(f"removed {args.key}; the verifier drops it within 60 seconds")
    elif args.area == "catalog":
        from chalicelib.catalog import import_catalog
        from chalicelib.store import catalog as catalog_store

        items = import_catalog(args.file)
        count = catalog_store.publish([item.to_dict() for item in items])
        print(f"published {count} service items")
    elif args.area == "principals":
        return principals_command(args)
    elif args.area == "audit":
        return audit_command(args)
    return 0


# ---------------------------------------------------------------------------- staff enrolment

STAFF_ROLES = ("officer", "clerk", "supervisor", "admin")


def add_principals_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``principals``: enrol staff by certificate (fingerprint) or identity number."""
    staff = sub.add_parser("principals", help="staff enrolled for certificate login")
    psub = staff.add_subparsers(dest="action", required=True)
    p_add = psub.add_parser("add")
    p_add.add_argument("--role", required=True, choices=STAFF_ROLES)
    which = p_add.add_mutually_exclusive_group(required=True)
    which.add_argument("--cert", type=Path, help="the staff member's certificate (PEM or DER)")
    which.add_argument("--fingerprint", help="SHA-256 fingerprint of the certificate (hex)")
    which.add_argument("--identity", help="resident ID number the certificate carries "
                                          "(stored only as an HMAC)")
    p_add.add_argument("--department", help="department code (officers)")
    p_add.add_argument("--display", default="", help="name shown in the case log")
    p_add.add_argument("--email", help="where new tasks and deadline warnings are emailed")
    psub.add_parser("list")
    p_remove = psub.add_parser("remove")
    p_remove.add_argument("key", help="fp:… or id:… as `principals list` shows it")


def certificate_fingerprint(data: bytes) -> str:
    """SHA-256 of a certificate's DER (the verifier's signer fingerprint)."""
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data))
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def principals_command(args: argparse.Namespace) -> int:
    """Run ``principals add|list|remove`` against the connected stage."""
    from datetime import UTC, datetime

    from chalicelib import runtime
    from chalicelib.catalog import department_by_code
    from chalicelib.errors import ClientError
    from chalicelib.login import staff_identity_key
    from chalicelib.store import principals

    if args.action == "list":
        for found in sorted(principals.every(), key=lambda e: (e.role, e.principal)):
            print(f"{found.principal}\t{found.role}\t{found.department or '-'}\t"
                  f"{found.display}\t{found.email or '-'}")
        return 0
    if args.action == "remove":
        if principals.remove(args.key):
            print(f"removed {args.key}; tokens already issued expire within 30 minutes")
            return 0
        print(f"no enrolment {args.key}", file=sys.stderr)
        return 1
    if (args.role == "officer") != bool(args.department):
        raise SystemExit("officers need --department, and only officers have one")
    if args.department and department_by_code(args.department) is None:
        raise SystemExit(f"unknown department {args.department!r}")
    if args.cert:
        key = principals.fingerprint_key(certificate_fingerprint(args.cert.read_bytes()))
    elif args.fingerprint:
        key = principals.fingerprint_key(args.fingerprint)
    else:
        try:
            key = principals.identity_key(staff_identity_key(runtime.ready(), args.identity))
        except ClientError as exc:  # InvalidIdNumber: what is wrong, never the number
            raise SystemExit(f"invalid identity number: {exc.message_en}") from None
    enrolled = principals.enrol(key, args.role, department=args.department,
                                display=args.display, email=args.email, now=datetime.now(UTC))
    print(f"enrolled {enrolled.principal} as {enrolled.role}"
          + (f" of {enrolled.department}" if enrolled.department else ""))
    return 0


# ---------------------------------------------------------------------------- audit trail


def add_audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``audit verify``: check a case's hash chain and its KMS-signed heads."""
    audit = sub.add_parser("audit", help="the tamper-evident audit trail")
    asub = audit.add_subparsers(dest="action", required=True)
    verify = asub.add_parser("verify", help="check a chain; report its first broken link")
    verify.add_argument("chain", help="a receipt, or login:<subject> for a person's logins")
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")


def audit_command(args: argparse.Namespace) -> int:
    """Run ``audit verify`` against the connected stage; exit 1 when the chain is broken."""
    from chalicelib import audit, runtime

    verdict = audit.verify_chain(runtime.ready(), args.chain)
    if args.json:
        print(json.dumps(verdict.as_dict(), ensure_ascii=False))
    elif verdict.records == 0:
        print(f"{args.chain}: no audit records")
    elif verdict.ok:
        print(f"{args.chain}: OK, {verdict.records} records, "
              f"{verdict.heads} signed heads verified")
    else:
        print(f"{args.chain}: BROKEN at record {verdict.first_broken}: {verdict.reason} "
              f"({verdict.records} records, {verdict.heads} signed heads)")
    return 0 if verdict.ok and verdict.records else 1


if __name__ == "__main__":
    sys.exit(main())
