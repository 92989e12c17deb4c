"""Small corrections to moto's CloudFormation support, applied where moto is our embedded AWS.

moto 5.2 creates every ``AWS::KMS::Key`` from a template as a symmetric encryption key and keeps
the key policy as a dict it later fails to parse, and it skips ``AWS::CloudWatch::Alarm`` and
``AWS::SecretsManager::Secret``; its KMS ``Sign`` also ignores ``MessageType=DIGEST`` (it hashes
the digest again), which is how the platform signs documents larger than KMS's 4 KB limit.
Our template asks for an ECC signing key with
a JSON policy, exactly as AWS honours it; this patch makes the embedded AWS honour it too, so the
local stack deploys the very template that production deploys.
"""

from __future__ import annotations

import json
import os
from typing import Any

_applied = False


def apply() -> None:
    """Patch moto once (idempotent)."""
    global _applied
    if _applied:
        return
    # SES has no endpoint in the China regions; the embedded AWS serves it there anyway, so
    # that the local stack can show the email channel (production swaps in a relay).
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    from moto.kms import models as kms_models

    def create_key_from_template(cls: Any, resource_name: str, cloudformation_json: Any,
                                 account_id: str, region_name: str, **kwargs: Any) -> Any:
        backend = kms_models.kms_backends[account_id][region_name]
        props = cloudformation_json["Properties"]
        policy = props.get("KeyPolicy")
        key = backend.create_key(
            policy=json.dumps(policy) if isinstance(policy, dict) else policy,
            key_usage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=props.get("Description") or "",
            tags=props.get("Tags", []),
        )
        key.key_rotation_status = props.get("EnableKeyRotation", False)
        key.enabled = props.get("Enabled", True)
        return key

    kms_models.Key.create_from_cloudformation_json = classmethod(  # type: ignore[method-assign]
        create_key_from_template)
    _register_alarm_model()
    _register_secret_model()
    _sign_digests()
    _applied = True


def _sign_digests() -> None:
    """KMS ``Sign`` with ``MessageType=DIGEST`` signs the given digest, as AWS does."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from moto.kms.responses import KmsResponse

    raw_sign = KmsResponse.sign

    def sign(self: Any) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return str(raw_sign(self))
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        digest = self._get_param("Message")
        algorithm = self._get_param("SigningAlgorithm")
        hashing = {"256": hashes.SHA256(), "384": hashes.SHA384(),
                   "512": hashes.SHA512()}[algorithm[-3:]]
        private = key.private_key.private_key
        if algorithm.startswith("ECDSA"):
            signature = private.sign(digest, ec.ECDSA(Prehashed(hashing)))
        elif "_PSS_" in algorithm:
            signature = private.sign(digest, padding.PSS(padding.MGF1(hashing),
                                                         hashing.digest_size),
                                     Prehashed(hashing))
        else:
            signature = private.sign(digest, padding.PKCS1v15(), Prehashed(hashing))
        return json.dumps({"KeyId": key.arn, "SigningAlgorithm": algorithm,
                           "Signature": base64.b64encode(signature).decode()})

    KmsResponse.sign = sign  # type: ignore[method-assign]


def _register_secret_model() -> None:
    """Teach moto's CloudFormation to create Secrets Manager secrets (generated strings)."""
    import secrets as random

    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    class _TemplateSecret(CloudFormationModel):
        def __init__(self, arn: str) -> None:
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Id"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
                cls, resource_name: str, cloudformation_json: Any, account_id: str,
                region_name: str, **kwargs: Any) -> Any:
            p = cloudformation_json["Properties"]
            value = p.get("SecretString") or random.token_urlsafe(
                int(p.get("GenerateSecretString", {}).get("PasswordLength", 32)))
            backend = secretsmanager_backends[account_id][region_name]
            response = backend.create_secret(
                name=p.get("Name", resource_name), secret_string=value, secret_binary=None,
                description=p.get("Description"), tags=p.get("Tags"), kms_key_id=None,
                client_request_token=None, replica_regions=[], force_overwrite=False)
            return cls(json.loads(response)["ARN"])

    _clear_model_caches(parsing)


def _clear_model_caches(parsing: Any) -> None:
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


def _register_alarm_model() -> None:
    """Teach moto's CloudFormation to create CloudWatch alarms through its CloudWatch backend."""
    from moto.cloudformation import parsing
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel

    class _TemplateAlarm(CloudFormationModel):
        def __init__(self, name: str) -> None:
            self.name = name

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
                cls, resource_name: str, cloudformation_json: Any, account_id: str,
                region_name: str, **kwargs: Any) -> Any:
            p = cloudformation_json["Properties"]
            backend = cloudwatch_backends[account_id][region_name]
            backend.put_metric_alarm(
                name=p.get("AlarmName", resource_name), namespace=p["Namespace"],
                metric_name=p["MetricName"], comparison_operator=p["ComparisonOperator"],
                evaluation_periods=int(p["EvaluationPeriods"]), period=int(p["Period"]),
                threshold=float(p["Threshold"]), statistic=p.get("Statistic", "Maximum"),
                description=p.get("AlarmDescription", ""),
                dimensions=[{"Name": d["Name"], "Value": d["Value"]}
                            for d in p.get("Dimensions", [])],
                alarm_actions=p.get("AlarmActions", []),
                treat_missing_data=p.get("TreatMissingData"))
            return cls(p.get("AlarmName", resource_name))

    _clear_model_caches(parsing)
