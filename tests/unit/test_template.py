"""Static checks of template.yaml: what `sam validate --lint` and cfn-lint do not know about.

Each check returns the problems it finds, naming the resource, so that a test of a broken
copy of the template can prove the check would see the break.
"""

from __future__ import annotations

import copy
import importlib
import re
import sys
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from localcloud.template import parse_yaml, translate

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

Template = dict[str, Any]
STAGE = "dev"
REGION = "us-east-1"
ACCOUNT = "123456789012"
MAX_RECEIVE_COUNT = 5
# The saga's own parking queue: read by people, so it has no consumer and no redrive.
PARKING_QUEUES = frozenset({"SagaFailuresQueue"})
LAMBDA_DEFAULT_TIMEOUT = 3
SQS_DEFAULT_VISIBILITY_TIMEOUT = 30
# The participants' records: kept when the stack is deleted.
KEPT_TABLES = frozenset({"OrdersTable", "InventoryTable", "PaymentsTable"})
STATE_MACHINE_TYPES = frozenset(
    {"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"}
)
# Actions that support no resource-level permissions: IAM accepts them only on "*".
RESOURCELESS_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
)


CLOUDWATCH = "cloudwatch.amazonaws.com"
ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
HARD_CODED_PARTITION = re.compile(r"\barn:aws(?:-[a-z]+)*:")


# ---------------------------------------------------------------- loading


def load_template(text: str) -> Template:
    template: Template = parse_yaml(text)
    return template


TEMPLATE = load_template(TEMPLATE_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- reading the template


def resources(template: Template, *types: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if not types or resource.get("Type") in types
    }


def props(template: Template, logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id].get("Properties", {})
    return properties


def references(value: Any) -> set[str]:
    """The logical ids and parameters that a value points to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (inner, {}) if isinstance(inner, str) else inner
                found |= {
                    name.split(".")[0]
                    for name in re.findall(r"\$\{([^}!]+)\}", text)
                    if name not in variables
                }
                found |= references(variables)
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


def function_properties(template: Template, function_id: str) -> dict[str, Any]:
    """A function's properties with the template's Globals merged in, as SAM merges them."""
    merged = copy.deepcopy(template.get("Globals", {}).get("Function", {}))
    for key, value in props(template, function_id).items():
        if key == "Environment":
            variables = merged.setdefault("Environment", {}).setdefault("Variables", {})
            variables.update(value.get("Variables", {}))
        else:
            merged[key] = value
    return merged


def environment(template: Template, function_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = (
        function_properties(template, function_id).get("Environment", {}).get("Variables", {})
    )
    return variables


def functions(template: Template) -> list[str]:
    return list(resources(template, "AWS::Serverless::Function"))


def sqs_event_sources(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(function, event name, event properties) for every SQS event source."""
    for function_id in functions(template):
        for event_name, event in props(template, function_id).get("Events", {}).items():
            if event.get("Type") == "SQS":
                yield function_id, event_name, event.get("Properties", {})
    queues = resources(template, "AWS::SQS::Queue")
    for mapping_id, mapping in resources(template, "AWS::Lambda::EventSourceMapping").items():
        properties = mapping.get("Properties", {})
        if references(properties.get("EventSourceArn")) & set(queues):
            (function_id,) = references(properties.get("FunctionName")) or {mapping_id}
            yield function_id, mapping_id, properties


def consumers(template: Template, queue_id: str) -> list[str]:
    return [
        function_id
        for function_id, _, source in sqs_event_sources(template)
        if queue_id in references(source.get("Queue", source.get("EventSourceArn")))
    ]


def dead_letter_targets(template: Template) -> set[str]:
    """Queues that something sends its failures to (a redrive policy or a DeadLetterConfig)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "RedrivePolicy" and isinstance(value, dict):
                    found.update(references(value.get("deadLetterTargetArn")))
                elif key in {"DeadLetterConfig", "DeadLetterQueue"}:
                    found.update(references(value))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(template["Resources"])
    return found & set(resources(template, "AWS::SQS::Queue"))


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM policy statement inside a node."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield node
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from statements(item)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def physical_name(template: Template, value: Any) -> str:
    """A plausible deployed value for an environment variable, with Stage=dev."""
    if isinstance(value, str):
        return value
    (target,) = references(value) or {"unknown"}
    properties = props(template, target) if target in template["Resources"] else {}
    for key in ("TableName", "QueueName", "Name"):
        name = properties.get(key)
        if isinstance(name, dict) and "Fn::Sub" in name and isinstance(name["Fn::Sub"], str):
            return name["Fn::Sub"].replace("${Stage}", STAGE)
        if isinstance(name, str):
            return name
    return f"{target}-{STAGE}"


# ---------------------------------------------------------------- the checks


def substitution_problems(template: Template, machine_id: str) -> list[str]:
    properties = props(template, machine_id)
    uri = properties.get("DefinitionUri")
    definition = (
        (ROOT / uri).read_text(encoding="utf-8")
        if isinstance(uri, str)
        else str(properties.get("Definition", properties.get("DefinitionString", "")))
    )
    used = set(re.findall(r"\$\{([^}]+)\}", definition))
    given = set(properties.get("DefinitionSubstitutions", {}))
    return [
        f"{machine_id}: the definition uses ${{{name}}}, which DefinitionSubstitutions lacks"
        for name in sorted(used - given)
    ] + [
        f"{machine_id}: DefinitionSubstitutions {name} is never used by the definition"
        for name in sorted(given - used)
    ]


def redrive_problems(template: Template, queue_id: str) -> list[str]:
    if queue_id in PARKING_QUEUES or queue_id in dead_letter_targets(template):
        return []
    policy = props(template, queue_id).get("RedrivePolicy")
    if not isinstance(policy, dict):
        return [
            f"{queue_id}: no RedrivePolicy, and no one sends failures to it: a bad message loops"
        ]
    problems = []
    if policy.get("maxReceiveCount") != MAX_RECEIVE_COUNT:
        problems.append(
            f"{queue_id}: RedrivePolicy maxReceiveCount is {policy.get('maxReceiveCount')!r},"
            f" not {MAX_RECEIVE_COUNT}"
        )
    targets = references(policy.get("deadLetterTargetArn"))
    if not targets & set(resources(template, "AWS::SQS::Queue")):
        problems.append(
            f"{queue_id}: RedrivePolicy deadLetterTargetArn is no queue of this template"
        )
    return problems


def visibility_problems(template: Template, queue_id: str) -> list[str]:
    visibility = props(template, queue_id).get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_TIMEOUT)
    problems = []
    for function_id in consumers(template, queue_id):
        timeout = function_properties(template, function_id).get("Timeout", LAMBDA_DEFAULT_TIMEOUT)
        if visibility < 6 * timeout:
            problems.append(
                f"{queue_id}: VisibilityTimeout {visibility} is less than 6 x {function_id}'s"
                f" Timeout {timeout} = {6 * timeout}"
            )
    return problems


def event_source_problems(template: Template, function_id: str, event_name: str) -> list[str]:
    (source,) = [
        s for f, e, s in sqs_event_sources(template) if (f, e) == (function_id, event_name)
    ]
    problems = []
    if "ReportBatchItemFailures" not in source.get("FunctionResponseTypes", []):
        problems.append(
            f"{function_id}.{event_name}: no ReportBatchItemFailures: one bad message fails all"
        )
    if not isinstance(source.get("ScalingConfig", {}).get("MaximumConcurrency"), int):
        problems.append(
            f"{function_id}.{event_name}: no ScalingConfig.MaximumConcurrency: a backlog may use"
            " all of the account's concurrency"
        )
    return problems


def _fires_on_first(alarm: dict[str, Any]) -> bool:
    operator, threshold = alarm.get("ComparisonOperator"), alarm.get("Threshold")
    return (operator, threshold) in {
        ("GreaterThanThreshold", 0),
        ("GreaterThanOrEqualToThreshold", 1),
    }


def depth_alarm_problems(template: Template, queue_id: str) -> list[str]:
    for alarm_id in resources(template, "AWS::CloudWatch::Alarm"):
        alarm = props(template, alarm_id)
        watched = {
            name
            for dimension in alarm.get("Dimensions", [])
            if dimension.get("Name") == "QueueName"
            for name in references(dimension.get("Value"))
        }
        if (
            alarm.get("Namespace") == "AWS/SQS"
            and alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and queue_id in watched
            and _fires_on_first(alarm)
        ):
            return []
    return [f"{queue_id}: no alarm on ApproximateNumberOfMessagesVisible that fires on one message"]


def execution_alarm_problems(template: Template, machine_id: str, metric: str) -> list[str]:
    for alarm_id in resources(template, "AWS::CloudWatch::Alarm"):
        alarm = props(template, alarm_id)
        watched = {
            name
            for dimension in alarm.get("Dimensions", [])
            if dimension.get("Name") == "StateMachineArn"
            for name in references(dimension.get("Value"))
        }
        if (
            alarm.get("Namespace") == "AWS/States"
            and alarm.get("MetricName") == metric
            and machine_id in watched
            and _fires_on_first(alarm)
        ):
            return []
    return [f"{machine_id}: no alarm on AWS/States {metric}"]


def table_problems(template: Template, table_id: str) -> list[str]:
    properties = props(template, table_id)
    problems = []
    if properties.get("BillingMode") != "PAY_PER_REQUEST":
        problems.append(
            f"{table_id}: BillingMode is {properties.get('BillingMode')!r}, not PAY_PER_REQUEST"
        )
    if properties.get("SSESpecification", {}).get("SSEEnabled") is not True:
        problems.append(f"{table_id}: SSESpecification.SSEEnabled is not true")
    pitr = properties.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled") is not True:
        problems.append(f"{table_id}: PointInTimeRecoverySpecification is not enabled")
    return problems


def deletion_policy_problems(template: Template, table_id: str) -> list[str]:
    resource = template["Resources"][table_id]
    deletion = resource.get("DeletionPolicy", "Delete")
    replacement = resource.get("UpdateReplacePolicy", "Delete")
    problems = []
    if deletion == "Retain" and "TableName" in props(template, table_id):
        problems.append(
            f"{table_id}: DeletionPolicy Retain with a fixed TableName: a first deploy that fails"
            " leaves the table behind, and the retry fails on its name (RetainExceptOnCreate)"
        )
    if table_id in KEPT_TABLES and deletion != "RetainExceptOnCreate":
        problems.append(f"{table_id}: DeletionPolicy is {deletion!r}, not RetainExceptOnCreate")
    if deletion != "Delete" and replacement != "Retain":
        problems.append(
            f"{table_id}: UpdateReplacePolicy is {replacement!r}: a replacement deletes the data"
            " that a stack deletion keeps"
        )
    return problems


def wildcard_action_problems(template: Template, resource_id: str) -> list[str]:
    problems = []
    for statement in statements(template["Resources"][resource_id]):
        if "NotAction" in statement:
            problems.append(
                f"{resource_id}: a statement uses NotAction, which grants everything else"
            )
        for action in as_list(statement.get("Action", [])):
            if not isinstance(action, str) or action == "*" or action.endswith(":*"):
                problems.append(f"{resource_id}: grants the wildcard action {action!r}")
    return problems


def xray_grants(granted: list[dict[str, Any]]) -> list[list[str]]:
    """The actions of each statement that grants an X-Ray action."""
    actions = [
        sorted(str(a) for a in as_list(statement.get("Action", []))) for statement in granted
    ]
    return [names for names in actions if any(name.startswith("xray:") for name in names)]


def sam_added_statement_problems(template: Template, machine_id: str) -> list[str]:
    """Statements a state machine's Policies repeat from what SAM adds to its role by itself."""
    properties = props(template, machine_id)
    if properties.get("Tracing", {}).get("Enabled") is not True:
        return []
    return [
        f"{machine_id}: a statement grants {actions}; SAM already attaches"
        " AWSXrayWriteOnlyAccess to the role of a state machine with Tracing enabled"
        for actions in xray_grants(list(statements(properties.get("Policies", []))))
    ]


def _role_statements(template: Template, function_id: str) -> tuple[str, list[dict[str, Any]]]:
    properties = function_properties(template, function_id)
    roles = references(properties.get("Role")) & set(resources(template, "AWS::IAM::Role"))
    if roles:
        (role_id,) = roles
        return role_id, list(statements(props(template, role_id).get("Policies", [])))
    return f"{function_id} (Policies)", list(statements(properties.get("Policies", [])))


def tracing_problems(template: Template, function_id: str) -> list[str]:
    """A traced function pays for the X-Ray SDK in every cold start; no handler uses it."""
    problems = []
    mode = function_properties(template, function_id).get("Tracing", "PassThrough")
    if mode != "PassThrough":
        problems.append(f"{function_id}: Tracing is {mode!r}; the functions are not traced")
    role_id, granted = _role_statements(template, function_id)
    problems += [
        f"{role_id}: grants {actions}, and {function_id} is not traced"
        for actions in xray_grants(granted)
    ]
    return problems


def _answerable_state_machines(template: Template, function_id: str) -> set[str]:
    """State machines whose task tokens reach the function through a queue it consumes."""
    consumed = {
        queue
        for f, _, source in sqs_event_sources(template)
        if f == function_id
        for queue in references(source.get("Queue", source.get("EventSourceArn")))
    }
    return {
        machine_id
        for machine_id in resources(template, *STATE_MACHINE_TYPES)
        if references(props(template, machine_id).get("DefinitionSubstitutions", {})) & consumed
    }


def role_scope_problems(template: Template, function_id: str) -> list[str]:
    properties = function_properties(template, function_id)
    wired = references(environment(template, function_id))
    wired |= references(properties.get("LoggingConfig", {}).get("LogGroup"))
    wired |= {
        queue
        for f, _, source in sqs_event_sources(template)
        if f == function_id
        for queue in references(source.get("Queue", source.get("EventSourceArn")))
    }
    wired |= _answerable_state_machines(template, function_id)
    role_id, granted = _role_statements(template, function_id)
    problems = []
    for statement in granted:
        if statement.get("Effect") != "Allow":
            continue
        actions = sorted(str(a) for a in as_list(statement.get("Action", [])))
        targets = as_list(statement.get("Resource", []))
        if "*" in targets and not set(actions) <= RESOURCELESS_ACTIONS:
            problems.append(f"{role_id}: grants {actions} on every resource ('*')")
        for target in sorted(references(targets) - wired):
            kind = template["Resources"].get(target, {}).get("Type", "a parameter")
            problems.append(
                f"{role_id}: grants {actions} on {target} ({kind}), which {function_id} has no"
                " environment variable, event source or log group for"
            )
    return problems


def handler_problems(
    template: Template, function_id: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Import the function's handler as Lambda would: with its environment and only that."""
    properties = function_properties(template, function_id)
    handler = str(properties.get("Handler", ""))
    module_name, _, attribute = handler.rpartition(".")
    code = ROOT / str(properties.get("CodeUri", ""))
    module_path = code.joinpath(*module_name.split("."))
    if code.resolve() != (ROOT / "src").resolve():
        return [f"{function_id}: CodeUri {properties.get('CodeUri')!r} is not src/"]
    if not (module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file()):
        return [f"{function_id}: Handler {handler!r} names no module under src/"]
    for other in functions(template):
        for name in environment(template, other):
            monkeypatch.delenv(name, raising=False)
    for name, value in environment(template, function_id).items():
        monkeypatch.setenv(name, physical_name(template, value))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    # A fresh import, undone afterwards so no later test sees clients made inside this mock.
    parent_name, _, child = module_name.rpartition(".")
    parent = importlib.import_module(parent_name) if parent_name else None
    if parent is not None:
        monkeypatch.setattr(parent, child, getattr(parent, child, None), raising=False)
    saved = sys.modules.pop(module_name, None)
    try:
        with mock_aws():
            module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the finding
        return [f"{function_id}: importing {module_name} fails: {type(exc).__name__}: {exc}"]
    finally:
        sys.modules.pop(module_name, None)
        if saved is not None:
            sys.modules[module_name] = saved
    if not callable(getattr(module, attribute, None)):
        return [f"{function_id}: {module_name} has no callable {attribute!r}"]
    return []


def dead_letter_config_problems(template: Template, source: str) -> list[str]:
    owner, event_name = source.split(".", 1)
    event = props(template, owner)["Events"][event_name]
    if "DeadLetterConfig" in event.get("Properties", {}):
        return []
    return [
        f"{source}: a {event['Type']} target with no DeadLetterConfig: a failed delivery is lost"
    ]


def schedule_name_problems(template: Template, source: str) -> list[str]:
    owner, event_name = source.split(".", 1)
    properties = props(template, owner)["Events"][event_name].get("Properties", {})
    name = properties.get("Name")
    if properties.get("OmitName") is True or "Stage" in references(name):
        return []
    return [
        f"{source}: the schedule is named {name or owner + event_name!r} in every stage; a second"
        " stage in the same account and region fails to create it (set Name with ${Stage})"
    ]


def _may(statement: dict[str, Any], *actions: str) -> bool:
    """Whether an Allow statement's Action patterns cover every one of the actions."""
    patterns = [str(pattern) for pattern in as_list(statement.get("Action", []))]
    return statement.get("Effect") == "Allow" and all(
        any(fnmatchcase(action, pattern) for pattern in patterns) for action in actions
    )


def _service_may(statement: dict[str, Any], service: str, *actions: str) -> bool:
    principal = statement.get("Principal")
    services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
    return service in services and _may(statement, *actions)


def _account_root_may(statement: dict[str, Any], *actions: str) -> bool:
    principal = statement.get("Principal")
    account = principal.get("AWS") if isinstance(principal, dict) else None
    text = account.get("Fn::Sub") if isinstance(account, dict) else None
    is_root = account == {"Ref": "AWS::AccountId"} or (
        isinstance(text, str) and text.endswith(":iam::${AWS::AccountId}:root")
    )
    return is_root and _may(statement, *actions)


def alarm_key_problems(template: Template, key_id: str) -> list[str]:
    properties = props(template, key_id)
    policy = list(statements(properties.get("KeyPolicy", {})))
    problems = []
    if properties.get("EnableKeyRotation") is not True:
        problems.append(f"{key_id}: EnableKeyRotation is not true")
    if not any(_account_root_may(s, "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion") for s in policy):
        problems.append(f"{key_id}: the key policy does not let the account root administer it")
    publishers = [
        s for s in policy if _service_may(s, CLOUDWATCH, "kms:Decrypt", "kms:GenerateDataKey")
    ]
    if not publishers:
        problems.append(
            f"{key_id}: the key policy does not let {CLOUDWATCH} use it"
            " (kms:Decrypt, kms:GenerateDataKey*): alarms cannot publish to the topic"
        )
    problems += [
        f"{key_id}: the key policy lets {CLOUDWATCH} use it with no Condition, for any account"
        for statement in publishers
        if not statement.get("Condition")
    ]
    return problems


def alarm_topic_problems(template: Template, topic_id: str) -> list[str]:
    """An alarm topic encrypted with a key CloudWatch may use, and a policy that lets it publish."""
    value = props(template, topic_id).get("KmsMasterKeyId")
    keys = references(value) & set(resources(template, "AWS::KMS::Key"))
    if not keys:
        return [
            f"{topic_id}: KmsMasterKeyId {value!r} is no AWS::KMS::Key of this template; alarms"
            " cannot publish to a topic whose key policy does not let CloudWatch use the key"
        ]
    (key_id,) = keys
    aliases = [
        alias_id
        for alias_id in resources(template, "AWS::KMS::Alias")
        if key_id in references(props(template, alias_id).get("TargetKeyId"))
    ]
    policies = [
        policy_id
        for policy_id in resources(template, "AWS::SNS::TopicPolicy")
        if topic_id in references(props(template, policy_id).get("Topics"))
    ]
    problems = alarm_key_problems(template, key_id)
    if not aliases:
        problems.append(f"{key_id}: no AWS::KMS::Alias names the key")
    if not any(
        _service_may(statement, CLOUDWATCH, "sns:Publish")
        for policy_id in policies
        for statement in statements(props(template, policy_id).get("PolicyDocument", {}))
    ):
        problems.append(f"{topic_id}: no topic policy lets {CLOUDWATCH} publish to it")
    condition = template["Resources"][topic_id].get("Condition")
    problems += [
        f"{dependent}: Condition is {template['Resources'][dependent].get('Condition')!r},"
        f" not {topic_id}'s {condition!r}"
        for dependent in (key_id, *aliases, *policies)
        if template["Resources"][dependent].get("Condition") != condition
    ]
    return problems


def partition_problems(name: str, text: str) -> list[str]:
    """ARNs written for one partition: they break in aws-cn and aws-us-gov."""
    return [
        f"{name}:{number}: a hard-coded partition {match.group(0)!r}; write"
        " arn:${AWS::Partition}: in the template, arn:${Partition}: in a definition"
        for number, line in enumerate(text.splitlines(), 1)
        for match in HARD_CODED_PARTITION.finditer(line)
    ]


# ---------------------------------------------------------------- the template as it is

QUEUES = list(resources(TEMPLATE, "AWS::SQS::Queue"))
CONSUMED_QUEUES = [queue for queue in QUEUES if consumers(TEMPLATE, queue)]
ALARMED_QUEUES = sorted(dead_letter_targets(TEMPLATE) | (PARKING_QUEUES & set(QUEUES)))
STATE_MACHINES = list(resources(TEMPLATE, *STATE_MACHINE_TYPES))
TABLES = list(resources(TEMPLATE, "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"))
FUNCTIONS = functions(TEMPLATE)
SQS_SOURCES = [f"{function_id}.{event}" for function_id, event, _ in sqs_event_sources(TEMPLATE)]
WITH_STATEMENTS = [
    rid for rid in TEMPLATE["Resources"] if any(statements(TEMPLATE["Resources"][rid]))
]
ASYNC_SOURCES = [
    f"{owner}.{name}"
    for owner, resource in TEMPLATE["Resources"].items()
    for name, event in resource.get("Properties", {}).get("Events", {}).items()
    if event.get("Type") in {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}
]
ALARM_TOPICS = sorted(
    {
        topic_id
        for alarm_id in resources(TEMPLATE, "AWS::CloudWatch::Alarm")
        for key in ALARM_ACTIONS
        for topic_id in references(props(TEMPLATE, alarm_id).get(key))
        if topic_id in resources(TEMPLATE, "AWS::SNS::Topic")
    }
)
TRACED_STATE_MACHINES = [
    machine_id
    for machine_id in STATE_MACHINES
    if props(TEMPLATE, machine_id).get("Tracing", {}).get("Enabled") is True
]
SCHEDULES = [
    f"{owner}.{name}"
    for owner, resource in TEMPLATE["Resources"].items()
    for name, event in resource.get("Properties", {}).get("Events", {}).items()
    if event.get("Type") == "ScheduleV2"
]

DEFINITION_FILES = [
    str(uri)
    for machine_id in STATE_MACHINES
    if isinstance(uri := props(TEMPLATE, machine_id).get("DefinitionUri"), str)
]


def _fail_with(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def test_the_loader_reads_short_form_intrinsics_as_cloudformation_does() -> None:
    loaded = load_template(
        "A: !Ref Stage\nB: !GetAtt Queue.Arn\nC: !Sub x-${Stage}\n"
        "D: !If [Cond, !Ref X, !Ref AWS::NoValue]\nE: !Not [!Equals [!Ref P, '']]\n"
    )
    assert loaded == {
        "A": {"Ref": "Stage"},
        "B": {"Fn::GetAtt": ["Queue", "Arn"]},
        "C": {"Fn::Sub": "x-${Stage}"},
        "D": {"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]},
        "E": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]},
    }


def test_the_template_has_resources_of_every_kind_the_checks_look_at() -> None:
    for kind, found in {
        "queue": QUEUES,
        "consumed queue": CONSUMED_QUEUES,
        "dead-letter queue": ALARMED_QUEUES,
        "state machine": STATE_MACHINES,
        "table": TABLES,
        "function": FUNCTIONS,
        "SQS event source": SQS_SOURCES,
        "alarm topic": ALARM_TOPICS,
    }.items():
        assert found, f"the template has no {kind}: its check would check nothing"


@pytest.mark.parametrize("machine_id", STATE_MACHINES)
def test_every_asl_placeholder_has_a_substitution_and_every_substitution_is_used(
    machine_id: str,
) -> None:
    _fail_with(substitution_problems(TEMPLATE, machine_id))


@pytest.mark.parametrize("queue_id", QUEUES)
def test_every_queue_redrives_to_a_dead_letter_queue_or_is_one(queue_id: str) -> None:
    _fail_with(redrive_problems(TEMPLATE, queue_id))


@pytest.mark.parametrize("queue_id", CONSUMED_QUEUES)
def test_every_participant_queue_hides_a_message_six_times_its_consumers_timeout(
    queue_id: str,
) -> None:
    _fail_with(visibility_problems(TEMPLATE, queue_id))


@pytest.mark.parametrize("source", SQS_SOURCES)
def test_every_sqs_event_source_reports_item_failures_and_caps_its_concurrency(source: str) -> None:
    function_id, event_name = source.split(".", 1)
    _fail_with(event_source_problems(TEMPLATE, function_id, event_name))


@pytest.mark.parametrize("queue_id", ALARMED_QUEUES)
def test_every_dead_letter_queue_and_the_parking_queue_has_a_depth_alarm(queue_id: str) -> None:
    _fail_with(depth_alarm_problems(TEMPLATE, queue_id))


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut"])
@pytest.mark.parametrize("machine_id", STATE_MACHINES)
def test_the_state_machine_has_an_alarm_on_failed_and_timed_out_executions(
    machine_id: str, metric: str
) -> None:
    _fail_with(execution_alarm_problems(TEMPLATE, machine_id, metric))


@pytest.mark.parametrize("table_id", TABLES)
def test_every_table_is_on_demand_encrypted_and_point_in_time_recoverable(table_id: str) -> None:
    _fail_with(table_problems(TEMPLATE, table_id))


@pytest.mark.parametrize("topic_id", ALARM_TOPICS)
def test_alarms_can_publish_to_their_encrypted_topic(topic_id: str) -> None:
    _fail_with(alarm_topic_problems(TEMPLATE, topic_id))


@pytest.mark.parametrize(
    ("claim", "accepted"),
    [
        ("sub", True),
        ("custom:customer_id", True),
        ("https://example.com/customer_id", True),
        ("", False),
        ("customer id", False),
        ("$.sub", False),
        ("c" * 129, False),
    ],
)
def test_the_customer_claim_parameter_defaults_to_sub_and_takes_only_a_claim_name(
    claim: str, accepted: bool
) -> None:
    parameter = TEMPLATE["Parameters"]["JwtCustomerClaim"]
    assert (parameter["Type"], parameter["Default"]) == ("String", "sub")
    assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])
    assert bool(re.fullmatch(parameter["AllowedPattern"], claim)) is accepted


@pytest.mark.parametrize("table_id", TABLES)
def test_kept_tables_outlive_the_stack_and_a_failed_first_deploy_can_be_retried(
    table_id: str,
) -> None:
    _fail_with(deletion_policy_problems(TEMPLATE, table_id))


@pytest.mark.parametrize("resource_id", WITH_STATEMENTS)
def test_no_iam_statement_grants_a_wildcard_action(resource_id: str) -> None:
    _fail_with(wildcard_action_problems(TEMPLATE, resource_id))


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_no_function_is_traced_or_may_write_traces(function_id: str) -> None:
    _fail_with(tracing_problems(TEMPLATE, function_id))


@pytest.mark.parametrize("machine_id", STATE_MACHINES)
def test_no_state_machine_policy_repeats_a_permission_sam_adds_by_itself(machine_id: str) -> None:
    _fail_with(sam_added_statement_problems(TEMPLATE, machine_id))


@pytest.mark.parametrize("machine_id", TRACED_STATE_MACHINES)
def test_sam_gives_a_traced_state_machines_role_its_xray_permissions(machine_id: str) -> None:
    role = translate(TEMPLATE, ROOT)["Resources"][f"{machine_id}Role"]["Properties"]
    managed = [str(arn) for arn in role.get("ManagedPolicyArns", [])]
    assert any(arn.endswith(":policy/AWSXrayWriteOnlyAccess") for arn in managed), managed


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_handler_imports_with_its_functions_environment_and_has_a_lambda_handler(
    function_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(handler_problems(TEMPLATE, function_id, monkeypatch))


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_role_acts_only_on_what_the_function_is_wired_to(function_id: str) -> None:
    _fail_with(role_scope_problems(TEMPLATE, function_id))


@pytest.mark.parametrize(
    "source",
    ASYNC_SOURCES,
)
def test_every_rule_and_schedule_target_has_a_dead_letter_queue(source: str) -> None:
    _fail_with(dead_letter_config_problems(TEMPLATE, source))


@pytest.mark.parametrize(
    "source",
    SCHEDULES,
)
def test_every_schedule_name_differs_between_stages(source: str) -> None:
    _fail_with(schedule_name_problems(TEMPLATE, source))


@pytest.mark.parametrize("relative_path", [TEMPLATE_PATH.name, *DEFINITION_FILES])
def test_no_arn_in_the_template_or_a_definition_names_its_partition(relative_path: str) -> None:
    _fail_with(partition_problems(relative_path, (ROOT / relative_path).read_text("utf-8")))


def test_the_partition_check_reports_an_arn_written_for_one_partition() -> None:
    (definition,) = DEFINITION_FILES
    text = (ROOT / definition).read_text("utf-8").replace("arn:${Partition}:", "arn:aws-cn:")
    found = partition_problems(definition, text)
    assert found and all("a hard-coded partition 'arn:aws-cn:'" in problem for problem in found)


# ---------------------------------------------------------------- each check sees a break


def _resource(logical_id: str) -> Callable[[Template], dict[str, Any]]:
    return lambda template: template["Resources"][logical_id]["Properties"]


def _add_statement(role_id: str, statement: dict[str, Any]) -> Callable[[Template], None]:
    return lambda t: _resource(role_id)(t)["Policies"][0]["PolicyDocument"]["Statement"].append(
        statement
    )


def _timeout_from_globals(function_id: str, timeout: int) -> Callable[[Template], None]:
    def apply(template: Template) -> None:
        _resource(function_id)(template).pop("Timeout")
        template["Globals"]["Function"]["Timeout"] = timeout

    return apply


BREAKS = [
    pytest.param(
        lambda t: substitution_problems(t, "OrderSagaStateMachine"),
        lambda t: _resource("OrderSagaStateMachine")(t)["DefinitionSubstitutions"].pop(
            "OrderQueueUrl"
        ),
        "uses ${OrderQueueUrl}, which DefinitionSubstitutions lacks",
        id="a placeholder with no substitution",
    ),
    pytest.param(
        lambda t: substitution_problems(t, "OrderSagaStateMachine"),
        lambda t: _resource("OrderSagaStateMachine")(t)["DefinitionSubstitutions"].update(
            PaymentsTableName={"Ref": "PaymentsTable"}
        ),
        "DefinitionSubstitutions PaymentsTableName is never used",
        id="a substitution nothing uses",
    ),
    pytest.param(
        lambda t: redrive_problems(t, "PaymentQueue"),
        lambda t: _resource("PaymentQueue")(t).pop("RedrivePolicy"),
        "PaymentQueue: no RedrivePolicy",
        id="a queue without a RedrivePolicy",
    ),
    pytest.param(
        lambda t: redrive_problems(t, "OrderQueue"),
        lambda t: _resource("OrderQueue")(t)["RedrivePolicy"].update(maxReceiveCount=10),
        "OrderQueue: RedrivePolicy maxReceiveCount is 10, not 5",
        id="a redrive after 10 receives",
    ),
    pytest.param(
        lambda t: redrive_problems(t, "OrderQueue"),
        lambda t: _resource("OrderQueue")(t)["RedrivePolicy"].update(
            deadLetterTargetArn="arn:aws:sqs:us-east-1:123456789012:elsewhere"
        ),
        "OrderQueue: RedrivePolicy deadLetterTargetArn is no queue of this template",
        id="a redrive to a queue outside the template",
    ),
    pytest.param(
        lambda t: visibility_problems(t, "InventoryQueue"),
        lambda t: _resource("InventoryWorkerFunction")(t).update(Timeout=31),
        "InventoryQueue: VisibilityTimeout 180 is less than 6 x InventoryWorkerFunction's"
        " Timeout 31",
        id="a consumer timeout too long for the visibility timeout",
    ),
    pytest.param(
        lambda t: visibility_problems(t, "InventoryQueue"),
        _timeout_from_globals("InventoryWorkerFunction", 40),
        "InventoryWorkerFunction's Timeout 40",
        id="a Globals timeout too long for the visibility timeout",
    ),
    pytest.param(
        lambda t: event_source_problems(t, "PaymentWorkerFunction", "Commands"),
        lambda t: _resource("PaymentWorkerFunction")(t)["Events"]["Commands"]["Properties"].pop(
            "FunctionResponseTypes"
        ),
        "PaymentWorkerFunction.Commands: no ReportBatchItemFailures",
        id="an event source without ReportBatchItemFailures",
    ),
    pytest.param(
        lambda t: event_source_problems(t, "OrderWorkerFunction", "Commands"),
        lambda t: _resource("OrderWorkerFunction")(t)["Events"]["Commands"]["Properties"].pop(
            "ScalingConfig"
        ),
        "OrderWorkerFunction.Commands: no ScalingConfig.MaximumConcurrency",
        id="an event source without a concurrency cap",
    ),
    pytest.param(
        lambda t: depth_alarm_problems(t, "PaymentDeadLetterQueue"),
        lambda t: t["Resources"].pop("PaymentDeadLetterQueueAlarm"),
        "PaymentDeadLetterQueue: no alarm",
        id="a dead-letter queue without an alarm",
    ),
    pytest.param(
        lambda t: depth_alarm_problems(t, "SagaFailuresQueue"),
        lambda t: _resource("SagaFailuresAlarm")(t).update(Threshold=10),
        "SagaFailuresQueue: no alarm",
        id="a parking queue alarm that waits for ten messages",
    ),
    pytest.param(
        lambda t: execution_alarm_problems(t, "OrderSagaStateMachine", "ExecutionsTimedOut"),
        lambda t: t["Resources"].pop("SagaExecutionsTimedOutAlarm"),
        "OrderSagaStateMachine: no alarm on AWS/States ExecutionsTimedOut",
        id="a state machine without a timed-out alarm",
    ),
    pytest.param(
        lambda t: table_problems(t, "PaymentsTable"),
        lambda t: _resource("PaymentsTable")(t).update(BillingMode="PROVISIONED"),
        "PaymentsTable: BillingMode is 'PROVISIONED'",
        id="a provisioned table",
    ),
    pytest.param(
        lambda t: table_problems(t, "OrdersTable"),
        lambda t: _resource("OrdersTable")(t).pop("SSESpecification"),
        "OrdersTable: SSESpecification.SSEEnabled is not true",
        id="a table without SSE",
    ),
    pytest.param(
        lambda t: table_problems(t, "InventoryTable"),
        lambda t: _resource("InventoryTable")(t).pop("PointInTimeRecoverySpecification"),
        "InventoryTable: PointInTimeRecoverySpecification is not enabled",
        id="a table without PITR",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: _resource("AlarmTopic")(t).update(KmsMasterKeyId="alias/aws/sns"),
        "AlarmTopic: KmsMasterKeyId 'alias/aws/sns' is no AWS::KMS::Key of this template",
        id="an alarm topic under the AWS-managed key",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: _resource("AlarmTopicKey")(t).pop("EnableKeyRotation"),
        "AlarmTopicKey: EnableKeyRotation is not true",
        id="an alarm key that is never rotated",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: _resource("AlarmTopicKey")(t)["KeyPolicy"]["Statement"].pop(0),
        "AlarmTopicKey: the key policy does not let the account root administer it",
        id="an alarm key no one can administer",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: _resource("AlarmTopicKey")(t)["KeyPolicy"]["Statement"][1].update(
            Action=["kms:Decrypt"]
        ),
        "AlarmTopicKey: the key policy does not let cloudwatch.amazonaws.com use it",
        id="an alarm key CloudWatch may decrypt with but not encrypt",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: _resource("AlarmTopicKey")(t)["KeyPolicy"]["Statement"][1].pop("Condition"),
        "AlarmTopicKey: the key policy lets cloudwatch.amazonaws.com use it with no Condition",
        id="an alarm key CloudWatch may use for any account",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: t["Resources"].pop("AlarmTopicKeyAlias"),
        "AlarmTopicKey: no AWS::KMS::Alias names the key",
        id="an alarm key without an alias",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: t["Resources"].pop("AlarmTopicPolicy"),
        "AlarmTopic: no topic policy lets cloudwatch.amazonaws.com publish to it",
        id="an alarm topic without a policy for CloudWatch",
    ),
    pytest.param(
        lambda t: alarm_topic_problems(t, "AlarmTopic"),
        lambda t: t["Resources"]["AlarmTopicKey"].pop("Condition"),
        "AlarmTopicKey: Condition is None, not AlarmTopic's 'HasAlarmEmail'",
        id="an alarm key created with no alarm topic",
    ),
    pytest.param(
        lambda t: deletion_policy_problems(t, "IdempotencyTable"),
        lambda t: t["Resources"]["IdempotencyTable"].update(DeletionPolicy="Retain"),
        "IdempotencyTable: DeletionPolicy Retain with a fixed TableName",
        id="a table with a fixed name retained even when its first create fails",
    ),
    pytest.param(
        lambda t: deletion_policy_problems(t, "PaymentsTable"),
        lambda t: t["Resources"]["PaymentsTable"].update(DeletionPolicy="Delete"),
        "PaymentsTable: DeletionPolicy is 'Delete', not RetainExceptOnCreate",
        id="a participant's table deleted with the stack",
    ),
    pytest.param(
        lambda t: deletion_policy_problems(t, "OrdersTable"),
        lambda t: t["Resources"]["OrdersTable"].update(UpdateReplacePolicy="Delete"),
        "OrdersTable: UpdateReplacePolicy is 'Delete'",
        id="a kept table deleted when it is replaced",
    ),
    pytest.param(
        lambda t: wildcard_action_problems(t, "GetOrderRole"),
        _add_statement(
            "GetOrderRole", {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}
        ),
        "GetOrderRole: grants the wildcard action 'dynamodb:*'",
        id="a service wildcard action",
    ),
    pytest.param(
        lambda t: wildcard_action_problems(t, "OrderSagaStateMachine"),
        lambda t: _resource("OrderSagaStateMachine")(t)["Policies"][0]["Statement"].append(
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "*"], "Resource": "*"}
        ),
        "OrderSagaStateMachine: grants the wildcard action '*'",
        id="a bare wildcard action",
    ),
    pytest.param(
        lambda t: tracing_problems(t, "CreateOrderFunction"),
        lambda t: t["Globals"]["Function"].update(Tracing="Active"),
        "CreateOrderFunction: Tracing is 'Active'",
        id="functions traced through Globals",
    ),
    pytest.param(
        lambda t: tracing_problems(t, "PaymentWorkerFunction"),
        _add_statement(
            "PaymentWorkerRole",
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
        ),
        "PaymentWorkerRole: grants ['xray:PutTraceSegments'], and PaymentWorkerFunction is not",
        id="a function role that may write traces",
    ),
    pytest.param(
        lambda t: sam_added_statement_problems(t, "OrderSagaStateMachine"),
        lambda t: _resource("OrderSagaStateMachine")(t)["Policies"][0]["Statement"].append(
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"}
        ),
        "OrderSagaStateMachine: a statement grants ['xray:PutTraceSegments']; SAM already",
        id="a state machine policy that repeats SAM's X-Ray permissions",
    ),
    pytest.param(
        lambda t: role_scope_problems(t, "GetOrderFunction"),
        _add_statement(
            "GetOrderRole",
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": {"Fn::GetAtt": ["PaymentsTable", "Arn"]},
            },
        ),
        "GetOrderRole: grants ['dynamodb:GetItem'] on PaymentsTable (AWS::DynamoDB::Table)",
        id="a role that reads another participant's table",
    ),
    pytest.param(
        lambda t: role_scope_problems(t, "PaymentWorkerFunction"),
        lambda t: _resource("PaymentWorkerFunction")(t)["Environment"]["Variables"].pop(
            "PAYMENTS_TABLE"
        ),
        "PaymentWorkerRole: grants ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']"
        " on PaymentsTable",
        id="a role that names a table with no environment variable",
    ),
    pytest.param(
        lambda t: role_scope_problems(t, "CreateOrderFunction"),
        _add_statement(
            "CreateOrderRole",
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["OrderQueue", "Arn"]},
            },
        ),
        "CreateOrderRole: grants ['sqs:SendMessage'] on OrderQueue",
        id="a role that writes to a queue the function has no business with",
    ),
    pytest.param(
        lambda t: role_scope_problems(t, "CreateOrderFunction"),
        _add_statement(
            "CreateOrderRole", {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}
        ),
        "CreateOrderRole: grants ['dynamodb:Scan'] on every resource",
        id="a role that acts on every resource",
    ),
    pytest.param(
        lambda t: dead_letter_config_problems(t, "OrderSagaStateMachine.OrderCreated"),
        lambda t: _resource("OrderSagaStateMachine")(t)["Events"]["OrderCreated"]["Properties"].pop(
            "DeadLetterConfig"
        ),
        "OrderSagaStateMachine.OrderCreated: a EventBridgeRule target with no DeadLetterConfig",
        id="a rule target without a dead-letter queue",
    ),
    pytest.param(
        lambda t: schedule_name_problems(t, "RepublishPendingOrdersFunction.Every5Minutes"),
        lambda t: _resource("RepublishPendingOrdersFunction")(t)["Events"]["Every5Minutes"][
            "Properties"
        ].update(Name="republish-pending"),
        "RepublishPendingOrdersFunction.Every5Minutes: the schedule is named 'republish-pending'",
        id="a schedule name without the stage",
    ),
]


@pytest.mark.parametrize(("check", "break_it", "expected"), BREAKS)
def test_each_check_reports_a_broken_copy_of_the_template(
    check: Callable[[Template], list[str]], break_it: Callable[[Template], Any], expected: str
) -> None:
    broken = copy.deepcopy(TEMPLATE)
    break_it(broken)
    before = set(check(TEMPLATE))
    found = [problem for problem in check(broken) if problem not in before]
    assert any(expected in problem for problem in found), (
        f"expected a problem containing {expected!r}; the check found {found}"
    )


HANDLER_BREAKS = [
    pytest.param(
        "GetOrderFunction",
        lambda t: _resource("GetOrderFunction")(t)["Environment"]["Variables"].pop("ORDERS_TABLE"),
        "GetOrderFunction: importing order_saga.entrypoints.get_order fails: MissingSettingError",
        id="an environment that misses a setting",
    ),
    pytest.param(
        "OrderWorkerFunction",
        lambda t: _resource("OrderWorkerFunction")(t).update(
            Handler="order_saga.entrypoints.order_workers.lambda_handler"
        ),
        "OrderWorkerFunction: Handler 'order_saga.entrypoints.order_workers.lambda_handler'"
        " names no module under src/",
        id="a handler in a module that does not exist",
    ),
    pytest.param(
        "CreateOrderFunction",
        lambda t: _resource("CreateOrderFunction")(t).update(
            Handler="order_saga.entrypoints._http.handler"
        ),
        "CreateOrderFunction: order_saga.entrypoints._http has no callable 'handler'",
        id="a module without the handler function",
    ),
]


@pytest.mark.parametrize(("function_id", "break_it", "expected"), HANDLER_BREAKS)
def test_the_handler_check_reports_a_broken_copy_of_the_template(
    function_id: str,
    break_it: Callable[[Template], Any],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = copy.deepcopy(TEMPLATE)
    break_it(broken)
    found = handler_problems(broken, function_id, monkeypatch)
    assert any(expected in problem for problem in found), (
        f"expected a problem containing {expected!r}; the check found {found}"
    )


def test_the_handler_check_leaves_no_freshly_imported_handler_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = sys.modules.get("order_saga.entrypoints.inventory_worker")
    assert not handler_problems(TEMPLATE, "InventoryWorkerFunction", monkeypatch)
    assert sys.modules.get("order_saga.entrypoints.inventory_worker") is before


def test_the_stuck_orders_alarm_watches_the_metric_the_republisher_emits_per_stage() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    alarm = props(TEMPLATE, "StuckOrdersAlarm")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}

    assert (alarm["Namespace"], alarm["MetricName"]) == (
        variables["POWERTOOLS_METRICS_NAMESPACE"],
        "StuckOrders",
    )
    assert dimensions == {
        "service": variables["POWERTOOLS_SERVICE_NAME"],
        "StateMachineArn": {"Ref": "OrderSagaStateMachine"},
    }
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == props(TEMPLATE, "SagaFailuresAlarm")["AlarmActions"]
    assert environment(TEMPLATE, "RepublishPendingOrdersFunction")["STATE_MACHINE_ARN"] == {
        "Ref": "OrderSagaStateMachine"
    }


def test_the_republisher_may_list_the_sagas_executions_and_nothing_more_of_the_saga() -> None:
    role_id, granted = _role_statements(TEMPLATE, "RepublishPendingOrdersFunction")
    on_the_saga = [
        sorted(as_list(s["Action"]))
        for s in granted
        if "OrderSagaStateMachine" in references(s.get("Resource"))
    ]

    assert role_id == "RepublishPendingOrdersRole"
    assert on_the_saga == [["states:ListExecutions"]]


# ---------------------------------------------------------------- what each function ships


def pinned(requirement_lines: list[str], package: str) -> str | None:
    for line in requirement_lines:
        name, _, version = line.split("#", 1)[0].strip().partition("==")
        if name.split("[", 1)[0].strip() == package:
            return version.strip()
    return None


def test_powertools_comes_from_the_public_layer_of_the_version_the_project_pins() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (ROOT / "src" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    parameter = TEMPLATE["Parameters"]["PowertoolsLayerArn"]
    function = TEMPLATE["Globals"]["Function"]
    runtime = function["Runtime"]
    (architecture,) = function["Architectures"]

    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == (
        f"/aws/service/powertools/python/{architecture}/{runtime}/"
        f"{pinned(project['dependencies'], 'aws-lambda-powertools')}"
    )
    assert function["Layers"] == [{"Ref": "PowertoolsLayerArn"}]
    assert pinned(requirements, "aws-lambda-powertools") is None
    assert pinned(requirements, "iso4217") == pinned(project["dependencies"], "iso4217")
