"""Typed settings, parsed once from the environment the stage configuration provides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib.names import DEFAULT_REGION, Bucket, Queue, Table, department_queue_name, env_var


class SettingsError(RuntimeError):
    """A required environment variable is missing."""


@dataclass(frozen=True)
class Settings:
    """What a handler needs to know about its stage; built once per process."""

    stage: str
    region: str
    tables: dict[Table, str]
    queues: dict[Queue, str]
    buckets: dict[Bucket, str]
    key_alias: str
    sms_topic_arn: str
    endpoint_url: str | None = None
    tracing: bool = False
    # Secret used to derive non-reversible applicant keys (HMAC) for indexes.
    pepper: bytes = field(default=b"", repr=False)
    pepper_secret: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    trust_cache_seconds: int = 60
    signed_at_skew_seconds: int = 24 * 3600
    revocation_hold_seconds: int = 24 * 3600

    def table(self, table: Table) -> str:
        """Physical name of a table."""
        return self.tables[table]

    def queue(self, queue: Queue) -> str:
        """Physical name of a platform queue."""
        return self.queues[queue]

    def bucket(self, bucket: Bucket) -> str:
        """Physical name of a bucket."""
        return self.buckets[bucket]

    def department_queue(self, department: str) -> str:
        """Physical name of a department's task queue."""
        return department_queue_name(self.stage, department)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Parse the stage's environment variables (``.chalice/config.json``)."""
        env = os.environ if environ is None else environ

        def need(name: str) -> str:
            try:
                return env[name]
            except KeyError:
                raise SettingsError(f"environment variable {name} is not set") from None

        return cls(
            stage=need("ONESTOP_STAGE"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            tables={t: need(env_var(t)) for t in Table},
            queues={q: need(env_var(q)) for q in Queue},
            buckets={b: need(env_var(b)) for b in Bucket},
            key_alias=need("ONESTOP_KEY_ALIAS"),
            sms_topic_arn=env.get("ONESTOP_SMS_TOPIC_ARN", ""),
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            tracing=env.get("ONESTOP_TRACING", "off") == "on",
            pepper=_pepper(env),
            pepper_secret=env.get("ONESTOP_PEPPER_SECRET", ""),
            public_base_url=env.get("ONESTOP_PUBLIC_URL", "http://127.0.0.1:8000"),
        )


def _pepper(env: dict[str, str] | os._Environ[str]) -> bytes:
    # The local stage runs on a laptop with demo data: a fixed pepper keeps keys stable across
    # runs. Cloud stages must be given theirs (from Secrets Manager at deploy time).
    # Cloud stages leave it empty: ``runtime.ready`` reads it from Secrets Manager.
    value = env.get("ONESTOP_PEPPER", "")
    if not value and env.get("ONESTOP_STAGE") == "local":
        value = "local-pepper-not-secret"
    return value.encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (parsed on first use, not at import)."""
    return Settings.from_env()
