"""`order-saga cost`: what a month of orders costs, from sample orders run on the local cloud."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

OUTCOMES = ("confirmed", "out-of-stock", "declined", "fails")
DEFAULT_MIX = {"confirmed": 0.90, "out-of-stock": 0.05, "declined": 0.04, "fails": 0.01}
DEMO_SCENARIO = {
    "confirmed": "confirmed",
    "out-of-stock": "out of stock",
    "declined": "payment declined",
    "fails": "fails at confirm",
}
DESIGNS = ("Standard", "Express", "container")
PRICES_FILE = "prices/aws-prices.yaml"
GB = 1024**3
EXPRESS_MEMORY_GB = 64 / 1024  # one 64 MB chunk holds this saga's definition and payloads
EXPRESS_STEP_SECONDS = 0.1
CHART_RANGE = (100.0, 100_000_000.0)


class CostInputError(ValueError):
    """Bad input to the cost command: one line, exit status 2."""


# ---------------------------------------------------------------------- input
def parse_mix(text: str | None) -> dict[str, float]:
    """`confirmed=0.9,out-of-stock=0.05,...`: shares of the outcomes, summing to 1."""
    if text is None:
        return dict(DEFAULT_MIX)
    mix: dict[str, float] = {}
    for part in text.split(","):
        key, separator, value = part.strip().partition("=")
        if not separator:
            raise CostInputError(f"--mix: {part.strip()!r} is not OUTCOME=SHARE")
        if key not in OUTCOMES:
            raise CostInputError(f"--mix: unknown outcome {key!r}; known: {', '.join(OUTCOMES)}")
        try:
            share = float(value)
        except ValueError as exc:
            raise CostInputError(f"--mix: {key}={value!r} is not a number") from exc
        if not math.isfinite(share) or share < 0:
            raise CostInputError(f"--mix: {key} must be a share from 0 to 1, not {value}")
        mix[key] = share
    total = sum(mix.values())
    if abs(total - 1.0) > 1e-6:
        raise CostInputError(f"--mix: shares sum to {total:g}, not 1")
    return {outcome: mix.get(outcome, 0.0) for outcome in OUTCOMES}


def parse_fleet(text: str | None) -> Fleet:
    """`min-tasks=2,vcpu=0.5,memory-gb=1,orders-per-second-per-task=25,peak-ratio=3`."""
    fleet = Fleet()
    names = {
        "min-tasks": "min_tasks",
        "vcpu": "vcpu",
        "memory-gb": "memory_gb",
        "orders-per-second-per-task": "task_orders_per_second",
        "peak-ratio": "peak_ratio",
    }
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, _, value = part.strip().partition("=")
        if key not in names:
            raise CostInputError(f"--fleet: unknown setting {key!r}; known: {', '.join(names)}")
        try:
            number = float(value)
        except ValueError as exc:
            raise CostInputError(f"--fleet: {key}={value!r} is not a number") from exc
        if not math.isfinite(number) or number <= 0:
            raise CostInputError(f"--fleet: {key} must be more than 0")
        setattr(fleet, names[key], number)
    return fleet


@dataclass
class Fleet:
    """The container baseline: an always-on service sized for the peak, behind a load balancer."""

    min_tasks: float = 2
    vcpu: float = 0.5
    memory_gb: float = 1.0
    task_orders_per_second: float = 25.0
    peak_ratio: float = 3.0

    def tasks(self, orders_per_day: float) -> int:
        peak = orders_per_day / 86_400 * self.peak_ratio
        return max(int(self.min_tasks), math.ceil(peak / self.task_orders_per_second))


# ---------------------------------------------------------------------- prices
class MissingPriceError(CostInputError):
    """The price file has no figure for a region."""


@dataclass
class PriceBook:
    """The figures of one region from the dated price file."""

    region: str
    checked: str
    hours_per_month: float
    figures: dict[str, Any]
    path: Path

    def price(self, name: str) -> Any:
        figure = self.figures.get(name)
        if figure is None:
            raise MissingPriceError(f"{self.path.name} has no figure {name}")
        value = (figure.get("regions") or {}).get(self.region)
        if value is None:
            raise MissingPriceError(
                f"{self.path.name} has no {name} price for region {self.region}"
            )
        return value

    def cost(self, name: str, quantity: float) -> float:
        return tiered(quantity, self.price(name))

    def unconfirmed(self) -> list[str]:
        return sorted(
            name
            for name, figure in self.figures.items()
            if self.region in (figure.get("unconfirmed") or [])
        )


def load_prices(root: Path | str, region: str) -> PriceBook:
    path = Path(root) / PRICES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CostInputError(f"cannot read {path}: {exc.strerror}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("prices"), dict):
        raise CostInputError(f"{path} has no prices section")
    regions = {r for figure in data["prices"].values() for r in (figure.get("regions") or {})}
    if region not in regions:
        known = ", ".join(sorted(regions))
        raise MissingPriceError(f"{path.name} has no prices for region {region} (it has {known})")
    book = PriceBook(
        region, str(data["checked"]), float(data["hours_per_month"]), data["prices"], path
    )
    for name in data["prices"]:
        book.price(name)
    return book


def tiered(quantity: float, price: Any) -> float:
    """Cost of a month's quantity at one price, or at tiers [[size, price], ..., [None, price]]."""
    if not isinstance(price, list):
        return quantity * float(price)
    total, left = 0.0, quantity
    for size, unit_price in price:
        used = left if size is None else min(left, float(size))
        total += used * float(unit_price)
        left -= used
        if left <= 0:
            break
    return total


# ---------------------------------------------------------------------- units per order
# What one order consumes, in billed units; a mix of outcomes is the weighted sum.
UNIT_NAMES = (
    "transitions",
    "lambda_requests",
    "lambda_gb_seconds",
    "sqs_command_requests",
    "sqs_other_requests",
    "events",
    "write_units",
    "read_units",
    "api_requests",
    "log_bytes",
    "express_requests",
    "express_gb_seconds",
)


@dataclass
class OrderUnits:
    """Billed units per order for one outcome (or a mix), with what they came from."""

    units: dict[str, float]
    states: dict[str, float] = field(default_factory=dict)
    functions: dict[str, dict[str, float]] = field(default_factory=dict)
    architecture: str = "arm64"


def blend(per_outcome: dict[str, OrderUnits], mix: dict[str, float]) -> OrderUnits:
    units = {name: 0.0 for name in UNIT_NAMES}
    states: dict[str, float] = {}
    for outcome, share in mix.items():
        if share == 0:
            continue
        measured = per_outcome[outcome]
        for name in UNIT_NAMES:
            units[name] += share * measured.units[name]
        for state, visits in measured.states.items():
            states[state] = states.get(state, 0.0) + share * visits
    first = next(iter(per_outcome.values()))
    return OrderUnits(units, dict(states), {}, first.architecture)


# ---------------------------------------------------------------------- bills
def orders_per_month(orders_per_day: float, prices: PriceBook) -> float:
    return orders_per_day * prices.hours_per_month / 24


def _shared_lines(month: dict[str, float], prices: PriceBook) -> dict[str, float]:
    return {
        "EventBridge": prices.cost("events.custom_event", month["events"]),
        "DynamoDB": prices.cost("dynamodb.write_request_unit", month["write_units"])
        + prices.cost("dynamodb.read_request_unit", month["read_units"]),
        "CloudWatch Logs": prices.cost("logs.ingested_gb", month["log_bytes"] / GB),
    }


def _lambda_line(month: dict[str, float], prices: PriceBook, architecture: str) -> float:
    return prices.cost("lambda.request", month["lambda_requests"]) + prices.cost(
        f"lambda.gb_second_{architecture.replace('-', '_')}", month["lambda_gb_seconds"]
    )


def bills(
    order: OrderUnits, orders_per_day: float, prices: PriceBook, fleet: Fleet
) -> dict[str, dict[str, float]]:
    """The monthly bill by service of each design, in USD."""
    n = orders_per_month(orders_per_day, prices)
    month = {name: value * n for name, value in order.units.items()}
    shared = _shared_lines(month, prices)
    api = prices.cost("apigateway.http_request", month["api_requests"])
    lambda_cost = _lambda_line(month, prices, order.architecture)
    standard = {
        "Step Functions": prices.cost("stepfunctions.standard_transition", month["transitions"]),
        "Lambda": lambda_cost,
        "SQS": prices.cost(
            "sqs.standard_request", month["sqs_command_requests"] + month["sqs_other_requests"]
        ),
        "API Gateway": api,
        **shared,
    }
    express = {
        "Step Functions": prices.cost("stepfunctions.express_request", month["express_requests"])
        + prices.cost("stepfunctions.express_gb_second", month["express_gb_seconds"]),
        "Lambda": lambda_cost,
        "SQS": prices.cost("sqs.standard_request", month["sqs_other_requests"]),
        "API Gateway": api,
        **shared,
    }
    hours = prices.hours_per_month
    tasks = fleet.tasks(orders_per_day)
    new_connections_per_second = orders_per_day / 86_400
    container = {
        "Fargate": tasks
        * hours
        * (
            fleet.vcpu * float(prices.price("fargate.vcpu_hour_arm64"))
            + fleet.memory_gb * float(prices.price("fargate.gb_hour_arm64"))
        ),
        "Load balancer": hours * float(prices.price("elb.alb_hour"))
        + hours * new_connections_per_second / 25 * float(prices.price("elb.lcu_hour")),
        **shared,
    }
    return {"Standard": standard, "Express": express, "container": container}


def totals(
    order: OrderUnits, orders_per_day: float, prices: PriceBook, fleet: Fleet
) -> dict[str, float]:
    return {
        design: sum(lines.values())
        for design, lines in bills(order, orders_per_day, prices, fleet).items()
    }


def crossovers(
    order: OrderUnits, prices: PriceBook, fleet: Fleet, span: tuple[float, float] = CHART_RANGE
) -> list[dict[str, Any]]:
    """Volumes (orders a day) where one design's monthly total passes another's."""
    low, high = math.log10(span[0]), math.log10(span[1])
    grid = [10 ** (low + (high - low) * i / 600) for i in range(601)]
    found = []
    for index, a in enumerate(DESIGNS):
        for b in DESIGNS[index + 1 :]:

            def gap(volume: float, a: str = a, b: str = b) -> float:
                costs = totals(order, volume, prices, fleet)
                return costs[a] - costs[b]

            for left, right in zip(grid, grid[1:], strict=False):
                if (gap(left) > 0) == (gap(right) > 0):
                    continue
                for _ in range(40):
                    middle = math.sqrt(left * right)
                    if (gap(middle) > 0) == (gap(left) > 0):
                        left = middle
                    else:
                        right = middle
                cheaper = a if gap(right) < 0 else b
                found.append({"between": [a, b], "ordersPerDay": right, "cheaperAbove": cheaper})
    return sorted(found, key=lambda crossing: crossing["ordersPerDay"])


def waste(order: OrderUnits, definition: dict[str, Any], prices: PriceBook) -> list[str]:
    """Where the saga's shape costs money for nothing, priced per million orders."""
    per_transition = float(prices.price("stepfunctions.standard_transition"))
    findings = []
    for name, state in definition.get("States", {}).items():
        visits = order.states.get(name, 0.0)
        if state.get("Type") != "Pass" or visits == 0 or "Result" in state:
            continue
        reshapes = [
            key for key in ("InputPath", "Parameters", "ResultPath", "OutputPath") if key in state
        ]
        hint = (
            "the rule target's InputPath could hand the saga its detail"
            if "InputPath" in reshapes and not state.get("End")
            else "it only shapes the execution's output: worth it only if something reads that"
        )
        findings.append(
            f"Pass state {name!r} only reshapes its input ({', '.join(reshapes)}): "
            f"{visits:.2f} transitions per order, ${visits * per_transition * 1e6:,.2f} per "
            f"million orders on Standard; {hint}"
        )
    retries = sum(order.states.get(f"{name} (retry)", 0.0) for name in definition.get("States", {}))
    if retries:
        findings.append(
            f"retries: {retries:.2f} extra transitions per order, "
            f"${retries * per_transition * 1e6:,.2f} per million orders"
        )
    return findings


# ---------------------------------------------------------------------- measuring
def transitions_of(events: list[dict[str, Any]]) -> tuple[int, Counter[str]]:
    """Billed transitions of one execution: every state entered, plus every retried attempt."""
    visits: Counter[str] = Counter()
    current, attempts = "", 0
    for event in events:
        if event["type"].endswith("StateEntered"):
            current, attempts = event["stateEnteredEventDetails"]["name"], 0
            visits[current] += 1
        elif event["type"] == "TaskScheduled":
            attempts += 1
            if attempts > 1:
                visits[f"{current} (retry)"] += 1
    return sum(visits.values()), visits


def command_queues(events: list[dict[str, Any]]) -> set[str]:
    """Queues the execution sent task-token commands to (what Express would call directly)."""
    queues = set()
    for event in events:
        details = event.get("taskScheduledEventDetails") or {}
        if details.get("resource") == "sendMessage.waitForTaskToken":
            url = json.loads(details.get("parameters") or "{}").get("QueueUrl", "")
            queues.add(str(url).rsplit("/", 1)[-1])
    return queues


def express_gb_seconds(events: list[dict[str, Any]]) -> float:
    """Billed Express duration of one execution as long as this one took, in GB-seconds."""
    seconds = (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds()
    steps = max(1, math.ceil(seconds / EXPRESS_STEP_SECONDS - 1e-9))
    return steps * EXPRESS_STEP_SECONDS * EXPRESS_MEMORY_GB


def architectures(template: dict[str, Any]) -> dict[str, str]:
    """Each function's architecture from the template (Globals first), arm64 or x86_64."""
    default = ((template.get("Globals") or {}).get("Function") or {}).get("Architectures")
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            declared = (resource.get("Properties") or {}).get("Architectures") or default
            found[logical_id] = (declared or ["x86_64"])[0]
    return found


def order_units(
    usage: Any, executions: list[list[dict[str, Any]]], orders: int, architecture: str
) -> OrderUnits:
    """Per-order units from a meter's usage and the histories of the orders' executions."""
    queues: set[str] = set()
    states: Counter[str] = Counter()
    transitions = 0
    express = 0.0
    for events in executions:
        count, visits = transitions_of(events)
        transitions += count
        states.update(visits)
        queues |= command_queues(events)
        express += express_gb_seconds(events)
    functions: dict[str, dict[str, float]] = {}
    gb_seconds = 0.0
    for invocation in usage.invocations:
        billed_ms = math.ceil(invocation.milliseconds)
        gb_seconds += invocation.memory_mb / 1024 * billed_ms / 1000
        entry = functions.setdefault(
            invocation.function, {"invocations": 0, "ms": 0.0, "memoryMb": invocation.memory_mb}
        )
        entry["invocations"] += 1
        entry["ms"] += invocation.milliseconds
    sqs_commands = sum(v for (queue, _), v in usage.sqs_requests.items() if queue in queues)
    sqs_other = sum(usage.sqs_requests.values()) - sqs_commands
    units = {
        "transitions": transitions,
        "lambda_requests": len(usage.invocations),
        "lambda_gb_seconds": gb_seconds,
        "sqs_command_requests": sqs_commands,
        "sqs_other_requests": sqs_other,
        "events": usage.events,
        "write_units": sum(usage.write_units.values()),
        "read_units": sum(usage.read_units.values()),
        "api_requests": orders,
        "log_bytes": sum(usage.log_bytes.values()),
        "express_requests": len(executions),
        "express_gb_seconds": express,
    }
    return OrderUnits(
        {name: float(value) / orders for name, value in units.items()},
        {state: visits / orders for state, visits in states.items()},
        {
            name: {
                "invocationsPerOrder": entry["invocations"] / orders,
                "meanMs": entry["ms"] / entry["invocations"],
                "memoryMb": entry["memoryMb"],
            }
            for name, entry in sorted(functions.items())
        },
        architecture,
    )


SEED_STOCK = {"SKU-APPLE": 100_000, "SKU-PEAR": 3, "SKU-PLUM": 100_000}
SEED_BALANCES = {"CUST-ALICE": 100_000_000, "CUST-BOB": 1_000, "CUST-CAROL": 100_000_000}


class _Sampler:
    """Places one order of an outcome on a running local cloud and waits for its saga."""

    def __init__(self, cloud: Any, deadline: float) -> None:
        from order_saga_tools.demo import CURRENCY, SCENARIOS
        from order_saga_tools.faults import wrap_port
        from order_saga_tools.seeding import seed

        self.cloud = cloud
        self.deadline = deadline
        self.scenarios = {s.name: s for s in SCENARIOS}
        seed(cloud, SEED_STOCK, SEED_BALANCES, CURRENCY)
        self.order_store = wrap_port(cloud.container_of("OrderWorkerFunction"), "orders")

    def place(self, outcome: str) -> str:
        from order_saga_tools.demo import post_order
        from order_saga_tools.faults import InjectedFaultError

        scenario = self.scenarios[DEMO_SCENARIO[outcome]]
        order_id = str(uuid.uuid4())
        if scenario.fault_at_confirm:
            self.order_store.inject(
                "confirm", order_id, InjectedFaultError("the order store refused the write")
            )
        response = post_order(self.cloud, scenario.customer_id, scenario.body(), None, order_id)
        if response["statusCode"] != 202:
            raise RuntimeError(f"{outcome}: POST /orders answered {response}")
        saga = self.cloud.wait_for_saga(order_id, timeout=self.deadline, with_path=False)
        self._settle()
        expected = "CONFIRMED" if outcome == "confirmed" else "CANCELLED"
        if saga.status != expected:
            raise RuntimeError(f"{outcome}: the order ended {saga.status}, not {expected}")
        return order_id

    def _settle(self) -> None:
        """Wait until the pollers have deleted what they delivered (billed after the saga)."""
        stop = time.monotonic() + self.deadline
        while any(p.in_flight for p in self.cloud.pollers) and time.monotonic() < stop:
            time.sleep(0.005)

    def execution(self, order_id: str) -> list[dict[str, Any]]:
        order = self.cloud.order(order_id) or {}
        return list(self.cloud.execution_history(str(order["executionId"])))


def measure(
    root: Path | str = ".", samples: int = 3, region: str = "us-east-1", deadline: float = 30.0
) -> dict[str, OrderUnits]:
    """Run `samples` orders of each outcome (after one unmetered warm-up each) and count them."""
    from localcloud.deploy import ACCOUNT_ID
    from localcloud.metering import Meter
    from localcloud.template import load_template
    from order_saga_tools.saga import SagaCloud

    root = Path(root)
    kinds = set(architectures(load_template(root / "template.yaml")).values())
    if len(kinds) != 1:
        raise CostInputError(f"the functions mix architectures {sorted(kinds)}; one is priced")
    architecture = kinds.pop()
    measured = {}
    with SagaCloud(root, clock_scale=0.01, region=region) as cloud:
        sampler = _Sampler(cloud, deadline)
        for outcome in OUTCOMES:
            sampler.place(outcome)  # cold starts are not what a steady month is made of
        for outcome in OUTCOMES:
            meter = Meter(ACCOUNT_ID, cloud.region)
            meter.attach(cloud.runtime)
            meter.start()
            try:
                order_ids = [sampler.place(outcome) for _ in range(samples)]
            finally:
                usage = meter.stop()
            executions = [sampler.execution(order_id) for order_id in order_ids]
            measured[outcome] = order_units(usage, executions, samples, architecture)
    return measured


# ---------------------------------------------------------------------- the command
def add_command(commands: Any) -> None:
    """Register `order-saga cost` on the CLI's subcommands."""
    cost = commands.add_parser(
        "cost",
        help="a month's bill at a volume: sample orders measured on the local cloud, priced",
    )
    cost.add_argument("--orders-per-day", type=float, required=True, metavar="N")
    cost.add_argument(
        "--mix",
        metavar="OUTCOME=SHARE,...",
        help="shares of confirmed, out-of-stock, declined and fails, summing to 1 (default "
        + ",".join(f"{k}={v:g}" for k, v in DEFAULT_MIX.items())
        + ")",
    )
    cost.add_argument(
        "--region", default="us-east-1", help="prices of this region (default us-east-1)"
    )
    cost.add_argument(
        "--fleet",
        metavar="SETTING=VALUE,...",
        help="the container baseline: min-tasks, vcpu, memory-gb, orders-per-second-per-task, "
        "peak-ratio (default 2, 0.5, 1, 25, 3)",
    )
    cost.add_argument(
        "--samples", type=int, default=3, help="orders measured per outcome (default 3)"
    )
    cost.add_argument("--json", action="store_true", help="print the result as JSON")
    cost.add_argument("--chart", metavar="FILE.svg", help="draw cost a month against volume")
    cost.set_defaults(run=command)


def command(args: Any) -> int:
    import sys

    try:
        mix = parse_mix(args.mix)
        fleet = parse_fleet(args.fleet)
        if not math.isfinite(args.orders_per_day) or args.orders_per_day < 0:
            raise CostInputError(f"--orders-per-day must be 0 or more, not {args.orders_per_day:g}")
        if args.samples < 1:
            raise CostInputError("--samples must be at least 1")
        if args.chart is not None and not args.chart.endswith(".svg"):
            raise CostInputError(f"--chart: {args.chart} must name an .svg file")
        prices = load_prices(args.root, args.region)
    except CostInputError as exc:
        print(f"order-saga: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        print(
            f"running {args.samples} orders of each outcome on the local cloud...",
            file=sys.stderr,
            flush=True,
        )
    per_outcome = measure(args.root, args.samples)
    result = report(args.root, per_outcome, args.orders_per_day, mix, prices, fleet, args.samples)
    if args.chart is not None:
        result["chart"] = str(chart(per_outcome, mix, prices, fleet, args.chart))
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


def report(
    root: Path | str,
    per_outcome: dict[str, OrderUnits],
    orders_per_day: float,
    mix: dict[str, float],
    prices: PriceBook,
    fleet: Fleet,
    samples: int,
) -> dict[str, Any]:
    order = blend(per_outcome, mix)
    definition = json.loads(
        (Path(root) / "statemachines" / "order_saga.asl.json").read_text(encoding="utf-8")
    )
    per_transition = float(prices.price("stepfunctions.standard_transition"))
    return {
        "ordersPerDay": orders_per_day,
        "ordersPerMonth": orders_per_month(orders_per_day, prices),
        "region": prices.region,
        "pricesChecked": prices.checked,
        "unconfirmedPrices": prices.unconfirmed(),
        "mix": mix,
        "samplesPerOutcome": samples,
        "perOrder": {o: per_outcome[o].units for o in OUTCOMES} | {"mix": order.units},
        "functions": {o: per_outcome[o].functions for o in OUTCOMES},
        "bills": bills(order, orders_per_day, prices, fleet),
        "totals": totals(order, orders_per_day, prices, fleet),
        "crossovers": crossovers(order, prices, fleet),
        "fleet": {**fleet.__dict__, "tasks": fleet.tasks(orders_per_day)},
        "extraStatePerMillionOrders": per_transition * 1e6,
        "waste": waste(order, definition, prices),
    }


EXPRESS_CHANGES = (
    "Express cannot wait for task tokens: the three steps and three compensations would call "
    "their workers synchronously (lambda:invoke) instead of sendMessage.waitForTaskToken, so "
    "the command queues, their receives and deletes, and SendTask* calls go away",
    "an Express execution lasts at most 5 minutes: the 960 s heartbeats and 1200 s timeouts, and "
    "compensation retries that wait minutes, must fit in that or move to a Standard parent",
    "Express runs at least once, not exactly once (the claim and idempotent workers already "
    "cope), and keeps no execution history: its history is its CloudWatch log, billed as logs",
    "the workers' failure domains (a queue and a DLQ each) would be replaced by the state "
    "machine's own retries",
)

NOTES = (
    "Lambda duration is this machine's in-process wall time of each warm invocation, a stand-in "
    "for AWS's; memory is the template's",
    "DynamoDB on demand: a write is 1 WRU per started KB of the larger of the item before and "
    "after it (a failed condition or a delete: as it was), at least 1; a read 1 RRU per started "
    "4 KB strongly consistent, 0.5 eventually; transactions count every item twice",
    "no free tiers, no Savings Plans, no data transfer, no storage, no X-Ray; a month is "
    "730 hours; idle polling of the queues by Lambda (about 3 empty receives a minute per "
    "poller) does not grow with orders and is left out",
    "Express duration: each execution as long as it took here (queue hops included), rounded "
    "up to 100 ms, in one 64 MB chunk",
    "container baseline: an always-on Fargate service (Linux/ARM) sized for the peak, behind an "
    "Application Load Balancer, doing the same DynamoDB writes, events and logs",
)


def money(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:,.4f}"


def volume(orders: float) -> str:
    if orders >= 1_000_000:
        return f"{orders / 1_000_000:,.3g}M"
    if orders >= 1000:
        return f"{orders / 1000:,.3g}k"
    return f"{orders:,.0f}"


def render(result: dict[str, Any]) -> str:
    from order_saga_tools.operator import table

    lines = [
        f"{result['ordersPerDay']:,.0f} orders a day ({result['ordersPerMonth']:,.0f} a month of "
        f"730 h), {result['region']}, prices read {result['pricesChecked']}, "
        f"{result['samplesPerOutcome']} sample orders per outcome",
        "mix: " + ", ".join(f"{o} {share:.0%}" for o, share in result["mix"].items()),
        "",
    ]
    columns = [*OUTCOMES, "mix"]
    rows = []
    labels = (
        ("transitions", "state transitions", "{:.2f}"),
        ("lambda_requests", "Lambda invocations", "{:.2f}"),
        ("lambda_gb_seconds", "Lambda GB-s (billed)", "{:.4f}"),
        ("sqs_command_requests", "SQS requests, commands", "{:.2f}"),
        ("sqs_other_requests", "SQS requests, other", "{:.2f}"),
        ("events", "EventBridge events", "{:.2f}"),
        ("write_units", "DynamoDB WRU", "{:.2f}"),
        ("read_units", "DynamoDB RRU", "{:.2f}"),
        ("api_requests", "API requests", "{:.2f}"),
        ("log_bytes", "log bytes", "{:,.0f}"),
    )
    for key, label, shape in labels:
        rows.append([label, *(shape.format(result["perOrder"][c][key]) for c in columns)])
    lines.append(table(["per order", *columns], rows))
    lines.append("")
    services = list(dict.fromkeys(s for lines_ in result["bills"].values() for s in lines_))
    bill_rows = [
        [
            service,
            *(
                money(result["bills"][d][service]) if service in result["bills"][d] else "-"
                for d in DESIGNS
            ),
        ]
        for service in services
    ]
    bill_rows.append(["total", *(money(result["totals"][d]) for d in DESIGNS)])
    lines.append(table(["a month (USD)", *DESIGNS], bill_rows))
    lines.append("")
    for crossing in result["crossovers"]:
        a, b = crossing["between"]
        lines.append(
            f"{a} and {b} cross at {volume(crossing['ordersPerDay'])} orders a day; "
            f"above it {crossing['cheaperAbove']} is cheaper"
        )
    if not result["crossovers"]:
        lines.append("no design crosses another between 100 and 100M orders a day")
    lines.append(
        f"each extra state an order passes costs {money(result['extraStatePerMillionOrders'])} "
        "per million orders on Standard"
    )
    lines.append(f"container fleet: {result['fleet']['tasks']} tasks at this volume")
    lines += ["", "waste:"] + [f"  - {finding}" for finding in result["waste"] or ["none found"]]
    lines += ["", "Express, what must change:"] + [f"  - {change}" for change in EXPRESS_CHANGES]
    lines += ["", "how it is counted:"] + [f"  - {note}" for note in NOTES]
    if result["unconfirmedPrices"]:
        lines.append(
            f"  - not confirmed for {result['region']} in the page copy read: "
            + ", ".join(result["unconfirmedPrices"])
        )
    return "\n".join(lines)


def chart(
    per_outcome: dict[str, OrderUnits],
    mix: dict[str, float],
    prices: PriceBook,
    fleet: Fleet,
    path: Path | str,
) -> Path:
    """Cost a month against orders a day for the three designs, log scales, crossovers marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "order-saga-cost"
    order = blend(per_outcome, mix)
    low, high = (math.log10(v) for v in CHART_RANGE)
    grid = [10 ** (low + (high - low) * i / 300) for i in range(301)]
    figure, axes = plt.subplots(figsize=(8, 5))
    for design, style in zip(DESIGNS, ("-", "--", ":"), strict=True):
        axes.plot(
            grid,
            [totals(order, v, prices, fleet)[design] for v in grid],
            style,
            linewidth=2,
            label=design if design != "container" else "container (Fargate + ALB)",
        )
    for crossing in crossovers(order, prices, fleet):
        at = crossing["ordersPerDay"]
        cost = totals(order, at, prices, fleet)[crossing["between"][0]]
        axes.plot([at], [cost], "ko")
        axes.annotate(
            f"{' = '.join(crossing['between'])}\n{volume(at)}/day",
            (at, cost),
            textcoords="offset points",
            xytext=(8, -24),
            fontsize=8,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("orders per day")
    axes.set_ylabel(f"USD per month ({prices.region}, prices of {prices.checked})")
    axes.set_title("order-saga: a month's bill by design, measured on the local cloud")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    target = Path(path)
    figure.savefig(target, format="svg", metadata={"Date": None})
    plt.close(figure)
    return target
