"""The local cloud: template.yaml deployed on moto in this process, with the real handlers."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from order_saga.local import moto_adaptations
from order_saga.local.deploy import ACCOUNT_ID, Deployer, Deployment
from order_saga.local.identity import LOCAL_IDENTITY_PARAMETERS
from order_saga.local.pollers import Mapping, QueuePoller
from order_saga.local.runtime import HandlerError, LambdaRuntime
from order_saga.local.template import TemplateError, code_uri_of, load_template, translate

TERMINAL_ORDER_STATUSES = frozenset({"CONFIRMED", "CANCELLED", "COMPENSATION_FAILED"})
SAGA_POLL_SECONDS = 0.05
MOTO_CONFIG = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
    "core": {"reset_boto3_session": True},
}


class SagaDeadlineError(TimeoutError):
    """A saga did not reach a terminal status before its deadline."""


@dataclass(frozen=True)
class SagaResult:
    """How one order's saga ended, read from the tables and the execution history."""

    order_id: str
    status: str
    reason: str | None
    execution_status: str
    path: tuple[str, ...]
    output: dict[str, Any] | None


class LocalCloud:
    """Deploys a SAM template on an in-process emulator and runs it until stopped."""

    def __init__(
        self,
        root: Path | str = ".",
        template: str = "template.yaml",
        clock_scale: float = 1.0,
        parameters: dict[str, str] | None = None,
        stack_name: str = "order-saga-local",
        region: str = "us-east-1",
    ) -> None:
        if clock_scale <= 0:
            raise ValueError("clock_scale must be more than 0 (1.0 is real time)")
        self.root = Path(root).resolve()
        self.template_path = self.root / template
        self.clock_scale = clock_scale
        self.parameters = {"Stage": "local", **(parameters or {})}
        self.region = region
        self.deployment = Deployment(stack_name=stack_name, region=region)
        self.pollers: list[QueuePoller] = []
        self._clients: dict[str, Any] = {}
        self._mock: Any = None
        self._saved_environ: dict[str, str] = {}
        self.runtime: LambdaRuntime | None = None
        self.delivery_failures: list[dict[str, Any]] = []
        # Drills: refuse the next N deliveries of events about these orders to a target.
        self.refused_deliveries: dict[str, int] = {}
        self._deliveries: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        from moto import mock_aws

        if moto_adaptations.state.lambda_router is not None:
            raise RuntimeError("another local cloud is running in this process; stop it first")
        template = load_template(self.template_path)
        declared = template.get("Parameters") or {}
        self.parameters = {
            **{k: v for k, v in LOCAL_IDENTITY_PARAMETERS.items() if k in declared},
            **self.parameters,
        }
        self._saved_environ = dict(os.environ)
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105
                "AWS_SESSION_TOKEN": "testing",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_DEV": "false",
            }
        )
        # A Fail state or a caught task error is an outcome here, not an emulator error.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[call-overload]
        self._mock.start()
        moto_adaptations.install()
        moto_adaptations.forget_clients()
        moto_adaptations.sign_no_requests()
        moto_adaptations.state.lambda_router = self._route_lambda
        moto_adaptations.state.target_deliverer = self._deliver_target
        moto_adaptations.state.clock_scale = self.clock_scale
        try:
            translated = translate(template, self.root, self.region)
            Deployer(self.client, self.deployment).deploy(translated, self.parameters)
            code_roots = {code_uri_of(template, logical) for logical in self.deployment.functions}
            if len(code_roots) > 1:
                raise TemplateError(
                    f"functions use several CodeUri values {sorted(code_roots)}; "
                    "the local cloud supports one"
                )
            code_root = self.root / (code_roots.pop() if code_roots else "src")
            self.runtime = LambdaRuntime(self.deployment.functions, code_root, self.region)
            self.runtime.start()
            self._start_pollers()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stopping.set()
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        for thread in self._deliveries:
            thread.join(timeout=5)
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        moto_adaptations.state.lambda_router = None
        moto_adaptations.state.target_deliverer = None
        moto_adaptations.state.clock_scale = 1.0
        moto_adaptations.forget_clients()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._saved_environ:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = {}
        self._clients = {}

    # ------------------------------------------------------------------ AWS access
    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                region_name=self.region,
                config=Config(retries={"max_attempts": 1}, max_pool_connections=50),
            )
        return self._clients[service]

    def ref(self, logical_id: str) -> str:
        try:
            return self.deployment.refs[logical_id]
        except KeyError as exc:
            raise KeyError(f"the template has no resource {logical_id}") from exc

    def attribute(self, logical_id: str, name: str) -> str:
        return self.deployment.attributes[logical_id][name]

    # ------------------------------------------------------------------ Lambda
    def invoke(self, function: str, event: Any) -> Any:
        """Invoke a function by logical id or name with an event; HandlerError if it raises."""
        assert self.runtime is not None, "the local cloud is not running"  # noqa: S101
        spec = self.deployment.function_by_name_or_id(function)
        if spec is None:
            known = ", ".join(sorted(self.deployment.functions))
            raise KeyError(f"no function {function!r} in the template (functions: {known})")
        return self.runtime.invoke(spec, event)

    def handler_module(self, function: str) -> Any:
        """The module of a function's handler, cold-starting it when needed."""
        assert self.runtime is not None, "the local cloud is not running"  # noqa: S101
        spec = self.deployment.function_by_name_or_id(function)
        if spec is None:
            raise KeyError(f"no function {function!r} in the template")
        return self.runtime.module_of(spec)

    def container_of(self, function: str) -> Any:
        """The composition root (the ports) of a function's handler, cold-starting it if needed."""
        return self.handler_module(function).container

    def _route_lambda(self, function_name: str, payload: bytes) -> bytes:
        assert self.runtime is not None  # noqa: S101
        spec = self.deployment.function_by_name_or_id(function_name)
        if spec is None:
            return json.dumps(
                {
                    "errorType": "ResourceNotFoundException",
                    "errorMessage": f"Function not found: {function_name}",
                }
            ).encode()
        return self.runtime.invoke_payload(spec, payload)

    def _start_pollers(self) -> None:
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[ACCOUNT_ID][self.region]
        for mapping in self.client("lambda").list_event_source_mappings()["EventSourceMappings"]:
            queue_name = mapping["EventSourceArn"].rsplit(":", 1)[-1]
            queue = backend.get_queue(queue_name)
            function = mapping["FunctionArn"].rsplit(":", 1)[-1]
            spec = self.deployment.function_by_name_or_id(function)
            if spec is None:
                raise TemplateError(f"event source mapping {mapping['UUID']} names no function")
            scaling = mapping.get("ScalingConfig") or {}
            poller = QueuePoller(
                Mapping(
                    uuid=mapping["UUID"],
                    function=spec.logical_id,
                    queue=queue,
                    queue_arn=mapping["EventSourceArn"],
                    batch_size=int(mapping.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (mapping.get("FunctionResponseTypes") or []),
                    maximum_concurrency=int(scaling.get("MaximumConcurrency", 2)),
                ),
                backend,
                self.invoke,
                self.region,
                self.clock_scale,
            )
            queue.lambda_event_source_mappings.clear()
            self.pollers.append(poller)
        for poller in self.pollers:
            poller.start()

    def poller_for(self, function: str) -> QueuePoller:
        for poller in self.pollers:
            if poller.mapping.function == function:
                return poller
        raise KeyError(f"no event source mapping feeds {function}")

    # ------------------------------------------------------------------ EventBridge targets
    def _deliver_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        thread = threading.Thread(
            target=self._deliver,
            args=(rule, target, event),
            daemon=True,
            name=f"deliver-{target.get('Id')}",
        )
        self._deliveries = [t for t in self._deliveries if t.is_alive()] + [thread]
        thread.start()

    def _deliver(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        payload = _target_input(target, event)
        arn = target["Arn"]
        try:
            self._refuse_if_planned(event)
            if ":states:" in arn:
                # EventBridge starts the execution from inside AWS: no API round trip here either.
                from moto.stepfunctions.parser.models import stepfunctions_parser_backends

                stepfunctions_parser_backends[ACCOUNT_ID][self.region].start_execution(
                    arn, name=str(uuid.uuid4()), execution_input=payload
                )
            else:
                function = arn.rsplit(":", 1)[-1]
                self.invoke(function, json.loads(payload))
        except Exception as exc:  # noqa: BLE001 - a failed delivery goes to the target's DLQ
            self._dead_letter(rule, target, payload, exc)

    def _refuse_if_planned(self, event: dict[str, Any]) -> None:
        order_id = str((event.get("detail") or {}).get("orderId", ""))
        if self.refused_deliveries.get(order_id, 0) > 0:
            self.refused_deliveries[order_id] -= 1
            raise ConnectionError(f"delivery refused on purpose for order {order_id}")

    def _dead_letter(self, rule: Any, target: dict[str, Any], payload: str, exc: Exception) -> None:
        failure = {
            "rule": rule.name,
            "target": target["Arn"],
            "error": f"{type(exc).__name__}: {exc}",
        }
        self.delivery_failures.append(failure)
        dlq_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq_arn:
            return
        queue_name = dlq_arn.rsplit(":", 1)[-1]
        url = self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
        self.client("sqs").send_message(
            QueueUrl=url,
            MessageBody=payload,
            MessageAttributes={
                "RULE_ARN": {"DataType": "String", "StringValue": rule.arn},
                "TARGET_ARN": {"DataType": "String", "StringValue": target["Arn"]},
                "ERROR_CODE": {"DataType": "String", "StringValue": type(exc).__name__},
                "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(exc)[:256]},
            },
        )

    # ------------------------------------------------------------------ sagas
    def item(self, table: str, key: dict[str, str]) -> dict[str, Any] | None:
        """An item of a template's table (logical id), read through the DynamoDB API."""
        found = (
            self.client("dynamodb")
            .get_item(
                TableName=self.ref(table),
                Key={name: {"S": value} for name, value in key.items()},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return None if found is None else _plain(found)

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order's item, read through the DynamoDB API."""
        return self.item("OrdersTable", {"orderId": order_id})

    def wait_for_saga(
        self, order_id: str, timeout: float = 30.0, with_path: bool = True
    ) -> SagaResult:
        """Wait until the order is terminal and its execution has ended; raise at the deadline.

        The path comes from the execution history, which is costly to read: pass
        with_path=False where only the outcome matters.
        """
        deadline = time.monotonic() + timeout
        last_status = "unknown"
        while time.monotonic() < deadline:
            # Peek at the emulator's memory, and again when an execution ends: cheap for the system.
            ended = moto_adaptations.executions_ended()
            peeked = self._peek_order(order_id)
            last_status = str(peeked.get("status", "unknown")) if peeked else "unknown"
            execution = None
            if peeked is not None and last_status in TERMINAL_ORDER_STATUSES:
                execution = self._ended_execution(str(peeked.get("executionId", "")))
            if execution is None:
                moto_adaptations.wait_for_an_execution_end(ended, SAGA_POLL_SECONDS)
                continue
            execution_arn = str(peeked["executionId"])  # type: ignore[index]
            output = getattr(execution, "output", None)
            return SagaResult(
                order_id=order_id,
                status=last_status,
                reason=peeked.get("reason"),  # type: ignore[union-attr]
                execution_status=str(
                    getattr(execution.exec_status, "value", execution.exec_status)
                ),
                path=self.saga_path(execution_arn) if with_path else (),
                output=_as_output(output),
            )
        raise SagaDeadlineError(f"order {order_id} is still {last_status} after {timeout:.1f} s")

    def _peek_order(self, order_id: str) -> dict[str, Any] | None:
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = dynamodb_backends[ACCOUNT_ID][self.region].tables.get(self.ref("OrdersTable"))
        item = table.get_item(DynamoType({"S": order_id})) if table is not None else None
        if item is None:
            return None
        return {
            name: value.value
            for name, value in item.attrs.items()
            if name in {"status", "executionId", "reason"}
        }

    def _ended_execution(self, execution_arn: str) -> Any:
        """The emulator's execution once it has ended, else None."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][self.region]
        try:
            execution = backend.describe_execution(execution_arn)
        except Exception:  # noqa: BLE001 - not visible yet: keep waiting
            return None
        raw = getattr(execution, "exec_status", None)
        status = getattr(raw, "value", raw)
        return None if status in (None, "RUNNING") else execution

    def saga_path(self, execution_arn: str) -> tuple[str, ...]:
        """State names in the order the execution entered them, from its history."""
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return tuple(
            event["stateEnteredEventDetails"]["name"]
            for event in events
            if event["type"].endswith("StateEntered")
        )

    def executions(self) -> list[dict[str, Any]]:
        """Every execution of the saga, all pages of them."""
        pages = (
            self.client("stepfunctions")
            .get_paginator("list_executions")
            .paginate(stateMachineArn=self.ref("OrderSagaStateMachine"))
        )
        return [execution for page in pages for execution in page["executions"]]


def _target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What a target receives: Input, InputPath or the whole event (InputTransformer is refused)."""
    if "Input" in target:
        return str(target["Input"])
    if "InputTransformer" in target:
        raise HandlerError("EventBridge", "NotSupported", "InputTransformer is not emulated")
    if "InputPath" in target:
        value: Any = event
        for part in str(target["InputPath"]).removeprefix("$").strip(".").split("."):
            if part:
                value = value[part]
        return json.dumps(value)
    return json.dumps(event)


def _as_output(output: Any) -> dict[str, Any] | None:
    """An execution's output as the API shows it (JSON), whatever moto keeps in memory."""
    if isinstance(output, str) and output:
        output = json.loads(output)
    return output if isinstance(output, dict) else None


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}
