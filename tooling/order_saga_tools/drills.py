"""The saga failure drills: break the system on purpose at every step, then check the books.

Faults are injected at the boundaries only: a participant's ports (its store, ledger or
task reporter), its queue (a duplicate or a poison message), the bus and the saga's
start. Production code checks no flag, id or value; the real handlers, the real state
machine and the real template run.
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from localcloud.runtime import HandlerError
from order_saga.adapters.dynamodb_orders import item_to_order
from order_saga.domain.errors import ParticipantUnavailableError
from order_saga.domain.events import SOURCE, OrderCreated
from order_saga.domain.model import Money
from order_saga_tools.demo import post_order
from order_saga_tools.faults import InjectedFaultError, swallow, wrap_port
from order_saga_tools.saga import TERMINAL_ORDER_STATUSES, SagaCloud, SagaDeadlineError
from order_saga_tools.seeding import balances, seed, stock

SCENARIOS = Path("tests/drills/scenarios.yaml")
DRILL_CLOCK_SCALE = 0.002
CELL_DEADLINE_SECONDS = 30.0
INITIAL_STOCK = 10
CURRENCY = "EUR"
# Balances and the unit price are in minor units of CURRENCY, as the payments ledger holds them.
RICH, POOR = 10_000, 100
QUANTITY, UNIT_PRICE = 2, 250

# Where each point's fault goes: the function whose port fails, the port and its method.
POINTS = {
    "reserve": ("InventoryWorkerFunction", "store", "reserve", "ReserveInventory"),
    "charge": ("PaymentWorkerFunction", "ledger", "charge", "ChargePayment"),
    "confirm": ("OrderWorkerFunction", "orders", "confirm", "ConfirmOrder"),
    "release": ("InventoryWorkerFunction", "store", "release", "ReleaseInventory"),
    "refund": ("PaymentWorkerFunction", "ledger", "refund", "RefundPayment"),
}
DEAD_LETTER_QUEUES = {
    "InventoryWorkerFunction": "InventoryDeadLetterQueue",
    "PaymentWorkerFunction": "PaymentDeadLetterQueue",
    "OrderWorkerFunction": "OrderDeadLetterQueue",
}
QUEUES = {
    "InventoryWorkerFunction": "InventoryQueue",
    "PaymentWorkerFunction": "PaymentQueue",
    "OrderWorkerFunction": "OrderQueue",
}


class ScenarioError(Exception):
    """The scenarios file is malformed."""


@dataclass(frozen=True)
class Cell:
    """One drill: a fault kind at a failure point, and what must come of it."""

    point: str
    kind: str
    path: tuple[str, ...]
    path_name: str
    status: str
    reason: str | None

    @property
    def name(self) -> str:
        return f"{self.point} / {self.kind}"


def load_cells(path: Path) -> list[Cell]:
    """Read the scenarios file; every cell names a known point, a path and a status."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from exc
    paths = document.get("paths", {})
    cells = []
    for index, raw in enumerate(document.get("cells", [])):
        point, kind = raw.get("point"), raw.get("kind")
        if point not in POINTS and point not in {"emit", "start"}:
            raise ScenarioError(f"cell {index}: unknown point {point!r}")
        if (point, kind) not in ARRANGEMENTS and kind not in ARRANGEMENTS:
            raise ScenarioError(f"cell {index}: no arrangement for {point} / {kind}")
        path_value = raw.get("path")
        steps = paths.get(path_value) if isinstance(path_value, str) else path_value
        if not steps:
            raise ScenarioError(f"cell {index}: unknown path {path_value!r}")
        if raw.get("status") not in TERMINAL_ORDER_STATUSES:
            raise ScenarioError(
                f"cell {index}: status must be one of {sorted(TERMINAL_ORDER_STATUSES)}"
            )
        cells.append(
            Cell(
                point,
                kind,
                tuple(steps),
                str(path_value if isinstance(path_value, str) else "-"),
                raw["status"],
                raw.get("reason"),
            )
        )
    names = [cell.name for cell in cells]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ScenarioError(f"cells listed twice: {', '.join(duplicates)}")
    return cells


@dataclass
class CellReport:
    """What a drill observed, and every invariant checked afterwards."""

    cell: str
    expected_status: str
    expected_reason: str | None
    expected_path: list[str]
    observed_status: str = "-"
    observed_reason: str | None = None
    observed_path: list[str] = field(default_factory=list)
    invariants: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems and all(self.invariants.values())


@dataclass
class Drill:
    """The state of one cell while it runs: its names, its order and its extra checks."""

    cell: Cell
    customer: str
    sku: str
    key: str
    balance: int = RICH
    quantity: int = QUANTITY
    order_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    after: list[Callable[[], None]] = field(default_factory=list)  # once the order is placed
    cleanup: list[Callable[[], None]] = field(default_factory=list)  # once the cell is over
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)


# ------------------------------------------------------------------ arrangements (the faults)
def _point_port(cloud: SagaCloud, point: str, drill: Drill | None = None) -> Any:
    function, port, method, _ = POINTS[point]
    faulty = wrap_port(cloud.container_of(function), port)
    if drill is not None:
        _expect_injection(drill, faulty, method)
    return faulty


def _reporter(cloud: SagaCloud, drill: Drill) -> tuple[Any, str]:
    """The worker's task reporter (how it answers the saga) and the key of the answer to break."""
    function, _, _, action = POINTS[drill.cell.point]
    faulty = wrap_port(cloud.container_of(function), "reporter")
    key = f"{drill.order_id}:{action}"
    _expect_injection(drill, faulty, "succeed", key)
    return faulty, key


def _expect_injection(drill: Drill, port: Any, method: str, key: str | None = None) -> None:
    drill.checks["fault injected"] = lambda: (
        port.injected.get((method, key or drill.order_id), 0) > 0
    )


def _trigger_compensation(cloud: SagaCloud, drill: Drill) -> None:
    """Release runs after a declined payment; refund after a confirm that fails for good."""
    if drill.cell.point == "release":
        drill.balance = POOR
    if drill.cell.point == "refund":
        _point_port(cloud, "confirm").inject(
            "confirm", drill.order_id, *[InjectedFaultError("order store down")] * 10
        )


def business_rejection(cloud: SagaCloud, drill: Drill) -> None:
    if drill.cell.point == "reserve":
        drill.quantity = INITIAL_STOCK + 1
    else:
        drill.balance = POOR


def transient_then_ok(cloud: SagaCloud, drill: Drill) -> None:
    _, _, method, _ = POINTS[drill.cell.point]
    _point_port(cloud, drill.cell.point, drill).inject(
        method, drill.order_id, *[ParticipantUnavailableError("throttled")] * 2
    )


def permanent_error(cloud: SagaCloud, drill: Drill) -> None:
    _, _, method, _ = POINTS[drill.cell.point]
    _point_port(cloud, drill.cell.point, drill).inject(
        method, drill.order_id, *[InjectedFaultError("store refuses writes")] * 20
    )


def compensation_fails_then_succeeds(cloud: SagaCloud, drill: Drill) -> None:
    _trigger_compensation(cloud, drill)
    _, _, method, _ = POINTS[drill.cell.point]
    _point_port(cloud, drill.cell.point, drill).inject(
        method, drill.order_id, *[ParticipantUnavailableError("throttled")] * 3
    )


def compensation_fails_for_good(cloud: SagaCloud, drill: Drill) -> None:
    _trigger_compensation(cloud, drill)
    permanent_error(cloud, drill)


def crash_after_effect(cloud: SagaCloud, drill: Drill) -> None:
    if drill.cell.point in {"release", "refund"}:
        _trigger_compensation(cloud, drill)
    reporter, key = _reporter(cloud, drill)
    reporter.inject("succeed", key, InjectedFaultError("worker died before reporting"))


def no_answer(cloud: SagaCloud, drill: Drill) -> None:
    if drill.cell.point in {"release", "refund"}:
        _trigger_compensation(cloud, drill)
    reporter, key = _reporter(cloud, drill)
    reporter.inject("succeed", key, swallow)


def duplicate_delivery(cloud: SagaCloud, drill: Drill) -> None:
    if drill.cell.point in {"release", "refund"}:
        _trigger_compensation(cloud, drill)
    function, _, _, action = POINTS[drill.cell.point]
    poller = cloud.poller_for(function)
    url = cloud.ref(QUEUES[function])
    sent: list[str] = []

    def redeliver(message: Any) -> None:
        body = json.loads(message.body) if message.body.startswith("{") else {}
        if not sent and body.get("orderId") == drill.order_id and body.get("action") == action:
            sent.append(message.body)
            cloud.client("sqs").send_message(QueueUrl=url, MessageBody=message.body)

    poller.on_receive.append(redeliver)
    drill.cleanup.append(lambda: poller.on_receive.remove(redeliver))
    drill.checks["duplicate delivered"] = lambda: len(sent) == 1


def poison_message(cloud: SagaCloud, drill: Drill) -> None:
    function = POINTS[drill.cell.point][0]
    poison = json.dumps({"action": "Nonsense", "orderId": drill.order_id, "note": "not a command"})
    cloud.client("sqs").send_message(QueueUrl=cloud.ref(QUEUES[function]), MessageBody=poison)
    drill.checks["poison in its DLQ"] = lambda: _wait_for_body(
        cloud, DEAD_LETTER_QUEUES[function], poison
    )


def emit_fails(times: int) -> Callable[[SagaCloud, Drill], None]:
    def arrange(cloud: SagaCloud, drill: Drill) -> None:
        publisher = wrap_port(cloud.container_of("CreateOrderFunction"), "publisher")
        republisher = wrap_port(cloud.container_of("RepublishPendingOrdersFunction"), "publisher")
        # The first emit comes from CreateOrder; later ones from the republisher.
        publisher.inject("publish", drill.order_id, InjectedFaultError("the bus refused PutEvents"))
        republisher.inject(
            "publish",
            drill.order_id,
            *[InjectedFaultError("the bus refused PutEvents")] * (times - 1),
        )
        drill.after.append(lambda: _republish_until_started(cloud, drill, runs=times + 1))

    return arrange


def duplicate_order_created(cloud: SagaCloud, drill: Drill) -> None:
    def emit_twice_more() -> None:
        item = cloud.order(drill.order_id)
        if item is None:
            return
        detail = OrderCreated(item_to_order(item)).detail()
        for _ in range(2):
            cloud.client("events").put_events(
                Entries=[
                    {
                        "EventBusName": cloud.ref("OrdersEventBus"),
                        "Source": SOURCE,
                        "DetailType": OrderCreated.detail_type,
                        "Detail": json.dumps(detail),
                    }
                ]
            )

    drill.after.append(emit_twice_more)
    drill.checks["one saga did the work"] = lambda: _one_saga_worked(cloud, drill.order_id, 3)


def start_refused(cloud: SagaCloud, drill: Drill) -> None:
    cloud.refused_deliveries[drill.order_id] = 1
    drill.after.append(lambda: _republish_until_started(cloud, drill, runs=2))
    drill.checks["event in the rule DLQ"] = lambda: _wait_for_text(
        cloud, "OrderCreatedRuleDeadLetterQueue", drill.order_id
    )


ARRANGEMENTS: dict[Any, Callable[[SagaCloud, Drill], None]] = {
    "business rejection": business_rejection,
    "transient then ok": transient_then_ok,
    "permanent technical error": permanent_error,
    "crash after effect": crash_after_effect,
    "duplicate delivery": duplicate_delivery,
    "poison message": poison_message,
    "no answer": no_answer,
    "compensation fails 3 times then succeeds": compensation_fails_then_succeeds,
    "compensation fails for good": compensation_fails_for_good,
    ("emit", "transient then ok"): emit_fails(1),
    ("emit", "permanent technical error"): emit_fails(2),
    ("start", "duplicate OrderCreated"): duplicate_order_created,
    ("start", "permanent technical error"): start_refused,
}


# ------------------------------------------------------------------ observations
def _wait_until(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _queue_bodies(cloud: SagaCloud, logical_id: str) -> list[str]:
    """Every message body in the queue, each left visible again for the next reader."""
    sqs, url = cloud.client("sqs"), cloud.ref(logical_id)
    seen: list[dict[str, Any]] = []
    for _ in range(100):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        if not batch.get("Messages"):
            break
        seen.extend(batch["Messages"])
    for message in seen:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [message["Body"] for message in seen]


def _wait_for_body(cloud: SagaCloud, logical_id: str, body: str) -> bool:
    return _wait_until(lambda: body in _queue_bodies(cloud, logical_id))


def _wait_for_text(cloud: SagaCloud, logical_id: str, text: str) -> bool:
    return _wait_until(lambda: any(text in body for body in _queue_bodies(cloud, logical_id)))


def _republish_until_started(cloud: SagaCloud, drill: Drill, runs: int) -> None:
    """Run the scheduled republisher as the schedule would, a few minutes on, until it starts."""
    for run in range(runs):
        item = cloud.order(drill.order_id)
        if item is not None and item["status"] != "PENDING":
            return
        fired = datetime.now(UTC) + timedelta(minutes=3 + run)
        try:
            cloud.invoke(
                "RepublishPendingOrdersFunction",
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.scheduler",
                    "time": fired.isoformat().replace("+00:00", "Z"),
                    "detail": {},
                },
            )
        except HandlerError:
            continue  # the bus is still down: the next scheduled run tries again
        _wait_until(lambda: (cloud.order(drill.order_id) or {}).get("status") != "PENDING", 2.0)


def _executions_for(cloud: SagaCloud, order_id: str) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    described = (sfn.describe_execution(executionArn=e["executionArn"]) for e in cloud.sagas())
    return [execution for execution in described if order_id in execution.get("input", "")]


def _one_saga_worked(cloud: SagaCloud, order_id: str, deliveries: int) -> bool:
    def all_ended() -> bool:
        runs = _executions_for(cloud, order_id)
        return len(runs) >= deliveries and all(run["status"] != "RUNNING" for run in runs)

    if not _wait_until(all_ended):
        return False
    ends = [cloud.saga_path(run["executionArn"]) for run in _executions_for(cloud, order_id)]
    quiet = [
        path
        for path in ends
        if path[-1] == "Ignore duplicate start" and "Reserve inventory" not in path
    ]
    return len(ends) == deliveries and len(quiet) == deliveries - 1


def check_books(
    cloud: SagaCloud, drill: Drill, status: str, reason: str | None
) -> dict[str, bool]:
    """The invariants, read from the tables and queues themselves."""
    reservation = cloud.item("InventoryTable", {"pk": f"RESERVATION#{drill.order_id}"}) or {}
    charge = cloud.item("PaymentsTable", {"pk": f"CHARGE#{drill.order_id}"}) or {}
    reserved = (
        sum(int(line["quantity"]) for line in reservation.get("lines", []))
        if reservation.get("status") == "RESERVED"
        else 0
    )
    charged = int(charge.get("amount", 0)) if charge.get("status") in {"CHARGED", "REFUNDED"} else 0
    refunded = int(charge.get("refunded", 0))
    available = stock(cloud, [drill.sku])[drill.sku]
    balance = balances(cloud, [drill.customer])[drill.customer]
    total = drill.quantity * UNIT_PRICE
    held = reservation.get("status") == "RESERVED"
    paid = charge.get("status") == "CHARGED"
    parked = status == "COMPENSATION_FAILED"
    checks = {
        "terminal": status in TERMINAL_ORDER_STATUSES
        and (status != "CANCELLED" or bool(reason))
        and (not parked or _wait_for_text(cloud, "SagaFailuresQueue", drill.order_id)),
        "stock conserved": INITIAL_STOCK == available + reserved,
        "money conserved": drill.balance == balance + charged - refunded,
        "effects once": reserved in (0, drill.quantity)
        and charged in (0, total)
        and refunded in (0, charged),
        "undone or done": (status == "CONFIRMED" and held and paid)
        or (status == "CANCELLED" and not held and not paid)
        or parked,
    }
    for name, check in drill.checks.items():
        checks[name] = check()
    return checks


def run_cell(cloud: SagaCloud, cell: Cell) -> CellReport:
    """Arrange the fault, place the order through the API, wait for the saga, check the books."""
    started = time.perf_counter()
    suffix = uuid.uuid4().hex[:10].upper()
    drill = Drill(cell, customer=f"CUST-{suffix}", sku=f"SKU-{suffix}", key=uuid.uuid4().hex)
    report = CellReport(cell.name, cell.status, cell.reason, list(cell.path))
    arrange = ARRANGEMENTS.get((cell.point, cell.kind)) or ARRANGEMENTS[cell.kind]
    try:
        arrange(cloud, drill)
        seed(cloud, {drill.sku: INITIAL_STOCK}, {drill.customer: drill.balance}, CURRENCY)
        body = json.dumps(
            {
                "currency": CURRENCY,
                "lines": [
                    {
                        "sku": drill.sku,
                        "quantity": drill.quantity,
                        "unitPrice": Money(UNIT_PRICE, CURRENCY).to_decimal_string(),
                    }
                ],
            }
        )
        # The order is named in advance: the faults armed above are keyed by its id.
        response = post_order(cloud, drill.customer, body, drill.key, drill.order_id)
        if response["statusCode"] != 202:
            report.problems.append(f"POST /orders answered {response['statusCode']}")
            return report
        for step in drill.after:
            step()
        saga = cloud.wait_for_saga(drill.order_id, timeout=CELL_DEADLINE_SECONDS)
        report.observed_status, report.observed_reason = saga.status, saga.reason
        report.observed_path = list(saga.path)
        if saga.path != cell.path:
            report.problems.append("path differs")
        if (saga.status, saga.reason) != (cell.status, cell.reason):
            report.problems.append("status or reason differs")
        report.invariants = check_books(cloud, drill, saga.status, saga.reason)
    except SagaDeadlineError as exc:
        report.problems.append(str(exc))
        order = cloud.order(drill.order_id) or {}
        report.observed_status = str(order.get("status", "-"))
        report.invariants = {"terminal": False}
    finally:
        for step in drill.cleanup:
            step()
        report.seconds = round(time.perf_counter() - started, 3)
    return report


def run(
    root: Path, only: str | None = None, progress: Callable[[CellReport], None] | None = None
) -> tuple[list[CellReport], float]:
    """Run the matching cells on one local cloud; the reports and the wall time."""
    cells = load_cells(root / SCENARIOS)
    if only:
        try:
            pattern = re.compile(only, re.IGNORECASE)
        except re.error as exc:
            raise ScenarioError(f"--only {only!r} is not a regular expression: {exc}") from exc
        cells = [cell for cell in cells if pattern.search(cell.name)]
        if not cells:
            raise ScenarioError(f"no cell matches {only!r}")
    started = time.perf_counter()
    reports = []
    with SagaCloud(root, clock_scale=DRILL_CLOCK_SCALE) as cloud:
        for cell in cells:
            report = run_cell(cloud, cell)
            reports.append(report)
            if progress:
                progress(report)
    return reports, time.perf_counter() - started


INVARIANT_COLUMNS = (
    "terminal",
    "stock conserved",
    "money conserved",
    "effects once",
    "undone or done",
)


def report_table(reports: list[CellReport]) -> str:
    header = ["cell", "expected", "observed", "path", *INVARIANT_COLUMNS, "extra", "s"]
    rows = []
    for r in reports:
        extra = [
            f"{name}: {'ok' if ok else 'FAIL'}"
            for name, ok in r.invariants.items()
            if name not in INVARIANT_COLUMNS
        ]
        rows.append(
            [
                r.cell,
                f"{r.expected_status} {r.expected_reason or ''}".strip(),
                f"{r.observed_status} {r.observed_reason or ''}".strip(),
                "ok" if r.observed_path == r.expected_path else "DIFFERS",
                *["ok" if r.invariants.get(name) else "FAIL" for name in INVARIANT_COLUMNS],
                ", ".join(extra) or "-",
                f"{r.seconds:.1f}",
            ]
        )
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
        for row in [header, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)


def markdown_table(cells: list[Cell]) -> str:
    """The README's drill table, generated from the scenarios file."""
    lines = ["| point | fault | expected status | reason | saga path |", "|---|---|---|---|---|"]
    for cell in cells:
        steps = [step for step in cell.path if step != "Read order from event"]
        lines.append(
            f"| {cell.point} | {cell.kind} | {cell.status} | {cell.reason or '-'} "
            f"| {' → '.join(steps)} |"
        )
    return "\n".join(lines)


def main(root: str, only: str | None, as_json: bool) -> int:
    """`order-saga drill`: run the matrix, print the report, exit 1 when any cell fails."""
    base = Path(root)

    def progress(report: CellReport) -> None:
        mark = "pass" if report.passed else "FAIL"
        print(f"  {mark}  {report.cell} ({report.seconds:.1f} s)", file=sys.stderr, flush=True)

    reports, seconds = run(base, only, None if as_json else progress)
    failed = [r for r in reports if not r.passed]
    if as_json:
        print(
            json.dumps(
                {
                    "cells": [asdict(r) | {"passed": r.passed} for r in reports],
                    "failed": len(failed),
                    "seconds": round(seconds, 2),
                },
                indent=2,
            )
        )
    else:
        print(report_table(reports))
        print()
        for r in failed:
            print(
                f"{r.cell}: {'; '.join(r.problems) or 'invariant failed'}; observed path "
                f"{' > '.join(r.observed_path)}"
            )
        print(f"{len(reports) - len(failed)} passed, {len(failed)} failed in {seconds:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    # `python -m order_saga_tools.drills --table` prints the README's drill table.
    if sys.argv[1:] == ["--table"]:
        print(markdown_table(load_cells(SCENARIOS)))
    else:
        sys.exit(main(".", None, "--json" in sys.argv[1:]))
