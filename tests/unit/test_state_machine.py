"""Static checks of the saga's definition (statemachines/order_saga.asl.json).

moto runs an ASL with a Next that names no state and only fails when an execution gets
there, and `sam validate` never opens the file behind DefinitionUri: these checks do.
Each check returns the problems it finds, naming the state, so that a test of a broken
copy of the definition can prove the check would see the break.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from order_saga.domain import errors

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachines" / "order_saga.asl.json"
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def substituted(text: str, values: dict[str, str]) -> str:
    """A definition with some DefinitionSubstitutions applied and the other placeholders kept."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


# Step Functions reads the definition with DefinitionSubstitutions applied: the checks read
# Resource ARNs as the commercial partition has them (the queue URLs and names do not matter).
ASL: dict[str, Any] = json.loads(
    substituted(ASL_PATH.read_text(encoding="utf-8"), {"Partition": "aws"})
)

Machine = dict[str, Any]
State = dict[str, Any]

# The errors that Step Functions itself raises (Amazon States Language, "Error names").
STATES_ERRORS = frozenset(
    {
        "States.ALL",
        "States.BranchFailed",
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        "States.NoChoiceMatched",
        "States.ParameterPathFailure",
        "States.Permissions",
        "States.QueryEvaluationError",
        "States.ResultPathMatchFailure",
        "States.ResultWriterFailed",
        "States.Runtime",
        "States.TaskFailed",
        "States.Timeout",
    }
)
# Names that match every task failure, business refusals included.
CATCH_ALL_ERRORS = frozenset({"States.ALL", "States.TaskFailed"})
INTEGRATION_PREFIX = "arn:aws:states:::"
CALLBACK_RESOURCE = INTEGRATION_PREFIX + "sqs:sendMessage.waitForTaskToken"
NESTED_EXECUTION = INTEGRATION_PREFIX + "states:startExecution"
# The errors each optimized integration the definition calls can raise, as AWS documents them.
# Step Functions reports a service's error as ServiceName.ErrorName, ErrorName as the called API's
# reference lists it (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html);
# an integration's own page gives its prefix and its own errors.
INTEGRATION_ERRORS: dict[str, frozenset[str]] = {
    # https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html (the prefix DynamoDB)
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#API_UpdateItem_Errors
    "dynamodb:updateItem": frozenset(
        {
            "DynamoDB.ConditionalCheckFailedException",
            "DynamoDB.InternalServerError",
            "DynamoDB.ItemCollectionSizeLimitExceededException",
            "DynamoDB.ProvisionedThroughputExceededException",
            "DynamoDB.ReplicatedWriteConflictException",
            "DynamoDB.RequestLimitExceeded",
            "DynamoDB.ResourceNotFoundException",
            "DynamoDB.ThrottlingException",
            "DynamoDB.TransactionConflictException",
        }
    ),
    # https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html (FailedEntry)
    # https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html#API_PutEvents_Errors
    "events:putEvents": frozenset({"EventBridge.FailedEntry", "EventBridge.InternalException"}),
    # https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html (none of its own)
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html#API_SendMessage_Errors
    "sqs:sendMessage": frozenset(
        {
            "SQS.InvalidAddress",
            "SQS.InvalidMessageContents",
            "SQS.InvalidSecurity",
            "SQS.KmsAccessDenied",
            "SQS.KmsDisabled",
            "SQS.KmsInvalidKeyUsage",
            "SQS.KmsInvalidState",
            "SQS.KmsNotFound",
            "SQS.KmsOptInRequired",
            "SQS.KmsThrottled",
            "SQS.QueueDoesNotExist",
            "SQS.RequestThrottled",
            "SQS.UnsupportedOperation",
        }
    ),
}


def _error_classes() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }


ERROR_CLASSES = _error_classes()
# Workers report type(exc).__name__, so only concrete subclasses can ever match a name.
TRANSIENT_ERRORS = frozenset(
    name
    for name, cls in ERROR_CLASSES.items()
    if issubclass(cls, errors.TransientError) and cls is not errors.TransientError
)
BUSINESS_ERRORS = frozenset(
    name
    for name, cls in ERROR_CLASSES.items()
    if issubclass(cls, errors.BusinessRuleError) and cls is not errors.BusinessRuleError
)


def is_service_error(name: str) -> bool:
    """An error an AWS service integration raises, such as DynamoDB.ConditionalCheckFailed..."""
    prefix, dot, rest = name.partition(".")
    return bool(dot and rest) and prefix != "States" and prefix[:1].isupper()


# ---------------------------------------------------------------- walking the definition


def machines(asl: Machine, path: str = "") -> Iterator[tuple[str, Machine]]:
    """The definition and every machine nested in it (Parallel branches, Map processors)."""
    yield path, asl
    for name, state in asl.get("States", {}).items():
        for index, branch in enumerate(state.get("Branches", [])):
            yield from machines(branch, f"{path}{name}/branch {index}/")
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from machines(state[key], f"{path}{name}/")


def states(asl: Machine) -> Iterator[tuple[str, State, Machine]]:
    """Every state as (qualified name, state, the machine it belongs to)."""
    for path, machine in machines(asl):
        for name, state in machine.get("States", {}).items():
            yield f"{path}{name}", state, machine


def state_names(asl: Machine, predicate: Callable[[State], bool] = lambda _: True) -> list[str]:
    return [name for name, state, _ in states(asl) if predicate(state)]


def find(asl: Machine, qualified_name: str) -> tuple[State, Machine]:
    for name, state, machine in states(asl):
        if name == qualified_name:
            return state, machine
    raise KeyError(qualified_name)


def transitions(state: State) -> Iterator[tuple[str, Any]]:
    """(field, target) for every transition a state may take."""
    for index, rule in enumerate(state.get("Choices", [])):
        yield f"Choices[{index}].Next", rule.get("Next")
    if "Default" in state:
        yield "Default", state["Default"]
    if "Next" in state:
        yield "Next", state["Next"]
    for index, catcher in enumerate(state.get("Catch", [])):
        yield f"Catch[{index}].Next", catcher.get("Next")


def reachable(machine: Machine) -> set[str]:
    seen: set[str] = set()
    todo: list[Any] = [machine.get("StartAt")]
    while todo:
        name = todo.pop()
        if name in seen or name not in machine.get("States", {}):
            continue
        seen.add(name)
        todo.extend(target for _, target in transitions(machine["States"][name]))
    return seen


def is_task(state: State) -> bool:
    return state.get("Type") == "Task"


def is_callback(state: State) -> bool:
    return is_task(state) and state.get("Resource") == CALLBACK_RESOURCE


def integration(state: State) -> str:
    """The optimized integration a Task calls, without its pattern: "sqs:sendMessage"."""
    resource = str(state.get("Resource", ""))
    if not resource.startswith(INTEGRATION_PREFIX):
        return ""
    return resource.removeprefix(INTEGRATION_PREFIX).split(".", 1)[0]


def named_errors(state: State) -> list[tuple[str, str]]:
    """(where, error name) for every name in the state's Retry and Catch."""
    return [
        (f"{kind}[{index}]", error)
        for kind in ("Retry", "Catch")
        for index, rule in enumerate(state.get(kind, []))
        for error in rule.get("ErrorEquals", [])
    ]


def every(check: Callable[[str, State, Machine], list[str]], asl: Machine) -> list[str]:
    return [
        problem for name, state, machine in states(asl) for problem in check(name, state, machine)
    ]


# ---------------------------------------------------------------- the checks


def transition_problems(name: str, state: State, machine: Machine) -> list[str]:
    problems = [
        f"{name!r}: {field} names {target!r}, which is not a state of its machine"
        for field, target in transitions(state)
        if target not in machine.get("States", {})
    ]
    ends = state.get("Type") in {"Choice", "Succeed", "Fail"} or state.get("End") is True
    if not ends and "Next" not in state:
        problems.append(f"{name!r}: has neither Next nor End")
    return problems


def start_problems(asl: Machine) -> list[str]:
    return [
        f"{path or 'the definition'}: StartAt names {machine.get('StartAt')!r}, not a state"
        for path, machine in machines(asl)
        if machine.get("StartAt") not in machine.get("States", {})
    ]


def reachability_problems(name: str, state: State, machine: Machine) -> list[str]:
    short = next(n for n, s in machine["States"].items() if s is state)
    if short in reachable(machine):
        return []
    return [f"{name!r}: no path from StartAt {machine.get('StartAt')!r} leads to it"]


def task_problems(name: str, state: State, machine: Machine) -> list[str]:
    if not is_task(state):
        return []
    problems = []
    timeout = state.get("TimeoutSeconds")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        problems.append(f"{name!r}: a Task needs a positive TimeoutSeconds (has {timeout!r})")
    if not str(state.get("Comment", "")).strip():
        problems.append(f"{name!r}: a Task needs a Comment saying what it is for")
    return problems


def heartbeat_problems(name: str, state: State, machine: Machine) -> list[str]:
    if not is_callback(state):
        return []
    heartbeat, timeout = state.get("HeartbeatSeconds"), state.get("TimeoutSeconds")
    if not isinstance(heartbeat, int) or not isinstance(timeout, int):
        return [
            f"{name!r}: waits for a task token, so it needs HeartbeatSeconds and TimeoutSeconds"
        ]
    if heartbeat >= timeout:
        return [f"{name!r}: HeartbeatSeconds {heartbeat} is not less than TimeoutSeconds {timeout}"]
    return []


def correlation_problems(name: str, state: State, machine: Machine) -> list[str]:
    if not is_callback(state):
        return []
    body = state.get("Parameters", {}).get("MessageBody", {})
    if body.get("correlationId.$") != "$.correlationId":
        return [f"{name!r}: its command must carry the order's correlation id ($.correlationId)"]
    return []


def retry_problems(name: str, state: State, machine: Machine) -> list[str]:
    problems = []
    for index, retrier in enumerate(state.get("Retry", [])):
        for error in retrier.get("ErrorEquals", []):
            where = f"{name!r}: Retry[{index}] names {error!r}"
            if error in BUSINESS_ERRORS:
                problems.append(f"{where}, a BusinessRuleError: a refusal is final, never retried")
            elif error.startswith("States."):
                if error not in STATES_ERRORS:
                    problems.append(f"{where}, which is not an error Step Functions raises")
            elif not is_service_error(error) and error not in TRANSIENT_ERRORS:
                problems.append(
                    f"{where}, which is neither a TransientError subclass in domain/errors.py"
                    f" ({', '.join(sorted(TRANSIENT_ERRORS))}) nor a service or States.* error"
                )
    return problems


def catch_all_retry_problems(name: str, state: State, machine: Machine) -> list[str]:
    return [
        f"{name!r}: Retry[{index}] names {error!r}, which also retries business refusals and"
        " unexpected errors; name the transient errors (and States.Timeout) instead"
        for index, retrier in enumerate(state.get("Retry", []))
        for error in retrier.get("ErrorEquals", [])
        if error in CATCH_ALL_ERRORS
    ]


def catch_order_problems(name: str, state: State, machine: Machine) -> list[str]:
    catchers = state.get("Catch", [])
    if not catchers:
        return []
    problems = []
    if catchers[-1].get("ErrorEquals") != ["States.ALL"]:
        problems.append(f'{name!r}: the last catcher must be exactly ["States.ALL"]')
    for index, catcher in enumerate(catchers[:-1]):
        for error in catcher.get("ErrorEquals", []):
            where = f"{name!r}: Catch[{index}] names {error!r}"
            if error in CATCH_ALL_ERRORS:
                problems.append(f"{where} before the last catcher: the ones after it never match")
            elif error in TRANSIENT_ERRORS:
                problems.append(f"{where}, a TransientError: retry it, do not catch it first")
            elif not (
                error in BUSINESS_ERRORS or is_service_error(error) or error in STATES_ERRORS
            ):
                problems.append(f"{where}: only business errors come before States.ALL")
    return problems


def error_name_problems(name: str, state: State, machine: Machine) -> list[str]:
    return [
        f"{name!r}: {where} names {error!r}, which is no class in order_saga/domain/errors.py"
        for where, error in named_errors(state)
        if not error.startswith("States.")
        and not is_service_error(error)
        and error not in ERROR_CLASSES
    ]


def integration_error_problems(name: str, state: State, machine: Machine) -> list[str]:
    called = integration(state)
    documented = INTEGRATION_ERRORS.get(called, frozenset())
    return [
        f"{name!r}: {where} names {error!r}, which AWS does not document for"
        f" {called or 'a state that calls no integration'}"
        for where, error in named_errors(state)
        if is_service_error(error) and error not in documented
    ]


def unsupported_feature_problems(asl: Machine) -> list[str]:
    """What moto's interpreter (and so the local cloud) cannot run."""
    problems = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "QueryLanguage":
                    problems.append(f"{where}: QueryLanguage {value!r} (JSONata); stay on JSONPath")
                if key == "Assign":
                    problems.append(f"{where}: Assign (JSONPath variables); pass data in the state")
                if key == "Resource" and str(value).startswith(NESTED_EXECUTION):
                    problems.append(f"{where}: {value} (a nested execution)")
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]")

    walk(asl, "the definition")
    return problems


# ---------------------------------------------------------------- the definition as it is

EVERY_STATE = state_names(ASL)
TASKS = state_names(ASL, is_task)
CALLBACK_TASKS = state_names(ASL, is_callback)
STATES_WITH_RETRY = state_names(ASL, lambda s: bool(s.get("Retry")))
STATES_WITH_CATCH = state_names(ASL, lambda s: bool(s.get("Catch")))
STATES_WITH_ERRORS = state_names(ASL, lambda s: bool(s.get("Retry") or s.get("Catch")))


def test_the_definition_has_states_of_every_kind_the_checks_look_at() -> None:
    assert TASKS, "no Task state: the Task checks would check nothing"
    assert CALLBACK_TASKS, f"no {CALLBACK_RESOURCE} task: the heartbeat check would check nothing"
    assert STATES_WITH_RETRY and STATES_WITH_CATCH, "no Retry or Catch to check"


def test_start_at_names_an_existing_state() -> None:
    assert not start_problems(ASL), "\n".join(start_problems(ASL))


@pytest.mark.parametrize("name", EVERY_STATE)
def test_every_next_default_and_catch_target_names_an_existing_state(name: str) -> None:
    state, machine = find(ASL, name)
    problems = transition_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", EVERY_STATE)
def test_every_state_is_reachable_from_start_at(name: str) -> None:
    state, machine = find(ASL, name)
    problems = reachability_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", TASKS)
def test_every_task_has_a_timeout_and_a_comment(name: str) -> None:
    state, machine = find(ASL, name)
    problems = task_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CALLBACK_TASKS)
def test_every_callback_task_has_a_heartbeat_shorter_than_its_timeout(name: str) -> None:
    state, machine = find(ASL, name)
    problems = heartbeat_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CALLBACK_TASKS)
def test_every_command_the_saga_sends_carries_the_orders_correlation_id(name: str) -> None:
    state, machine = find(ASL, name)
    problems = correlation_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", STATES_WITH_RETRY)
def test_retriers_name_only_transient_service_or_states_errors(name: str) -> None:
    state, machine = find(ASL, name)
    problems = retry_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", STATES_WITH_RETRY)
def test_no_retrier_retries_every_error(name: str) -> None:
    state, machine = find(ASL, name)
    problems = catch_all_retry_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", STATES_WITH_CATCH)
def test_catchers_list_business_errors_first_and_states_all_last(name: str) -> None:
    state, machine = find(ASL, name)
    problems = catch_order_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", STATES_WITH_ERRORS)
def test_every_project_error_the_definition_names_is_a_class_in_errors_py(name: str) -> None:
    state, machine = find(ASL, name)
    problems = error_name_problems(name, state, machine)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", STATES_WITH_ERRORS)
def test_every_service_error_the_definition_names_is_one_aws_documents_for_its_integration(
    name: str,
) -> None:
    state, machine = find(ASL, name)
    problems = integration_error_problems(name, state, machine)
    assert not problems, "\n".join(problems)


def test_the_definition_uses_nothing_the_local_interpreter_cannot_run() -> None:
    problems = unsupported_feature_problems(ASL)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- each check sees a break


def _set(path: list[Any], value: Any) -> Callable[[Machine], None]:
    def apply(asl: Machine) -> None:
        node = asl
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return apply


def _drop(path: list[Any]) -> Callable[[Machine], None]:
    def apply(asl: Machine) -> None:
        node = asl
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return apply


def _add_state(name: str, state: State) -> Callable[[Machine], None]:
    return _set(["States", name], state)


def _on_every_state(
    check: Callable[[str, State, Machine], list[str]],
) -> Callable[[Machine], list[str]]:
    return lambda asl: every(check, asl)


BREAKS = [
    pytest.param(
        _on_every_state(transition_problems),
        _set(["States", "Charge payment", "Next"], "Confirm the order"),
        "'Charge payment': Next names 'Confirm the order'",
        id="a Next that names no state",
    ),
    pytest.param(
        _on_every_state(transition_problems),
        _set(["States", "Reserve inventory", "Catch", 0, "Next"], "Cancel"),
        "'Reserve inventory': Catch[0].Next names 'Cancel'",
        id="a Catch that names no state",
    ),
    pytest.param(
        _on_every_state(transition_problems),
        _drop(["States", "Order confirmed", "End"]),
        "'Order confirmed': has neither Next nor End",
        id="a state with no way out",
    ),
    pytest.param(
        start_problems,
        _set(["StartAt"], "Read the order"),
        "StartAt names 'Read the order', not a state",
        id="a StartAt that names no state",
    ),
    pytest.param(
        _on_every_state(reachability_problems),
        _add_state("Forgotten", {"Type": "Succeed"}),
        "'Forgotten': no path from StartAt",
        id="a state nothing leads to",
    ),
    pytest.param(
        _on_every_state(task_problems),
        _drop(["States", "Confirm order", "TimeoutSeconds"]),
        "'Confirm order': a Task needs a positive TimeoutSeconds",
        id="a Task without TimeoutSeconds",
    ),
    pytest.param(
        _on_every_state(task_problems),
        _set(["States", "Claim order", "Comment"], " "),
        "'Claim order': a Task needs a Comment",
        id="a Task without a Comment",
    ),
    pytest.param(
        _on_every_state(heartbeat_problems),
        _set(["States", "Refund payment", "HeartbeatSeconds"], 1200),
        "'Refund payment': HeartbeatSeconds 1200 is not less than TimeoutSeconds 1200",
        id="a heartbeat as long as the timeout",
    ),
    pytest.param(
        _on_every_state(heartbeat_problems),
        _drop(["States", "Reserve inventory", "HeartbeatSeconds"]),
        "'Reserve inventory': waits for a task token, so it needs HeartbeatSeconds",
        id="a callback task without a heartbeat",
    ),
    pytest.param(
        _on_every_state(correlation_problems),
        _drop(["States", "Release inventory", "Parameters", "MessageBody", "correlationId.$"]),
        "'Release inventory': its command must carry the order's correlation id",
        id="a command without the correlation id",
    ),
    pytest.param(
        _on_every_state(retry_problems),
        _set(["States", "Charge payment", "Retry", 0, "ErrorEquals"], ["PaymentDeclinedError"]),
        "'Charge payment': Retry[0] names 'PaymentDeclinedError', a BusinessRuleError",
        id="a retried business error",
    ),
    pytest.param(
        _on_every_state(retry_problems),
        _set(["States", "Charge payment", "Retry", 0, "ErrorEquals"], ["InvalidCommandError"]),
        "'Charge payment': Retry[0] names 'InvalidCommandError', which is neither",
        id="a retried error that is not transient",
    ),
    pytest.param(
        _on_every_state(retry_problems),
        _set(["States", "Claim order", "Retry", 0, "ErrorEquals"], ["States.TimeOut"]),
        "'Claim order': Retry[0] names 'States.TimeOut', which is not an error Step Functions",
        id="a misspelt States error",
    ),
    pytest.param(
        _on_every_state(catch_all_retry_problems),
        _set(["States", "Charge payment", "Retry", 0, "ErrorEquals"], ["States.ALL"]),
        "'Charge payment': Retry[0] names 'States.ALL'",
        id="a retrier that retries everything",
    ),
    pytest.param(
        _on_every_state(catch_order_problems),
        lambda asl: asl["States"]["Charge payment"]["Catch"].reverse(),
        "'Charge payment': Catch[0] names 'States.ALL' before the last catcher",
        id="States.ALL caught first",
    ),
    pytest.param(
        _on_every_state(catch_order_problems),
        lambda asl: asl["States"]["Confirm order"]["Catch"].pop(),
        "'Confirm order': the last catcher must be exactly [\"States.ALL\"]",
        id="a Catch without States.ALL",
    ),
    pytest.param(
        _on_every_state(catch_order_problems),
        _set(
            ["States", "Reserve inventory", "Catch", 0, "ErrorEquals"],
            ["ParticipantUnavailableError"],
        ),
        "'Reserve inventory': Catch[0] names 'ParticipantUnavailableError', a TransientError",
        id="a transient error caught before States.ALL",
    ),
    pytest.param(
        _on_every_state(error_name_problems),
        _set(["States", "Reserve inventory", "Catch", 0, "ErrorEquals"], ["OutOfStock"]),
        "'Reserve inventory': Catch[0] names 'OutOfStock', which is no class",
        id="a caught error with no class",
    ),
    pytest.param(
        _on_every_state(integration_error_problems),
        _set(
            ["States", "Claim order", "Retry", 0, "ErrorEquals"],
            ["DynamoDB.InternalServerErrorException"],
        ),
        "'Claim order': Retry[0] names 'DynamoDB.InternalServerErrorException', which AWS does"
        " not document for dynamodb:updateItem",
        id="a DynamoDB error name AWS does not document",
    ),
    pytest.param(
        _on_every_state(integration_error_problems),
        _set(
            ["States", "Park on saga failures queue", "Retry", 0, "ErrorEquals"],
            ["EventBridge.InternalException"],
        ),
        "'Park on saga failures queue': Retry[0] names 'EventBridge.InternalException', which"
        " AWS does not document for sqs:sendMessage",
        id="an error of another integration",
    ),
    pytest.param(
        _on_every_state(integration_error_problems),
        _set(
            ["States", "Reserve inventory", "Catch", 0, "ErrorEquals"],
            ["SQS.AmazonSQSException"],
        ),
        "'Reserve inventory': Catch[0] names 'SQS.AmazonSQSException', which AWS does not"
        " document for sqs:sendMessage",
        id="an SDK exception class AWS does not document as an error name",
    ),
    pytest.param(
        unsupported_feature_problems,
        _set(["QueryLanguage"], "JSONata"),
        "QueryLanguage 'JSONata'",
        id="JSONata",
    ),
    pytest.param(
        unsupported_feature_problems,
        _set(["States", "Claim order", "Assign"], {"claimed": True}),
        "States/Claim order: Assign",
        id="an Assign",
    ),
    pytest.param(
        unsupported_feature_problems,
        _set(["States", "Confirm order", "Resource"], NESTED_EXECUTION + ".sync:2"),
        "states:startExecution.sync:2 (a nested execution)",
        id="a nested execution",
    ),
]


@pytest.mark.parametrize(("check", "break_it", "expected"), BREAKS)
def test_each_check_reports_a_broken_copy_of_the_definition(
    check: Callable[[Machine], list[str]], break_it: Callable[[Machine], None], expected: str
) -> None:
    broken = copy.deepcopy(ASL)
    break_it(broken)
    before = set(check(ASL))
    found = [problem for problem in check(broken) if problem not in before]
    assert any(expected in problem for problem in found), (
        f"expected a problem containing {expected!r}; the check found {found}"
    )


def test_the_walk_reaches_states_nested_in_parallel_branches() -> None:
    asl = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "B"}}}],
            }
        },
    }
    assert "Both/branch 0/A" in state_names(asl)
    assert "'Both/branch 0/A': Next names 'B'" in "\n".join(every(transition_problems, asl))
