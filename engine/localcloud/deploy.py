"""Create a translated CloudFormation template's resources in the emulator, in dependency order."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcloud.openapi import routes_of_body
from localcloud.schedules import TARGET_SERVICES, Schedule, interval_seconds
from localcloud.template import LOCAL_CODE_BUCKET, TemplateError

ACCOUNT_ID = "123456789012"
NO_VALUE = object()
SUBSTITUTION = re.compile(r"\$\{([^}!][^}]*)\}")
# The rule functions the Resolver evaluates; a rule with another one is refused, not guessed at.
RULE_FUNCTIONS = frozenset({"Ref", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Equals"})


@dataclass
class FunctionSpec:
    """A deployed function as the local runtime needs it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    timeout: int
    memory: int
    # The function's code folder, relative to the template's folder (its CodeUri).
    code_uri: str = "."


@dataclass(frozen=True)
class Authorizer:
    """An HTTP API authorizer: its type and, for JWT, the issuer and audiences it accepts."""

    kind: str
    issuer: str = ""
    audiences: tuple[str, ...] = ()


@dataclass
class Route:
    """One HTTP API route, the function behind it and how callers are authorized."""

    method: str
    path: str
    function: str
    authorization: str
    authorizer: Authorizer | None = None
    # "2.0" for an HTTP API, "1.0" for a REST API (API Gateway's proxy event formats).
    payload_version: str = "2.0"


@dataclass
class Deployment:
    """What the emulator holds after a deploy: physical ids and attributes per logical id."""

    stack_name: str
    region: str
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    not_emulated: dict[str, str] = field(default_factory=dict)
    # What runs differently here than on AWS, for the user to read at start: each note's text
    # and the resources or parameters it applies to.
    notes: dict[str, list[str]] = field(default_factory=dict)
    schedules: list[Schedule] = field(default_factory=list)
    integrations: dict[str, str] = field(default_factory=dict)
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def note(self, subject: str, text: str) -> None:
        self.notes.setdefault(text, []).append(subject)

    def startup_lines(self) -> list[str]:
        """What the engine does not emulate or runs differently, one line each, for stderr."""
        lines = [f"not emulated: {logical} ({kind})" for logical, kind in self.not_emulated.items()]
        lines.extend(f"{', '.join(subjects)}: {text}" for text, subjects in self.notes.items())
        return lines

    def function_by_name_or_id(self, name: str) -> FunctionSpec | None:
        for spec in self.functions.values():
            if name in (spec.logical_id, spec.name, spec.arn):
                return spec
        return None


def _references(value: Any) -> set[str]:
    """Logical ids a fragment refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found.update(name.split(".")[0] for name in SUBSTITUTION.findall(text))
                if isinstance(inner, list):
                    found.update(_references(inner[1]))
            else:
                found.update(_references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(_references(inner))
    return {name for name in found if not name.startswith("AWS::")}


def _intrinsics(value: Any) -> set[str]:
    """The intrinsic function names a fragment uses."""
    if isinstance(value, list):
        return set().union(*(_intrinsics(item) for item in value))
    if not isinstance(value, dict):
        return set()
    found = {key for key in value if key == "Ref" or key.startswith("Fn::")}
    return found.union(*(_intrinsics(inner) for inner in value.values()))


class Resolver:
    """Evaluates CloudFormation intrinsic functions against parameters and created resources."""

    def __init__(
        self, template: dict[str, Any], deployment: Deployment, parameters: dict[str, str]
    ) -> None:
        self.template = template
        self.deployment = deployment
        self.parameters = self._parameters(parameters)
        self.conditions: dict[str, bool] = {}
        for name, expression in template.get("Conditions", {}).items():
            self.conditions[name] = bool(self.resolve(expression))

    def _parameters(self, overrides: dict[str, str]) -> dict[str, Any]:
        declared = self.template.get("Parameters", {})
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(f"unknown parameter(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in overrides:
                values[name] = overrides[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default and no value")
        region = self.deployment.region
        values.update(
            {
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": self.deployment.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/"
                f"{self.deployment.stack_name}/local",
            }
        )
        return values

    def check_rules(self) -> None:
        """Refuse the parameters as CloudFormation does: at the first rule assertion that fails."""
        for name, rule in self.template.get("Rules", {}).items():
            assertions = rule["Assertions"]
            used = _intrinsics([rule.get("RuleCondition"), *(a["Assert"] for a in assertions)])
            unknown = sorted(used - RULE_FUNCTIONS)
            if unknown:
                raise TemplateError(
                    f"rule {name} uses {', '.join(unknown)}, which the local cloud cannot evaluate"
                )
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            for assertion in assertions:
                if not self.resolve(assertion["Assert"]):
                    description = assertion.get("AssertDescription", "an assertion is false")
                    raise TemplateError(f"rule {name}: {description}")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.deployment.refs:
            return self.deployment.refs[name]
        raise TemplateError(f"Ref to {name}, which is neither a parameter nor a created resource")

    def get_att(self, name: str, attribute: str) -> str:
        try:
            return self.deployment.attributes[name][attribute]
        except KeyError as exc:
            raise TemplateError(f"Fn::GetAtt {name}.{attribute} is not available locally") from exc

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return str(self.ref(name))

        return SUBSTITUTION.sub(replace, text).replace("${!", "${")

    def resolve(self, value: Any) -> Any:  # noqa: C901 - one branch per intrinsic function
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref":
                return self.ref(inner)
            if key == "Fn::GetAtt":
                logical, attribute = inner if isinstance(inner, list) else inner.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Sub":
                if isinstance(inner, str):
                    return self._sub(inner, {})
                return self._sub(inner[0], self.resolve(inner[1]))
            if key == "Fn::Join":
                return inner[0].join(str(part) for part in self.resolve(inner[1]))
            if key == "Fn::If":
                chosen = inner[1] if self.conditions[inner[0]] else inner[2]
                return self.resolve(chosen)
            if key == "Fn::Equals":
                left, right = self.resolve(inner)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(inner[0])
            if key == "Fn::And":
                return all(self.resolve(inner))
            if key == "Fn::Or":
                return any(self.resolve(inner))
            if key == "Condition":
                return self.conditions[inner]
            if key == "Fn::Select":
                return self.resolve(inner[1])[int(inner[0])]
            if key == "Fn::Split":
                return str(self.resolve(inner[1])).split(inner[0])
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def deployment_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids so that every resource comes after what it refers to."""
    pending = {
        logical: (_references(resource.get("Properties", {})) | set(_depends_on(resource)))
        & set(resources)
        for logical, resource in resources.items()
    }
    order: list[str] = []
    while pending:
        ready = sorted(logical for logical, needs in pending.items() if not needs - set(order))
        if not ready:
            raise TemplateError(f"circular references between {', '.join(sorted(pending))}")
        order.extend(ready)
        for logical in ready:
            del pending[logical]
    return order


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def _ssm_value(path: str, region: str) -> str:
    """A parameter's value as GetParameter reads it (a version or label after a colon too)."""
    from moto.ssm.models import ssm_backends

    found = ssm_backends[ACCOUNT_ID][region].get_parameter(path)
    if found is None:
        raise KeyError(path)
    return str(found.value)


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local cloud runs this function's code from src/.")
    return buffer.getvalue()


class Deployer:
    """Creates each supported resource type with the emulator's AWS APIs."""

    def __init__(self, clients: Callable[[str], Any], deployment: Deployment) -> None:
        self.client = clients
        self.deployment = deployment
        self.region = deployment.region
        self._zip = _dummy_zip()

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    def physical_name(self, logical_id: str, max_length: int = 64) -> str:
        name = f"{self.deployment.stack_name}-{logical_id}"
        return name[:max_length]

    def deploy(self, template: dict[str, Any], parameters: dict[str, str]) -> Deployment:
        parameters = {**parameters, **self._ssm_parameters(template, parameters)}
        resolver = Resolver(template, self.deployment, parameters)
        resolver.check_rules()
        resources = template["Resources"]
        for logical_id in deployment_order(resources):
            resource = resources[logical_id]
            condition = resource.get("Condition")
            if condition and not resolver.conditions[condition]:
                continue
            kind = resource["Type"]
            self.deployment.types[logical_id] = kind
            properties = resolver.resolve(resource.get("Properties", {}))
            create = getattr(
                self, "_create_" + kind.replace("::", "_").replace("AWS_", "", 1), None
            )
            if create is None:
                self.deployment.not_emulated[logical_id] = kind
                self.deployment.refs[logical_id] = self.physical_name(logical_id)
                continue
            try:
                create(logical_id, properties)
            except TemplateError:
                raise
            except Exception as exc:
                raise TemplateError(f"{logical_id} ({kind}) cannot be created: {exc}") from exc
        self._check_routes()
        self._resolve_outputs(template, resolver)
        return self.deployment

    def _ssm_parameters(
        self, template: dict[str, Any], parameters: dict[str, str]
    ) -> dict[str, str]:
        """SSM-typed parameters' values, from the emulator's SSM; their path where it has none.

        Read from the SSM backend itself, as CloudFormation reads them: through the API, the
        SSM client's model (and moto's copy of it) was a fifth of the engine's start.
        """
        values = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if not str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value<"):
                continue
            path = str(parameters.get(name, spec.get("Default", "")))
            try:
                values[name] = _ssm_value(path, self.deployment.region)
            except Exception:  # noqa: BLE001 - absent locally (AWS's public parameters are)
                values[name] = path
                self.deployment.note(
                    f"parameter {name}",
                    f"SSM parameter {path} does not exist locally; "
                    "its name stands in for its value",
                )
        return values

    def _resolve_outputs(self, template: dict[str, Any], resolver: Resolver) -> None:
        """The stack's Outputs as `sam list stack-outputs` shows them; conditions respected."""
        for name, output in (template.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition and not resolver.conditions[condition]:
                continue
            value = resolver.resolve(output["Value"])
            if isinstance(value, list):
                value = ",".join(str(item) for item in value)
            self.deployment.outputs[name] = {
                "OutputKey": name,
                "OutputValue": str(value),
                "Description": str(output.get("Description", "")),
            }

    def _set(self, logical_id: str, ref: str, **attributes: str) -> None:
        self.deployment.refs[logical_id] = ref
        self.deployment.attributes[logical_id] = attributes

    # ------------------------------------------------------------ DynamoDB
    def _create_DynamoDB_Table(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("TableName") or self.physical_name(logical_id)
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        if p.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        if p.get("SSESpecification"):
            args["SSESpecification"] = {"Enabled": bool(p["SSESpecification"].get("SSEEnabled"))}
        ddb = self.client("dynamodb")
        description = ddb.create_table(**args)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        pitr = p.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self._set(
            logical_id,
            name,
            Arn=description["TableArn"],
            StreamArn=description.get("LatestStreamArn", ""),
        )

    # ------------------------------------------------------------ SQS
    def _create_SQS_Queue(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("QueueName") or self.physical_name(logical_id, 80)
        attributes: dict[str, str] = {
            key: str(p[key]).lower() if isinstance(p[key], bool) else str(p[key])
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "SqsManagedSseEnabled",
                "ReceiveMessageWaitTimeSeconds",
            )
            if key in p
        }
        if "RedrivePolicy" in p:
            attributes["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self._set(logical_id, url, Arn=self.arn("sqs", name), QueueName=name, QueueUrl=url)

    def _create_SQS_QueuePolicy(self, logical_id: str, p: dict[str, Any]) -> None:
        for url in p["Queues"]:
            self.client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])}
            )
        self._set(logical_id, self.physical_name(logical_id))

    # ------------------------------------------------------------ EventBridge
    def _create_Events_EventBus(self, logical_id: str, p: dict[str, Any]) -> None:
        arn = self.client("events").create_event_bus(Name=p["Name"])["EventBusArn"]
        self._set(logical_id, p["Name"], Arn=arn, Name=p["Name"])

    def _create_Events_Rule(self, logical_id: str, p: dict[str, Any]) -> None:
        events = self.client("events")
        name = p.get("Name") or self.physical_name(logical_id)
        args: dict[str, Any] = {"Name": name, "State": p.get("State", "ENABLED")}
        if "EventBusName" in p:
            args["EventBusName"] = p["EventBusName"]
        if "EventPattern" in p:
            args["EventPattern"] = json.dumps(p["EventPattern"])
        if "ScheduleExpression" in p:
            args["ScheduleExpression"] = p["ScheduleExpression"]
        arn = events.put_rule(**args)["RuleArn"]
        if "ScheduleExpression" in p:
            self._schedule(
                Schedule(logical_id, name, arn, str(p["ScheduleExpression"]), args["State"])
            )
        targets = p.get("Targets", [])
        if targets:
            target_args: dict[str, Any] = {"Rule": name, "Targets": targets}
            if "EventBusName" in p:
                target_args["EventBusName"] = p["EventBusName"]
            failed = events.put_targets(**target_args).get("FailedEntries", [])
            if failed:
                raise TemplateError(f"{logical_id}: targets refused: {failed}")
        self._set(logical_id, name, Arn=arn)

    # ------------------------------------------------------------ Step Functions
    def _create_StepFunctions_StateMachine(self, logical_id: str, p: dict[str, Any]) -> None:
        definition = p.get("DefinitionString")
        if definition is None and "Definition" in p:
            definition = json.dumps(p["Definition"])
        if definition is None:
            raise TemplateError(
                f"{logical_id}: no definition (DefinitionS3Location is not supported)"
            )
        _refuse_what_the_interpreter_cannot_run(logical_id, json.loads(definition))
        substitutions = p.get("DefinitionSubstitutions", {})
        missing = sorted(
            {name for name in SUBSTITUTION.findall(definition) if name not in substitutions}
        )
        if missing:
            raise TemplateError(
                f"{logical_id}: definition uses ${{{', '.join(missing)}}} "
                "with no DefinitionSubstitutions"
            )
        definition = SUBSTITUTION.sub(lambda m: str(substitutions[m.group(1)]), definition)
        name = p.get("StateMachineName") or self.physical_name(logical_id, 80)
        args: dict[str, Any] = {
            "name": name,
            "definition": definition,
            "roleArn": p["RoleArn"],
            "type": p.get("StateMachineType", "STANDARD"),
        }
        if p.get("TracingConfiguration"):
            args["tracingConfiguration"] = {
                "enabled": bool(p["TracingConfiguration"].get("Enabled"))
            }
        arn = self.client("stepfunctions").create_state_machine(**args)["stateMachineArn"]
        self._set(logical_id, arn, Arn=arn, Name=name)

    # ------------------------------------------------------------ IAM, logs, alarms
    def _create_IAM_Role(self, logical_id: str, p: dict[str, Any]) -> None:
        iam = self.client("iam")
        name = p.get("RoleName") or self.physical_name(logical_id)
        arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"])
        )["Role"]["Arn"]
        for policy in p.get("Policies", []):
            # IAM defaults a missing Version (SAM omits it for schedules); moto insists on one.
            document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
            )
        self._set(logical_id, name, Arn=arn, RoleId=name)

    def _create_Logs_LogGroup(self, logical_id: str, p: dict[str, Any]) -> None:
        logs = self.client("logs")
        name = p.get("LogGroupName") or self.physical_name(logical_id)
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in p:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
        self._set(logical_id, name, Arn=self.arn("logs", f"log-group:{name}:*"))

    def _create_CloudWatch_Alarm(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("AlarmName") or self.physical_name(logical_id, 255)
        args = {k: v for k, v in p.items() if k not in {"AlarmName"}}
        for key in ("Period", "EvaluationPeriods"):
            args[key] = int(args[key])
        args["Threshold"] = float(args["Threshold"])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        self._set(logical_id, name, Arn=self.arn("cloudwatch", f"alarm:{name}"))

    def _create_SNS_Subscription(self, logical_id: str, p: dict[str, Any]) -> None:
        attributes = {
            key: json.dumps(p[key]) if isinstance(p[key], dict) else str(p[key])
            for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
            if key in p
        }
        arn = self.client("sns").subscribe(
            TopicArn=p["TopicArn"],
            Protocol=p["Protocol"],
            Endpoint=p["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self._set(logical_id, arn)

    # ------------------------------------------------------------ schedules
    def _schedule(self, schedule: Schedule) -> None:
        if schedule.state != "ENABLED":
            self.deployment.note(schedule.logical_id, "the schedule is disabled: never fired")
        elif interval_seconds(schedule.expression) is None:
            self.deployment.note(
                schedule.logical_id,
                f"{schedule.expression} is not fired locally (rate() schedules are); "
                "invoke its target by hand",
            )
        else:
            self.deployment.schedules.append(schedule)

    def _create_Scheduler_Schedule(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("Name") or self.physical_name(logical_id)
        group = p.get("GroupName", "default")
        arn = self.arn("scheduler", f"schedule/{group}/{name}")
        self._set(logical_id, name, Arn=arn)
        service = str(p["Target"]["Arn"]).split(":")[2]
        if service not in TARGET_SERVICES:
            self.deployment.not_emulated[logical_id] = f"AWS::Scheduler::Schedule to {service}"
            return
        self._schedule(
            Schedule(
                logical_id,
                name,
                arn,
                str(p["ScheduleExpression"]),
                str(p.get("State", "ENABLED")),
                target=p["Target"],
            )
        )

    def _create_SNS_Topic(self, logical_id: str, p: dict[str, Any]) -> None:
        sns = self.client("sns")
        name = p.get("TopicName") or self.physical_name(logical_id, 256)
        arn = sns.create_topic(Name=name)["TopicArn"]
        for subscription in p.get("Subscription", []):
            sns.subscribe(
                TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"]
            )
        self._set(logical_id, arn, TopicName=name, TopicArn=arn)

    # ------------------------------------------------------------ Lambda
    def _create_Lambda_Function(self, logical_id: str, p: dict[str, Any]) -> None:
        code = p.get("Code") or {}
        if code.get("S3Bucket") != LOCAL_CODE_BUCKET:
            raise TemplateError(
                f"{logical_id}: its code is not a local folder ({code}); the engine runs "
                "AWS::Serverless::Function code from its CodeUri folder"
            )
        if not str(p.get("Runtime", "")).startswith("python"):
            raise TemplateError(
                f"{logical_id}: runtime {p.get('Runtime')} cannot run locally; "
                "the engine runs Python handlers only"
            )
        name = p.get("FunctionName") or self.physical_name(logical_id)
        environment = {k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()}
        args: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": p["Runtime"],
            "Role": p["Role"],
            "Handler": p["Handler"],
            "Code": {"ZipFile": self._zip},
            "Timeout": int(p.get("Timeout", 3)),
            "MemorySize": int(p.get("MemorySize", 128)),
            "Environment": {"Variables": environment},
            "Architectures": p.get("Architectures", ["x86_64"]),
        }
        if p.get("TracingConfig"):
            args["TracingConfig"] = p["TracingConfig"]
        if p.get("Layers"):
            self.deployment.note(
                logical_id,
                f"layer(s) {', '.join(map(str, p['Layers']))} not loaded; handlers import what "
                "the local Python environment has installed",
            )
        arn = self.client("lambda").create_function(**args)["FunctionArn"]
        self.deployment.functions[logical_id] = FunctionSpec(
            logical_id,
            name,
            arn,
            p["Handler"],
            environment,
            args["Timeout"],
            args["MemorySize"],
            code_uri=str(code["S3Key"]),
        )
        self._set(logical_id, name, Arn=arn)

    def _create_Lambda_EventSourceMapping(self, logical_id: str, p: dict[str, Any]) -> None:
        if ":sqs:" not in str(p.get("EventSourceArn", "")):
            # Streams (DynamoDB, Kinesis), Kafka, MQ: nothing polls them here.
            self.deployment.not_emulated[logical_id] = (
                f"AWS::Lambda::EventSourceMapping from {p.get('EventSourceArn')}"
            )
            self._set(logical_id, self.physical_name(logical_id))
            return
        args = {
            k: p[k]
            for k in (
                "EventSourceArn",
                "FunctionName",
                "BatchSize",
                "MaximumBatchingWindowInSeconds",
                "FunctionResponseTypes",
                "ScalingConfig",
                "Enabled",
            )
            if k in p
        }
        mapping = self.client("lambda").create_event_source_mapping(**args)
        self._set(logical_id, mapping["UUID"])

    def _create_Lambda_Permission(self, logical_id: str, p: dict[str, Any]) -> None:
        args = {k: p[k] for k in ("FunctionName", "Action", "Principal", "SourceArn") if k in p}
        self.client("lambda").add_permission(StatementId=logical_id, **args)
        self._set(logical_id, logical_id)

    # ------------------------------------------------------------ HTTP API (served locally)
    def _create_ApiGatewayV2_Api(self, logical_id: str, p: dict[str, Any]) -> None:
        api_id = uuid.uuid5(uuid.NAMESPACE_DNS, logical_id).hex[:10]
        if "Body" in p:
            self._add_routes(logical_id, p["Body"], "2.0")
        self._set(logical_id, api_id, ApiEndpoint=f"http://127.0.0.1/{api_id}", ApiId=api_id)

    # ------------------------------------------------------------ REST API (served locally)
    def _create_ApiGateway_RestApi(self, logical_id: str, p: dict[str, Any]) -> None:
        if "Body" not in p:
            raise TemplateError(
                f"{logical_id}: a REST API runs locally from its OpenAPI Body (SAM's Api events "
                "or DefinitionBody); BodyS3Location and AWS::ApiGateway::Method are not read"
            )
        api_id = uuid.uuid5(uuid.NAMESPACE_DNS, logical_id).hex[:10]
        self._add_routes(logical_id, p["Body"], "1.0")
        self._set(logical_id, api_id, RootResourceId=api_id[:6])

    def _create_ApiGateway_Deployment(self, logical_id: str, p: dict[str, Any]) -> None:
        self._set(logical_id, uuid.uuid5(uuid.NAMESPACE_DNS, logical_id).hex[:6])

    def _create_ApiGateway_Stage(self, logical_id: str, p: dict[str, Any]) -> None:
        self._set(logical_id, str(p["StageName"]))

    def _add_routes(self, logical_id: str, body: dict[str, Any], payload_version: str) -> None:
        """The routes of an API's OpenAPI body, each to the function its integration names."""
        for found in routes_of_body(logical_id, body, payload_version):
            spec = self.deployment.function_by_name_or_id(found.function_arn)
            if spec is None:
                raise TemplateError(
                    f"{logical_id}: {found.method} {found.path} integrates {found.function_arn}, "
                    "which is no function of the template"
                )
            authorizer = None
            if found.jwt_issuer:
                authorizer = Authorizer("JWT", found.jwt_issuer, found.jwt_audiences)
            self.deployment.routes.append(
                Route(
                    found.method,
                    found.path,
                    spec.logical_id,
                    found.authorization,
                    authorizer,
                    payload_version,
                )
            )

    def _create_ApiGatewayV2_Stage(self, logical_id: str, p: dict[str, Any]) -> None:
        self._set(logical_id, p["StageName"])

    def _create_ApiGatewayV2_Authorizer(self, logical_id: str, p: dict[str, Any]) -> None:
        authorizer_id = uuid.uuid5(uuid.NAMESPACE_DNS, logical_id).hex[:6]
        jwt = p.get("JwtConfiguration") or {}
        self.deployment.authorizers[authorizer_id] = Authorizer(
            kind=str(p.get("AuthorizerType", "")),
            issuer=str(jwt.get("Issuer", "")),
            audiences=tuple(str(audience) for audience in jwt.get("Audience", [])),
        )
        self._set(logical_id, authorizer_id)

    def _create_ApiGatewayV2_Integration(self, logical_id: str, p: dict[str, Any]) -> None:
        if p.get("IntegrationType") != "AWS_PROXY" or p.get("PayloadFormatVersion") != "2.0":
            raise TemplateError(
                f"{logical_id}: only AWS_PROXY integrations with payload 2.0 run locally"
            )
        integration_id = uuid.uuid5(uuid.NAMESPACE_DNS, logical_id).hex[:7]
        self.deployment.integrations[integration_id] = p["IntegrationUri"]
        self._set(logical_id, integration_id)

    def _create_ApiGatewayV2_Route(self, logical_id: str, p: dict[str, Any]) -> None:
        method, _, path = p["RouteKey"].partition(" ")
        target = p.get("Target", "")
        integration_id = target.removeprefix("integrations/")
        uri = self.deployment.integrations.get(integration_id)
        if uri is None:
            raise TemplateError(f"{logical_id}: target {target!r} names no integration")
        spec = self.deployment.function_by_name_or_id(uri)
        if spec is None:
            raise TemplateError(f"{logical_id}: integration {uri} names no function")
        authorization = p.get("AuthorizationType", "NONE")
        authorizer = self.deployment.authorizers.get(p.get("AuthorizerId", ""))
        if authorization == "JWT" and authorizer is None:
            raise TemplateError(f"{logical_id}: a JWT route needs an AuthorizerId")
        self.deployment.routes.append(
            Route(method, path, spec.logical_id, authorization, authorizer)
        )
        self._set(logical_id, uuid.uuid5(uuid.NAMESPACE_DNS, logical_id).hex[:7])

    def _check_routes(self) -> None:
        keys = [(route.method, route.path) for route in self.deployment.routes]
        duplicates = sorted({f"{m} {p}" for m, p in keys if keys.count((m, p)) > 1})
        if duplicates:
            raise TemplateError(f"duplicate routes: {', '.join(duplicates)}")


def _refuse_what_the_interpreter_cannot_run(logical_id: str, definition: Any) -> None:
    """JSONata and Assign variables: moto's interpreter runs JSONPath state machines only."""
    found: list[str] = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state.get("QueryLanguage") == "JSONata":
                found.append(f"state {name!r} uses JSONata")
            if "Assign" in state:
                found.append(f"state {name!r} assigns variables")
            for branch in state.get("Branches", []):
                walk(branch.get("States", {}))
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            walk(processor.get("States", {}))

    if definition.get("QueryLanguage") == "JSONata":
        found.append("the definition uses JSONata")
    walk(definition.get("States", {}))
    if found:
        raise TemplateError(
            f"{logical_id}: {'; '.join(found)}; the local interpreter runs JSONPath only"
        )
