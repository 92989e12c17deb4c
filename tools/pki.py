"""A demo and test PKI, made with the ``openssl`` command line (3.0 or later).

``build_pki(directory)`` writes, once per directory, a trusted RSA root with an intermediate
CA and the end-entity certificates the verifier must tell apart (valid RSA and EC citizens, a
company, an officer, expired, not yet valid, revoked, no signing key usage, issued by an
untrusted root), CRLs from both CAs, and an SM2/SM3 root, intermediate and citizen made with
the GM/T 0009 signer ID ``1234567812345678``. The same builder serves the test suite and
``make run`` (the demo PKI under ``.local/``), so it is plain importable code with a small CLI::

    python -m tools.pki DIR

The structure (names, files, subjects, extensions) is fixed; keys are fresh and dates are
relative to the build time, recorded in ``pki.json``. A directory already built is reused
until its CRLs come within a month of their nextUpdate.

Why the command line rather than a Python library: the PKI must look like what real CAs and
citizens' tools produce, and openssl is the reference the verifier is tested against.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import load_pem_x509_certificates

MANIFEST = "pki.json"
MANIFEST_VERSION = 3
SM2_SIGNER_ID = "1234567812345678"
P12_PASSWORD = "onestop-demo"  # noqa: S105 - a demo PKI, its password is documentation
# Rebuild a cached PKI when its CRLs have less than this left before nextUpdate.
CRL_MARGIN = timedelta(days=30)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first17: str) -> str:
    """A GB 11643 resident ID number: ``first17`` digits plus the ISO 7064 MOD 11-2 check."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("a resident ID number has 17 digits before its check character")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]


def social_credit_code(first17: str) -> str:
    """A GB 32100 unified social credit code: ``first17`` characters plus the MOD 31 check.

    Characters 9 to 17 are the GB 11714 organisation code, whose own last character is a
    check (MOD 11) over the eight before it; give 16 characters to have it computed too.
    """
    if len(first17) == 16:
        body = first17[8:16]
        total = sum(_org_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
        check = 11 - total % 11
        first17 += {10: "X", 11: "0"}.get(check, str(check))
    if len(first17) != 17 or any(c not in _USCC_CHARS for c in first17):
        raise ValueError("a unified social credit code has 17 characters before its check")
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


@dataclass(frozen=True)
class Identity:
    """One end-entity certificate with its key (PEM files) and the chain above it."""

    name: str
    cert: Path
    key: Path
    chain: Path  # the intermediates, leaf-side first (PEM); empty for a cert under a root
    id_number: str
    p12: Path | None = None

    def cert_pem(self) -> bytes:
        """The certificate (PEM)."""
        return self.cert.read_bytes()

    def key_pem(self) -> bytes:
        """The private key (PKCS#8 PEM, unencrypted: this is a demo PKI)."""
        return self.key.read_bytes()

    def chain_pems(self) -> list[bytes]:
        """The intermediates as one PEM blob each (empty when issued by a root)."""
        data = self.chain.read_bytes()
        if not data.strip():
            return []
        return [cert.public_bytes(Encoding.PEM) for cert in load_pem_x509_certificates(data)]


@dataclass(frozen=True)
class Pki:
    """Paths of everything ``build_pki`` made. ``reference_time`` is when it was built."""

    directory: Path
    reference_time: datetime
    root: Path
    intermediate: Path
    root_crl: Path
    intermediate_crl: Path
    sm2_root: Path
    sm2_intermediate: Path
    sm2_root_crl: Path
    sm2_intermediate_crl: Path
    untrusted_root: Path
    identities: dict[str, Identity] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Identity:
        return self.identities[name]

    @property
    def crl_next_update(self) -> datetime:
        """When the CRLs stop being current."""
        return self.reference_time + _CRL_LIFETIME

    def trust_objects(self, *, crls: bool = True, sm2: bool = True) -> dict[str, bytes]:
        """The trust bucket's content for this PKI: ``roots/``, ``intermediates/``, ``crls/``.

        The untrusted root is, on purpose, not among them.
        """
        objects = {"roots/onestop-root.pem": self.root.read_bytes(),
                   "intermediates/onestop-citizen-ca.pem": self.intermediate.read_bytes()}
        if crls:
            objects["crls/onestop-root.crl"] = self.root_crl.read_bytes()
            objects["crls/onestop-citizen-ca.crl"] = self.intermediate_crl.read_bytes()
        if sm2:
            objects["roots/onestop-sm2-root.pem"] = self.sm2_root.read_bytes()
            objects["intermediates/onestop-sm2-ca.pem"] = self.sm2_intermediate.read_bytes()
            if crls:
                objects["crls/onestop-sm2-root.crl"] = self.sm2_root_crl.read_bytes()
                objects["crls/onestop-sm2-ca.crl"] = self.sm2_intermediate_crl.read_bytes()
        return objects


# --- the fixed structure -------------------------------------------------------------------

_CRL_LIFETIME = timedelta(days=365)

# (name, key algorithm, issuer, subject fields, extension section, id number, validity)
# Validity is (days from build time to notBefore, days to notAfter).
_VALID = (-365, 5 * 365)
_LEAVES: tuple[tuple[str, str, str, tuple[tuple[str, str], ...], str, str,
                     tuple[int, int]], ...] = (
    ("rsa_citizen", "rsa", "ca", (("O", "个人"), ("CN", "张三")), "signer",
     resident_id("11010519491231002"), _VALID),
    ("ec_citizen", "p256", "ca", (("O", "个人"), ("CN", "李四")), "signer",
     resident_id("44120319850716081"), _VALID),
    ("ec384_citizen", "p384", "ca", (("O", "个人"), ("CN", "王五")), "signer",
     resident_id("44120219900101123"), _VALID),
    ("company", "p256", "ca", (("O", "肇庆市某某科技有限公司"), ("CN", "肇庆市某某科技有限公司")),
     "signer", social_credit_code("9144120061788230"), _VALID),
    ("officer", "p256", "ca", (("O", "肇庆市政务服务中心"), ("OU", "审批科"), ("CN", "赵六")),
     "signer", resident_id("44120319800202004"), _VALID),
    ("expired", "p256", "ca", (("O", "个人"), ("CN", "钱七")), "signer",
     resident_id("44120319750505005"), (-5 * 365, -365)),
    ("not_yet_valid", "p256", "ca", (("O", "个人"), ("CN", "孙八")), "signer",
     resident_id("44120319950909006"), (365, 3 * 365)),
    ("revoked", "p256", "ca", (("O", "个人"), ("CN", "周九")), "signer",
     resident_id("44120319881111007"), _VALID),
    ("no_usage", "p256", "ca", (("O", "个人"), ("CN", "吴十")), "encipher_only",
     resident_id("44120319920303008"), _VALID),
    ("untrusted", "p256", "rogue", (("O", "个人"), ("CN", "郑十一")), "signer",
     resident_id("11010519491231003"), _VALID),
    ("sm2_citizen", "sm2", "sm2_ca", (("O", "个人"), ("CN", "冯十二")), "signer",
     resident_id("44120319870808009"), _VALID),
)

# (name, key algorithm, issuer or None for self-signed, common name, extension section)
_CAS: tuple[tuple[str, str, str | None, str, str], ...] = (
    ("root", "rsa", None, "Onestop Demo Root CA", "root"),
    ("ca", "rsa", "root", "Onestop Demo Citizen CA", "intermediate"),
    ("rogue", "p256", None, "Rogue Root CA", "root"),
    ("sm2_root", "sm2", None, "Onestop Demo SM2 Root CA", "root"),
    ("sm2_ca", "sm2", "sm2_root", "Onestop Demo SM2 Citizen CA", "intermediate"),
)
_CA_VALIDITY = (-2 * 365, 15 * 365)

_CONFIG = """\
[ ca ]
default_ca = CA_default

[ CA_default ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = {md}
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes
default_crl_days = 30

[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
serialNumber = optional

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes

[ req_dn ]

[ root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ signer ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ encipher_only ]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment, dataEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
"""

_KEYGEN = {
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-pkeyopt", "ec_param_enc:named_curve"],
    "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
             "-pkeyopt", "ec_param_enc:named_curve"],
    "sm2": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2",
            "-pkeyopt", "ec_param_enc:named_curve"],
}


class PkiError(RuntimeError):
    """The openssl command line failed or the directory cannot be used."""


def build_pki(directory: Path, *, openssl: str = "openssl", force: bool = False) -> Pki:
    """Build the PKI into ``directory``, or reuse what an earlier call built there.

    Parameters
    ----------
    directory
        Where the files go; created if absent. A directory that holds something other than
        a PKI built here is refused rather than overwritten.
    openssl
        The openssl executable (3.0 or later: SM2 with ``distid``, CRL dates).
    force
        Rebuild even when a usable PKI is already there.
    """
    directory = Path(directory)
    if not force:
        cached = _load(directory)
        if cached is not None:
            return cached
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MANIFEST).exists():
            raise PkiError(f"{directory} is not empty and holds no {MANIFEST}; not overwriting")
        shutil.rmtree(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so that a reader never sees half a PKI.
    work = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        manifest = _Builder(work, openssl).build()
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
        try:
            work.rename(directory)
        except OSError:
            # Someone else built it at the same moment: theirs is as good as ours.
            cached = _load(directory)
            if cached is None:
                raise
            return cached
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    loaded = _load(directory)
    if loaded is None:  # pragma: no cover - we just wrote it
        raise PkiError(f"{directory}: the PKI just built does not load")
    return loaded


def _load(directory: Path) -> Pki | None:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("version") != MANIFEST_VERSION:
        return None
    reference = datetime.fromisoformat(manifest["reference_time"])
    if datetime.now(UTC) > reference + _CRL_LIFETIME - CRL_MARGIN:
        return None  # the CRLs are about to go stale: a fresh build is cheaper than surprises
    d = directory
    identities = {
        name: Identity(name=name, cert=d / f"{name}.pem", key=d / f"{name}.key",
                       chain=d / f"{name}.chain.pem", id_number=entry["id_number"],
                       p12=d / entry["p12"] if entry.get("p12") else None)
        for name, entry in manifest["identities"].items()
    }
    if not all(i.cert.exists() and i.key.exists() for i in identities.values()):
        return None
    return Pki(directory=d, reference_time=reference, root=d / "root.pem",
               intermediate=d / "ca.pem", root_crl=d / "root.crl", intermediate_crl=d / "ca.crl",
               sm2_root=d / "sm2_root.pem", sm2_intermediate=d / "sm2_ca.pem",
               sm2_root_crl=d / "sm2_root.crl", sm2_intermediate_crl=d / "sm2_ca.crl",
               untrusted_root=d / "rogue.pem", identities=identities)


class _Builder:
    """Runs the openssl commands in order; one instance per build."""

    def __init__(self, out: Path, openssl: str) -> None:
        self.out = out
        self.openssl = openssl
        # Whole seconds in UTC, so that the dates written by openssl round-trip exactly.
        self.reference = datetime.now(UTC).replace(microsecond=0)

    def run(self, *args: str, cwd: Path | None = None) -> None:
        """One openssl invocation; its stderr becomes the error when it fails."""
        result = subprocess.run([self.openssl, *args], cwd=cwd or self.out, capture_output=True,
                                check=False)
        if result.returncode != 0:
            raise PkiError(f"openssl {' '.join(args[:2])} failed: "
                           f"{result.stderr.decode(errors='replace').strip()}")

    def date(self, days: int) -> str:
        return (self.reference + timedelta(days=days)).strftime("%Y%m%d%H%M%SZ")

    def build(self) -> dict[str, object]:
        kinds = {name: kind for name, kind, *_ in _CAS} | {name: kind for name, kind, *_ in
                                                            _LEAVES}
        # Key generation dominates the run time (RSA especially), and is independent.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
            for future in [pool.submit(self.run, "genpkey", *_KEYGEN[kind], "-out",
                                       f"{name}.key") for name, kind in kinds.items()]:
                future.result()
        for name, kind, issuer, cn, section in _CAS:
            self._init_ca(name, kind)
            self._issue(name, kind, issuer, (("C", "CN"), ("O", "Onestop Demo"), ("CN", cn)),
                        section, _CA_VALIDITY)
        identities: dict[str, dict[str, str]] = {}
        for name, kind, issuer, fields, section, id_number, validity in _LEAVES:
            subject = (("C", "CN"), *fields, ("serialNumber", id_number))
            self._issue(name, kind, issuer, subject, section, validity)
            chain = {"ca": "ca.pem", "sm2_ca": "sm2_ca.pem"}.get(issuer)
            (self.out / f"{name}.chain.pem").write_bytes(
                (self.out / chain).read_bytes() if chain else b"")
            identities[name] = {"id_number": id_number, "kind": kind}
        self._revoke("ca", "revoked")
        for ca in ("root", "ca", "sm2_root", "sm2_ca"):
            self._crl(ca)
        self.run("pkcs12", "-export", "-in", "rsa_citizen.pem", "-inkey", "rsa_citizen.key",
                 "-certfile", "ca.pem", "-name", "rsa_citizen", "-passout",
                 f"pass:{P12_PASSWORD}", "-out", "rsa_citizen.p12")
        identities["rsa_citizen"]["p12"] = "rsa_citizen.p12"
        for ca_dir in self.out.glob("*.ca"):
            shutil.rmtree(ca_dir / "newcerts", ignore_errors=True)
        return {"version": MANIFEST_VERSION, "reference_time": self.reference.isoformat(),
                "sm2_signer_id": SM2_SIGNER_ID, "p12_password": P12_PASSWORD,
                "identities": identities}

    def _init_ca(self, name: str, kind: str) -> None:
        ca_dir = self.out / f"{name}.ca"
        (ca_dir / "newcerts").mkdir(parents=True)
        (ca_dir / "index.txt").write_text("")
        # Distinct serial ranges per CA keep the demo certificates easy to tell apart.
        (ca_dir / "serial").write_text(f"{0x1000 * (len(list(self.out.glob('*.ca')))):04X}\n")
        (ca_dir / "crlnumber").write_text("01\n")
        (ca_dir / "openssl.cnf").write_text(
            _CONFIG.format(dir=ca_dir, md="sm3" if kind == "sm2" else "sha256"), encoding="utf-8")

    def _sm2_opts(self, kind: str, *names: str) -> list[str]:
        if kind != "sm2":
            return []
        return [arg for opt in names for arg in (opt, f"distid:{SM2_SIGNER_ID}")]

    def _issue(self, name: str, kind: str, issuer: str | None,
               subject: tuple[tuple[str, str], ...], section: str,
               validity: tuple[int, int]) -> None:
        signer = issuer or name
        ca_dir = self.out / f"{signer}.ca"
        subj = "".join(f"/{key}={value}" for key, value in subject)
        self.run("req", "-new", "-utf8", "-config", str(ca_dir / "openssl.cnf"), "-key",
                 f"{name}.key", "-subj", subj, *self._sm2_opts(kind, "-sigopt"),
                 "-out", f"{name}.csr")
        signer_kind = next((k for n, k, *_ in _CAS if n == signer), kind)
        args = ["ca", "-batch", "-utf8", "-notext", "-config", str(ca_dir / "openssl.cnf"),
                "-in", f"{name}.csr", "-out", f"{name}.pem", "-extensions", section,
                "-startdate", self.date(validity[0]), "-enddate", self.date(validity[1]),
                "-keyfile", f"{signer}.key",
                *self._sm2_opts(signer_kind, "-sigopt"), *self._sm2_opts(kind, "-vfyopt")]
        args += ["-selfsign"] if issuer is None else ["-cert", f"{issuer}.pem"]
        self.run(*args)
        (self.out / f"{name}.csr").unlink()

    def _revoke(self, ca: str, name: str) -> None:
        self.run("ca", "-config", str(self.out / f"{ca}.ca" / "openssl.cnf"), "-cert",
                 f"{ca}.pem", "-keyfile", f"{ca}.key", "-revoke", f"{name}.pem",
                 "-crl_reason", "keyCompromise")

    def _crl(self, ca: str) -> None:
        kind = next(k for n, k, *_ in _CAS if n == ca)
        self.run("ca", "-gencrl", "-config", str(self.out / f"{ca}.ca" / "openssl.cnf"),
                 "-cert", f"{ca}.pem", "-keyfile", f"{ca}.key", "-crlexts", "crl_ext",
                 "-crl_lastupdate", self.date(-1),
                 "-crl_nextupdate", self.date(_CRL_LIFETIME.days),
                 *self._sm2_opts(kind, "-sigopt"), "-out", f"{ca}.crl.pem")
        self.run("crl", "-in", f"{ca}.crl.pem", "-outform", "DER", "-out", f"{ca}.crl")
        (self.out / f"{ca}.crl.pem").unlink()


def _as_dict(pki: Pki) -> Mapping[str, object]:
    return {"directory": str(pki.directory), "reference_time": pki.reference_time.isoformat(),
            "identities": {name: {"cert": str(i.cert), "key": str(i.key), "chain": str(i.chain)}
                           for name, i in pki.identities.items()}}


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.pki DIR [--force]``: build (or reuse) the PKI and print its files."""
    parser = argparse.ArgumentParser(prog="python -m tools.pki", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--force", action="store_true", help="rebuild even if already built")
    parser.add_argument("--openssl", default="openssl", help="the openssl executable")
    args = parser.parse_args(argv)
    try:
        pki = build_pki(args.directory, openssl=args.openssl, force=args.force)
    except PkiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(_as_dict(pki), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
