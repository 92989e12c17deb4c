"""Functional tests: the real template deployed into moto in-process, handlers called directly."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib import names, runtime
from chalicelib.settings import Settings
from tools import deploy, moto_patches

ROOT = Path(__file__).resolve().parents[2]
REGION = "cn-north-1"


def local_environment() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config["stages"]["local"]["environment_variables"])
    env["ONESTOP_PEPPER"] = "test-pepper"
    return env


@pytest.fixture(scope="session")
def aws() -> Iterator[dict[str, str]]:
    """moto with the stage's stacks deployed through CloudFormation; yields the outputs."""
    moto_patches.apply()
    saved = dict(os.environ)
    os.environ.update(local_environment())
    with mock_aws():
        cf = boto3.client("cloudformation", region_name=REGION)
        outputs = deploy.deploy(cf, "local")
        runtime.reset()
        yield outputs
    runtime.reset()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def settings(aws: dict[str, str]) -> Settings:
    """The local stage's settings, bound to the moto stack."""
    return runtime.ready()


@pytest.fixture
def sqs(aws: dict[str, str]):
    return boto3.client("sqs", region_name=REGION)


def queue_url(sqs, stage_queue: names.Queue) -> str:
    return sqs.get_queue_url(QueueName=names.queue_name("local", stage_queue))["QueueUrl"]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """The test PKI, made by the openssl command line once per session."""
    from tools.pki import build_pki

    return build_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def trusted(aws: dict[str, str], pki):
    """The PKI's roots, intermediates and CRLs in the trust bucket; the catalog published."""
    from chalicelib import storage, verification
    from chalicelib.catalog import load_services
    from chalicelib.names import Bucket
    from chalicelib.store import catalog

    settings = runtime.ready()
    for key, data in pki.trust_objects().items():
        storage.put(settings.bucket(Bucket.TRUST), key, data)
    verification.trust_cache.clear()
    catalog.publish([item.to_dict() for item in load_services()])
    return pki


@pytest.fixture
def api(trusted):
    """The HTTP API through chalice's test client (the local stage's configuration)."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        yield client


@pytest.fixture(scope="session", autouse=True)
def iam_calls() -> Iterator[None]:
    """Record every AWS call a Lambda function makes in the functional run (tests/functional/
    iam.py); the terminal summary lists those its policy file does not allow."""
    from app import app
    from tests.functional import iam

    iam.install(app)
    yield


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.functional import iam

    if not iam.RECORDER.calls:
        return
    denied = iam.RECORDER.summary()
    terminalreporter.write_sep("-", f"IAM: {len(iam.RECORDER.calls)} AWS calls by Lambda "
                                    f"functions, {len(denied)} not allowed by their policy")
    for line in denied:
        terminalreporter.write_line(line)
