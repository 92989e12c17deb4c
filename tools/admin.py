"""``onestop-admin``: the operator's command (trust store, catalog, staff enrolment).

    onestop-admin [--stage local|dev|prod] trust list
    onestop-admin trust add FILE --kind root|intermediate|crl
    onestop-admin trust remove KEY
    onestop-admin catalog import FILE.json|FILE.csv

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
            from chalicelib.signature import TrustStore

            data = args.file.read_bytes()
            key = trust_key(args.kind, args.file)
            TrustStore.from_objects({key: data})  # refuse what the verifier could not read
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
