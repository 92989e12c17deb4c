"""Data access for applications (cases): create with a nonce claim, read, move status."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.contract import Status
from chalicelib.errors import Conflict, NotFound
from chalicelib.store import dynamo, steps
from chalicelib.store.models import ApplicationModel, ClaimModel

# Receipts avoid look-alike characters: applicants read them over the phone.
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_receipt(now: datetime) -> str:
    """A receipt number: filing date and 10 random characters (50 bits)."""
    return now.strftime("%Y%m%d") + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def new_tracking_code() -> str:
    """A tracking code given to the applicant once; only its hash is stored."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


class DuplicateNonce(Conflict):
    """This applicant already used this nonce."""

    code = "DUPLICATE_NONCE"
    message_zh = "该申请已提交（随机数重复）"
    message_en = "this nonce was already used by this applicant"


def nonce_key(applicant_key: str, nonce: str) -> str:
    """Claim key of an applicant's nonce."""
    return f"nonce#{applicant_key}#{nonce}"


def create(application: ApplicationModel, *, claim_key: str) -> None:
    """Store a new application and claim its nonce in one transaction.

    Raises ``DuplicateNonce`` with the original receipt when the nonce was already claimed.
    """
    claim = ClaimModel(claim_key, state="DONE", data={"receipt": application.receipt})
    try:
        with TransactWrite(connection=dynamo.connection()) as tx:
            tx.save(application, condition=ApplicationModel.receipt.does_not_exist())
            tx.save(claim, condition=ClaimModel.key.does_not_exist())
    except TransactWriteError as exc:
        try:
            original = ClaimModel.get(claim_key, consistent_read=True)
        except DoesNotExist:
            raise exc from None
        raise DuplicateNonce(details={"receipt": original.data.get("receipt")}) from exc


def claimed(claim_key: str) -> bool:
    """Whether a single-use claim (a nonce) was taken."""
    try:
        ClaimModel.get(claim_key, consistent_read=True)
    except DoesNotExist:
        return False
    return True


def get(receipt: str, *, consistent: bool = False) -> ApplicationModel:
    """The application with this receipt; ``NotFound`` if there is none."""
    try:
        return ApplicationModel.get(receipt, consistent_read=consistent)
    except DoesNotExist:
        raise NotFound(details={"receipt": receipt}) from None


def find(receipt: str) -> ApplicationModel | None:
    """The application with this receipt, or None (consistent read)."""
    try:
        return ApplicationModel.get(receipt, consistent_read=True)
    except DoesNotExist:
        return None


def _move_actions(to: Status, now: datetime, fields: dict[str, Any]) -> list[Action]:
    actions: list[Action] = [ApplicationModel.status.set(to.value),
                             ApplicationModel.updated_at.set(now)]
    for name, value in fields.items():
        attr = getattr(ApplicationModel, name)
        actions.append(attr.remove() if value is None else attr.set(value))
    return actions


def move(application: ApplicationModel, allowed_from: set[Status], to: Status, now: datetime,
         **fields: Any) -> bool:
    """Move an application to ``to`` if its stored status is one of ``allowed_from``.

    A conditional write, so that two workers (or a redelivered message) never both move it.
    Returns False when the condition did not hold (someone else moved it first).
    """
    condition = ApplicationModel.status.is_in(*[s.value for s in allowed_from])
    try:
        application.update(actions=_move_actions(to, now, fields), condition=condition)
    except UpdateError as exc:
        if dynamo.condition_failed(exc):
            return False
        raise
    return True


def step(application: ApplicationModel, allowed_from: set[Status], to: Status, now: datetime, *,
         records: Sequence[steps.Record] = (), outbox: Sequence[dict[str, Any]] = (),
         **fields: Any) -> bool:
    """``move`` as one step: with its audit records and its outbox, in one transaction.

    On success ``application`` holds the moved state (status, ``fields``, the outbox).
    """
    condition = ApplicationModel.status.is_in(*[s.value for s in allowed_from])
    if not steps.commit(application.receipt, _move_actions(to, now, fields), condition,
                        records=records, outbox=outbox, now=now):
        return False
    application.status = to.value
    application.updated_at = now
    for name, value in fields.items():
        setattr(application, name, value)
    return True
