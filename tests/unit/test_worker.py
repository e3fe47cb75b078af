"""settle(): run one command and tell the waiting saga how it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from order_saga.domain.commands import (
    ChargePayment,
    Command,
    ConfirmOrder,
    Envelope,
    ReleaseInventory,
    ReserveInventory,
    parse_envelope,
)
from order_saga.domain.errors import (
    BusinessRuleError,
    InvalidCommandError,
    OrderNotConfirmableError,
    OutOfStockError,
    ParticipantUnavailableError,
    PaymentDeclinedError,
    TransientError,
)
from order_saga.service_layer.inventory import release_inventory, reserve_inventory
from order_saga.service_layer.payments import charge_payment
from order_saga.service_layer.worker import UNEXPECTED_CAUSE, settle

from .fakes import FakeInventoryStore, FakePaymentLedger, FakeTaskReporter

ORDER_ID = "6f1c2a4e-7d55-4b1e-9a57-0a8c3e2f9b10"
TOKEN = "task-token-1"
ENVELOPE = Envelope(ConfirmOrder(ORDER_ID), TOKEN)


class StillInProgressError(Exception):
    """Stands for the idempotency layer's "same command running elsewhere"."""


class SpyLog:
    """The log_unexpected callback, keeping what it was given."""

    def __init__(self) -> None:
        self.logged: list[Exception] = []

    def __call__(self, exc: Exception) -> None:
        self.logged.append(exc)


def returning(output: dict[str, Any]) -> Callable[[Command], dict[str, Any]]:
    return lambda _command: output


def raising(exc: Exception) -> Callable[[Command], dict[str, Any]]:
    def execute(_command: Command) -> dict[str, Any]:
        raise exc

    return execute


def test_a_command_that_succeeds_reports_its_output(reporter: FakeTaskReporter) -> None:
    log = SpyLog()
    seen: list[Command] = []

    def execute(command: Command) -> dict[str, Any]:
        seen.append(command)
        return {"orderId": ORDER_ID, "status": "CONFIRMED"}

    outcome = settle(ENVELOPE, execute, reporter, log)

    assert outcome == "Succeeded"
    assert seen == [ENVELOPE.command]
    assert reporter.successes == [(TOKEN, {"orderId": ORDER_ID, "status": "CONFIRMED"})]
    assert reporter.failures == []
    assert log.logged == []


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(OutOfStockError(["SKU-1"]), id="OutOfStockError"),
        pytest.param(PaymentDeclinedError("cust-1", "28.00 EUR"), id="PaymentDeclinedError"),
        pytest.param(OrderNotConfirmableError(ORDER_ID, "CANCELLED"), id="NotConfirmable"),
        pytest.param(ParticipantUnavailableError("DynamoDB throttled"), id="Unavailable"),
    ],
)
def test_business_and_transient_errors_are_reported_under_their_class_name(
    reporter: FakeTaskReporter, error: BusinessRuleError | TransientError
) -> None:
    log = SpyLog()

    outcome = settle(ENVELOPE, raising(error), reporter, log)

    name = type(error).__name__
    assert outcome == name
    assert reporter.failures == [(TOKEN, name, str(error))]
    assert reporter.successes == []
    assert log.logged == []


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(KeyError("balance"), id="KeyError"),
        pytest.param(RuntimeError("secret internals"), id="RuntimeError"),
        pytest.param(InvalidCommandError("bad"), id="InvalidCommandError"),
    ],
)
def test_an_unexpected_error_is_logged_and_reported_without_its_details(
    reporter: FakeTaskReporter, error: Exception
) -> None:
    log = SpyLog()

    outcome = settle(ENVELOPE, raising(error), reporter, log)

    name = type(error).__name__
    assert outcome == name
    assert log.logged == [error]
    assert reporter.failures == [(TOKEN, name, UNEXPECTED_CAUSE)]
    assert reporter.successes == []


def test_a_retry_later_error_propagates_and_nothing_is_reported(
    reporter: FakeTaskReporter,
) -> None:
    log = SpyLog()
    busy = StillInProgressError("same command in progress")

    with pytest.raises(StillInProgressError) as caught:
        settle(ENVELOPE, raising(busy), reporter, log, retry_later=(StillInProgressError,))

    assert caught.value is busy
    assert reporter.successes == []
    assert reporter.failures == []
    assert log.logged == []


def test_a_retry_later_class_does_not_hold_back_other_errors(reporter: FakeTaskReporter) -> None:
    outcome = settle(
        ENVELOPE,
        raising(OutOfStockError(["SKU-1"])),
        reporter,
        SpyLog(),
        retry_later=(StillInProgressError,),
    )

    assert outcome == "OutOfStockError"
    assert [error for _, error, _ in reporter.failures] == ["OutOfStockError"]


class ReporterDown(Exception):
    """Step Functions did not take the report."""


@pytest.mark.parametrize(
    "execute",
    [
        pytest.param(returning({"ok": True}), id="after-success"),
        pytest.param(raising(OutOfStockError(["SKU-1"])), id="after-business-error"),
        pytest.param(raising(RuntimeError("boom")), id="after-unexpected-error"),
    ],
)
def test_a_failure_to_report_propagates_so_the_message_is_delivered_again(
    execute: Callable[[Command], dict[str, Any]],
) -> None:
    down = ReporterDown("SendTask* throttled")
    reporter = FakeTaskReporter(fail_with=down)

    with pytest.raises(ReporterDown) as caught:
        settle(ENVELOPE, execute, reporter, SpyLog())

    assert caught.value is down


def test_a_reservation_out_of_stock_reaches_the_saga_as_out_of_stock_error(
    reporter: FakeTaskReporter,
) -> None:
    store = FakeInventoryStore({"SKU-1": 1})
    envelope = parse_envelope(
        {
            "action": "ReserveInventory",
            "orderId": ORDER_ID,
            "lines": [{"sku": "SKU-1", "quantity": 2}],
            "taskToken": TOKEN,
        },
        frozenset({"ReserveInventory", "ReleaseInventory"}),
    )

    def execute(command: Command) -> dict[str, Any]:
        assert isinstance(command, ReserveInventory)
        return reserve_inventory(command, store)

    outcome = settle(envelope, execute, reporter, SpyLog())

    assert outcome == "OutOfStockError"
    assert reporter.failures == [(TOKEN, "OutOfStockError", "not enough stock for SKU-1")]
    assert store.stock == {"SKU-1": 1}


def test_a_repeated_release_reaches_the_saga_as_a_success(reporter: FakeTaskReporter) -> None:
    store = FakeInventoryStore({"SKU-1": 1})
    envelope = Envelope(ReleaseInventory(ORDER_ID), TOKEN)

    def execute(command: Command) -> dict[str, Any]:
        assert isinstance(command, ReleaseInventory)
        return release_inventory(command, store)

    settle(envelope, execute, reporter, SpyLog())
    settle(envelope, execute, reporter, SpyLog())

    assert reporter.successes == [
        (TOKEN, {"orderId": ORDER_ID, "released": False}),
        (TOKEN, {"orderId": ORDER_ID, "released": False}),
    ]
    assert reporter.failures == []


def test_a_throttled_ledger_reaches_the_saga_as_participant_unavailable(
    reporter: FakeTaskReporter,
) -> None:
    ledger = FakePaymentLedger()
    ledger.unavailable = True
    envelope = parse_envelope(
        {
            "action": "ChargePayment",
            "orderId": ORDER_ID,
            "customerId": "cust-1",
            "amount": {"amount": 2800, "currency": "EUR"},
            "taskToken": TOKEN,
        },
        frozenset({"ChargePayment", "RefundPayment"}),
    )

    def execute(command: Command) -> dict[str, Any]:
        assert isinstance(command, ChargePayment)
        return charge_payment(command, ledger)

    outcome = settle(envelope, execute, reporter, SpyLog())

    assert outcome == "ParticipantUnavailableError"
    assert [error for _, error, _ in reporter.failures] == ["ParticipantUnavailableError"]
    assert ledger.charges == {}
