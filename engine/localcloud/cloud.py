"""The local cloud: a SAM template deployed on moto in this process, with the real handlers."""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from localcloud.collector import paused, paused_then_frozen

with paused_then_frozen():
    import boto3
    from botocore.config import Config

    from localcloud import moto_adaptations, sns
    from localcloud.deploy import ACCOUNT_ID, Deployer, Deployment
    from localcloud.pollers import Mapping, QueuePoller
    from localcloud.runtime import HandlerError, LambdaRuntime, restore_environment
    from localcloud.schedules import Scheduler, fire
    from localcloud.template import TemplateError, load_template, translate

STATE_DIR = ".localcloud"
# Under the state folder: SAM translations and parsed state machines, each under a hash of its
# inputs, so that a start with the same template skips both.
CACHE_DIR = "cache"
MOTO_CONFIG = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
    "core": {"reset_boto3_session": True},
}
# Net new containers between collections of the youngest generation while a cloud runs.
YOUNG_COLLECTION_THRESHOLD = 5000


class LocalCloud:
    """Deploys a SAM template on an in-process emulator and runs it until stopped."""

    def __init__(
        self,
        root: Path | str = ".",
        template: str = "template.yaml",
        clock_scale: float = 1.0,
        parameters: dict[str, str] | None = None,
        stack_name: str = "localcloud",
        region: str = "us-east-1",
        local_defaults: dict[str, str] | None = None,
        state_dir: str = STATE_DIR,
        fire_schedules: bool = True,
    ) -> None:
        """`parameters` override the template's defaults; `local_defaults` apply only to the
        parameters the template declares and `parameters` leaves unset. `state_dir` (under
        `root`) holds what outlives one run: the local signing key, the outputs written.
        `template` is relative to `root`; code and definition paths to the template's folder.
        `fire_schedules` runs the rate() schedules on the scaled clock."""
        if clock_scale <= 0:
            raise ValueError("clock_scale must be more than 0 (1.0 is real time)")
        self.root = Path(root).resolve()
        self.template_path = self.root / template
        self.clock_scale = clock_scale
        self.parameters = dict(parameters or {})
        self.local_defaults = dict(local_defaults or {})
        self.state_dir = self.root / state_dir
        self.region = region
        self.deployment = Deployment(stack_name=stack_name, region=region)
        self.pollers: list[QueuePoller] = []
        self._clients: dict[str, Any] = {}
        self._mock: Any = None
        self._saved_environ: dict[str, str] = {}
        self.runtime: LambdaRuntime | None = None
        self.fire_schedules = fire_schedules
        self.scheduler: Scheduler | None = None
        self.delivery_failures: list[dict[str, Any]] = []
        # Called with each failed delivery as it is recorded: the commands print it on stderr,
        # since a delivery that fails leaves nothing else behind but its dead letter.
        self.on_delivery_failure: Callable[[dict[str, Any]], None] | None = None
        # Called with each execution that ends other than SUCCEEDED or ABORTED (its ARN, status,
        # error and cause): in AWS a failed execution raises the ExecutionsFailed metric.
        self.on_execution_failure: Callable[[dict[str, Any]], None] | None = None
        # Called with each event before a rule delivers it to a target; raising fails the
        # delivery, which then goes to the target's dead-letter queue (faults, drills).
        self.delivery_guard: Callable[[dict[str, Any]], None] | None = None
        self._deliveries: list[threading.Thread] = []
        self._thresholds: tuple[int, ...] | None = None  # the collector's, while tuned

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Self:
        if moto_adaptations.state.lambda_router is not None:
            raise RuntimeError("another local cloud is running in this process; stop it first")
        # What a start makes (moto's backends and models, botocore's, the parsed programs) is
        # nearly all kept for the cloud's life, so the collector, which ran about 175 ms of
        # a 0.6 s start walking it, is paused until it is frozen (`_tune_the_collector`).
        with paused():
            self._start()
        return self

    def _start(self) -> None:
        from moto import mock_aws

        template = load_template(self.template_path)
        declared = template.get("Parameters") or {}
        self.parameters = {
            **{k: v for k, v in self.local_defaults.items() if k in declared},
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
        moto_adaptations.state.sns_deliverer = functools.partial(sns.deliver, self)
        moto_adaptations.state.execution_ended = self._execution_ended
        moto_adaptations.state.clock_scale = self.clock_scale
        moto_adaptations.state.cache_dir = self.state_dir / CACHE_DIR
        try:
            base = self.template_path.parent
            translated = translate(template, base, self.region, self.state_dir / CACHE_DIR)
            Deployer(self.client, self.deployment).deploy(translated, self.parameters)
            self.runtime = LambdaRuntime(self.deployment.functions, base, self.region)
            self.runtime.start()
            self._start_pollers()
            self._start_schedules()
        except BaseException:
            self.stop()
            raise
        self._tune_the_collector()

    def _tune_the_collector(self) -> None:
        """What the start made (moto's models and backends, botocore's, the parsed programs)
        lives as long as the cloud: the garbage collector stops walking it at every full
        collection (about a hundred milliseconds each, more as the state grows), and its
        cycles, with those the paused start left uncollected, become collectable again when
        the cloud stops. A request makes hundreds of short-lived containers, so the youngest
        generation is collected every few thousand of them instead of every 700 (Python's
        default): the collector's time over 100 sagas went from 234 to 101 ms. Both are put
        back at stop."""
        self._thresholds = gc.get_threshold()
        youngest, *older = self._thresholds
        if 0 < youngest < YOUNG_COLLECTION_THRESHOLD:
            gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *older)
        gc.freeze()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        for poller in self.pollers:
            poller.stopping.set()
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        for thread in self._deliveries:
            thread.join(timeout=5)
        if self._mock is not None:
            self._stop_executions()
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        moto_adaptations.state.lambda_router = None
        moto_adaptations.state.target_deliverer = None
        moto_adaptations.state.sns_deliverer = None
        moto_adaptations.state.execution_ended = None
        moto_adaptations.state.clock_scale = 1.0
        moto_adaptations.state.cache_dir = None
        moto_adaptations.state.unsigned = False
        moto_adaptations.forget_clients()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._saved_environ:
            restore_environment(self._saved_environ)  # threads that outlive the cloud read it
            self._saved_environ = {}
        self._clients = {}
        if self._thresholds is not None:
            gc.unfreeze()
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def _stop_executions(self) -> None:
        """Executions still running end with the cloud, as StopExecution ends them (ABORTED).
        Left to run, one would wake while this process runs its next cloud, whose tables and
        queues may bear the same names, and act on them."""
        from moto.core.utils import utcnow
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][self.region]
        for machine in list(backend.state_machines):
            for execution in list(machine.executions):
                if _status_of(execution) == "RUNNING":
                    execution.stop(
                        stop_date=utcnow(),
                        error="LocalCloud.Stopped",
                        cause="the local cloud stopped while the execution ran",
                    )

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

    def _start_schedules(self) -> None:
        if not self.fire_schedules:
            for schedule in self.deployment.schedules:
                self.deployment.note(
                    schedule.logical_id, "not fired (schedules are off); invoke its target by hand"
                )
            return
        self.scheduler = Scheduler(
            self.deployment.schedules, self.clock_scale, functools.partial(fire, self)
        )
        self.scheduler.start()

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
        self.track_delivery(thread)
        thread.start()

    def track_delivery(self, thread: threading.Thread) -> None:
        """A delivery's thread, joined when the cloud stops."""
        self._deliveries = [t for t in self._deliveries if t.is_alive()] + [thread]

    def wait_for_deliveries(self, timeout: float) -> None:
        """Until every delivery started so far has been made or has failed (an execution it
        started may still run)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._deliveries):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _deliver(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        payload = _target_input(target, event)
        arn = target["Arn"]
        try:
            if self.delivery_guard is not None:
                self.delivery_guard(event)
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

    def _execution_ended(self, execution: Any) -> None:
        if self.on_execution_failure is None:
            return
        status = getattr(execution.exec_status, "value", str(execution.exec_status))
        if status in ("SUCCEEDED", "ABORTED"):
            return
        self.on_execution_failure({
            "executionArn": execution.exec_arn,
            "status": status,
            "error": execution.error,
            "cause": execution.cause,
        })

    def record_delivery_failure(self, failure: dict[str, Any]) -> None:
        """A rule's or a topic's delivery that failed: kept, and passed to `on_delivery_failure`."""
        self.delivery_failures.append(failure)
        if self.on_delivery_failure is not None:
            self.on_delivery_failure(failure)

    def _dead_letter(self, rule: Any, target: dict[str, Any], payload: str, exc: Exception) -> None:
        failure = {
            "rule": rule.name,
            "target": target["Arn"],
            "error": f"{type(exc).__name__}: {exc}",
        }
        self.record_delivery_failure(failure)
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

    # ------------------------------------------------------------------ state
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

    def ended_execution(self, execution_arn: str) -> Any:
        """The emulator's execution once it has ended, else None."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][self.region]
        try:
            execution = backend.describe_execution(execution_arn)
        except Exception:  # noqa: BLE001 - not visible yet: keep waiting
            return None
        return None if _status_of(execution) in (None, "RUNNING") else execution

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every event of an execution's history, all pages, through the Step Functions API."""
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def execution_path(self, execution_arn: str) -> tuple[str, ...]:
        """State names in the order the execution entered them, from its history."""
        events = self.execution_history(execution_arn)
        return tuple(
            event["stateEnteredEventDetails"]["name"]
            for event in events
            if event["type"].endswith("StateEntered")
        )

    def peek_item(self, table: str, key: dict[str, str]) -> dict[str, Any] | None:
        """An item of a template's table (logical id, string keys), read from the emulator's
        memory: no API call, for waits that look often."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        found = dynamodb_backends[ACCOUNT_ID][self.region].tables.get(self.ref(table))
        if found is None:
            return None
        hash_value, *range_value = [DynamoType({"S": value}) for value in key.values()]
        item = found.get_item(hash_value, range_value[0] if range_value else None)
        return None if item is None else {name: value.value for name, value in item.attrs.items()}

    def executions(self, state_machine: str) -> list[dict[str, Any]]:
        """Every execution of a template's state machine (logical id), all pages of them."""
        pages = (
            self.client("stepfunctions")
            .get_paginator("list_executions")
            .paginate(stateMachineArn=self.ref(state_machine))
        )
        return [execution for page in pages for execution in page["executions"]]


def _status_of(execution: Any) -> str | None:
    """An emulator's execution's status (RUNNING, SUCCEEDED...); None before it has one."""
    raw = getattr(execution, "exec_status", None)
    return getattr(raw, "value", raw)


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


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}
