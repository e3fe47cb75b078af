"""Every change the local cloud makes to moto, in one place; each is covered by a test.

moto is pinned exactly (pyproject.toml) because these reach into its internals:
1. Lambda invocations go to the real handlers (moto's simple Lambda only echoes).
2. EventBridge rule targets that are state machines or functions are delivered
   (moto raises NotImplementedError for them).
3. SQS event source mappings are not delivered synchronously inside SendMessage; the
   local cloud polls the queues itself, as Lambda does, and a queue's poller is woken
   when a message lands in that queue.
4. Visibility timeouts, Retry intervals, TimeoutSeconds and HeartbeatSeconds run on a
   scaled clock, so drills take seconds (a scaled timeout is never under one real second,
   the emulator's own latency, which is not scaled). The TimeoutSeconds of a task that only
   makes a call (no .waitForTaskToken, no .sync) is not scaled at all: such a task waits on
   nothing but the emulator's own work, which on a loaded machine can pass one second for a
   first call (a saga's Claim order then timed out and left its order PENDING).
5. A state machine definition is parsed once, not once per execution (the parse costs
   about 60 ms; the parsed program keeps no execution state, which lives in each
   execution's Environment); a JSONPath is parsed once, not at every evaluation (each
   parse builds a new PLY parser, about 1 ms; a ResultPath's too, which moto parses with
   jsonpath_ng itself, a twentieth of a saga's time); the interpreter reuses one boto3
   client per service instead of building one (about 2 ms) for every task; and the method
   names of a response class are listed once, not at every request.
6. DynamoDB requests are atomic across threads: every request, from its parameters to its
   answer, and every write and transaction hold one lock, so no read sees a write half
   applied (moto's UpdateItem on a new item stores the bare key first, then applies the
   update, and changes stored items in place while another thread may be serialising them),
   and a cancelled transaction restores only the items it touched (moto deep-copies each
   whole table per transaction, slower as tables grow, and its restore would erase
   writes made by other threads meanwhile).
7. Waiting is event-driven: the end of every execution is announced, so the local cloud
   checks a saga when one ends instead of polling; and the ended execution is passed to the
   running cloud (its commands name a failed one on stderr).
8. Requests to the emulator are not signed (SigV4 costs about 12% of each call here and
   moto ignores signatures): those of every boto3 session made while a cloud runs, the
   handlers' libraries' own sessions included (Powertools' idempotency layer makes one).
9. waitForTaskToken behaves as in AWS: every attempt of a retried task has a new task token
   (moto reuses the first, so an attempt could read the previous attempt's answer); an
   answer that arrives before the heartbeat watch starts is not lost (moto waits out the
   heartbeat and times the task out); a heartbeat expiry is States.HeartbeatTimeout (moto
   says States.Timeout).
10. SNS delivers to a Lambda subscription as AWS does: the real handler, asynchronously, with
   the topic's ARN, the message id and attributes in the record (moto invokes the function
   inside Publish, with a fixed record of placeholder values).
11. What moto recomputes at every request from the same input is computed once: a DynamoDB
   UpdateExpression is parsed once per distinct expression (moto parses it twice per
   UpdateItem, and its validator works on a deep copy of the tree, never on the tree itself),
   and the attribute names moto derives from camel case (SQS lists a queue's attributes
   that way at every send and receive) are derived once per name.
12. A request reaches its moto handler through a table of the URLs already seen: moto scans
   every service's URL patterns, then compiles each of the service's URL regexes, at every
   request (about a millisecond, a sixth of a DynamoDB call). A URL first seen is resolved
   as moto resolves it; a URL no service claims is left to moto.
13. moto's Batch package initialises when first used, not when the ASL interpreter is imported:
   the interpreter imports one enum from `moto.batch.utils`, and the package's `__init__`
   imports all of moto's EC2, which lists every region through three new boto3 sessions (about
   a second). The package's attributes (its backends) load it whole, as before.
14. Every boto3 session in the process reads botocore's data files (endpoints, service models)
   through one loader: moto builds a session per backend to list its regions, and so does
   every handler's Powertools persistence layer, each reading endpoints.json (1.2 MB) again.
   The files are the same; the loader caches what it read, as within one session. moto's own
   loader (botocore's, plus moto's extras) is likewise made once, not once per model it reads
   (each new one listed every service's data folder again: about 0.2 s of each start).
15. CreateStateMachine's validation parses a definition through the cache of adaptation 5,
   so the first execution of a machine does not parse it a second time; and where the running
   cloud names a cache folder, the parsed program is kept there (pickled, under a hash of the
   definition, moto's version and Python's), so the next start skips the parse (0.2 to 0.5 s)
   of a definition that parsed before. A definition that fails to parse is never kept.
16. moto's SSM imports without EC2: its models bind EC2's backends, used only by a command
   that targets instances, and importing EC2 (about 0.7 s) was most of what reading one
   parameter cost at start, for a template with an SSM-typed parameter. SSM is imported
   with a stand-in for those backends that imports EC2 at first use; every other importer
   of EC2 gets the real package.
17. The ASL interpreter copies JSON as JSON: it deep-copies a state's input, its results and
   every path it reads, and `copy.deepcopy` (its memo, its dispatch per object) was a tenth
   of a saga's time. Dicts, lists and scalars are copied by a plain walk; anything else still
   goes through `copy.deepcopy`. A value shared twice in one document comes out as two equal
   copies, as JSON would carry it.
18. A DynamoDB update expression's validators each walk the expression's tree, and at every
   node each rebuilt its map of node types to handlers, twice (about a tenth of a saga's
   time). Each walk now builds the map once; nodes are handled as before. Where a value goes
   in a walk (not a node, not handled, which handler) and whether the search for clauses
   looks inside it are decided once per type: moto decided each with `isinstance` against
   abstract classes, a Python call per check, about a thousand of them to validate the
   idempotency layer's three-action SET.
19. A condition expression is split into tokens once per expression text: moto re-lexes it,
   with six regular expressions per token, at every request that carries it (put, update and
   transactions each parse it twice). The tokens depend on the text alone; what follows them
   (names, values, the tree) is built at every request as before.
20. A KMS key's private key is generated when it is first used (to sign, to verify, for its
   public key): moto generates an RSA-2048 pair for every key it creates, symmetric ones
   included, and a table with server-side encryption gets AWS's managed key at its creation,
   so every start paid for one (35 to 130 ms here, a sixth of a start).
21. A request reaches moto's handlers with its WSGI environ made directly, key by key as
   werkzeug's EnvironBuilder makes it (the keys a URL gives are worked out once per URL): the
   builder, generic over forms, files and streams, cost a twentieth of a saga's time. A request
   the builder might make otherwise (a streamed body, an empty one typed as a form, a path
   beginning with two slashes) still goes through it.
22. moto's random strings (ids, an SQS receipt handle of 185 letters per message received) are
   drawn in one call to its seeded random instead of one call per character, so a seeded run
   still repeats; and its `utcnow` and `utcfromtimestamp`, called dozens of times per request,
   no longer run an import statement each time (half of their cost): their code is replaced
   in place, because modules all over moto imported the functions themselves.
23. An update expression's tree, which moto's validator deep-copies at every UpdateItem, is
   copied node by node: each node's attributes go through `copy.deepcopy` with the same memo,
   as before, but the node itself is not rebuilt through deepcopy's generic reduce protocol
   (twice as fast; the copy was a twenty-fifth of a saga's time). Its list of children is
   copied in place, item by item through the same memo, as deepcopy copies a list.
24. botocore's data files (endpoints.json, each service's model) are decoded once per process
   and kept pickled: moto reads a service's model through a loader of its own, so the models
   the deployment uses were each decoded twice, a fifth of a start; and where the running
   cloud names a cache folder, the pickle is kept there, under a hash of the file and Python's
   version, so the next start reads it back three to four times faster than the JSON decodes.
   Every caller gets a copy of its own (botocore merges extras into what it loaded).
25. A REST service's router (Lambda's, at a start's first CreateFunction) makes each of its
   rules' choice among operations, and werkzeug's URL builders for it, when a request first
   matches that rule: moto worked out every operation's required query arguments and headers
   from its input shape, and werkzeug compiled two URL builders per rule that moto never
   uses, for all of Lambda's 89 rules, in every new process. Now only the rules that requests
   match do that work. Requests are routed as before.
26. A queue's visible messages and its three message counts read the clock once per list or
   count, not twice per message: every SendMessage reads the queue's attributes (for one of
   them, ContentBasedDeduplication), which counts the messages three times over, and every
   ReceiveMessage lists the visible ones, so each grew with the backlog: a send behind 200
   waiting messages took five times what a send to an empty queue takes (3.2 ms against 0.65
   in a fast window), most of it reading the clock, and about the same now (0.68 ms). An empty
   queue reads no clock. A message is visible, delayed or in flight by the same comparisons
   with its times as before.
27. A condition expression is parsed once per distinct text, names and values: moto parses it
   twice per conditional write (the handler, then the backend), and the saga's writes repeat
   the same few (`available >= :q` with the same quantity, the idempotency layer's with the
   same instant in both parses). About two parses in three are saved in a saga. The tree is
   built from the cache's own copy of the names and values and its operators keep no state,
   so requests share it; an expression moto refuses is refused at every request.
28. A request's URL-derived properties (werkzeug's `url`, `root_url`, `host`, `args` and the
   like, which moto reads at every request and werkzeug works out from the same few strings
   each time, quoting and decoding them) are computed once per URL, by werkzeug, and given to
   each later request whose environ has the same URL parts; they are immutable.
29. An update expression's structural checks (one clause of each kind, no overlapping paths,
   no key attribute updated) run once per text, names and table key attributes that passed
   them: moto's validator walks the tree with each of its ten processors at every UpdateItem,
   twice for a new item, and these three, first in its list, only read the tree (the text's),
   the names and the key attributes, then raise or pass the tree on unchanged. A text they
   refuse is checked, and refused, every time; the processors that read the values and the
   item run at every request as before.
30. The names moto's response serializer looks each member of a result up by (the member's
   own, its shape's, an alias, their snake case) are worked out once per member and shape for
   a result that is a plain dict, as every DynamoDB, SQS and Step Functions result here is:
   moto built six alias providers per member per response to decide them again.
31. A JSON protocol's request body (DynamoDB, Step Functions, EventBridge, SQS) is given to
   the request as werkzeug leaves it once moto has read it, which moto does first at every
   request: the bytes, an empty form and files, the input read to its end. werkzeug set up its
   form parser and a size-limited stream to get there, a fifth of moto's request set-up.
32. A member of a result that is a plain dict is looked up directly by the names of 30, the
   first one the dict holds: moto made a context object per member, joining the path to it
   into a string, for a picker that reads neither when the response has no transformers
   (DynamoDB, SQS, Step Functions and EventBridge have none). A `GetItem` of an order, every
   attribute value a structure of ten members, looked up hundreds of them.
33. A request of a JSON protocol goes from botocore's endpoint to moto's handler directly while
   a cloud runs: botocore made an HTTP request of it, emitted five events for it (to sign it,
   which does nothing then (8), to add headers moto does not read, and for moto's stubber to
   answer it) and wrapped the answer back, about a tenth of each call. The request is prepared
   and the answer parsed by botocore, and retried by its retry handler, as before; handlers of
   request-created other than botocore's (Powertools adds to the user agent there) are called
   as botocore calls them. A request that another handler of the other events would see, or
   that streams, carries a checksum, or goes to a URL no moto service claims, goes the usual
   way.
34. Step Functions finds an execution through an index of each state machine's executions,
   kept up to date as moto appends to the list: moto scanned every execution ever started to
   answer each SendTaskSuccess, SendTaskHeartbeat, DescribeExecution, StopExecution and
   StartExecution (by status, ARN or name), so each grew with the executions a running cloud
   had made: three scans a saga, 0.76 ms each once 1,500 sagas had run (against 3 us now),
   and a saga took 1.34 times what the cloud's first hundred had (1.03 now;
   `benchmarks/long_session.py`). An execution seen to end leaves the list of those that may be
   running (moto has no redrive); one appended and not yet started is not running. The
   answers, and their order, are moto's; other lookups (by any other status, or all) scan.
"""

from __future__ import annotations

import copy
import datetime
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import json
import os
import pickle
import string
import sys
import threading
import types
import weakref
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import botocore.handlers
import botocore.loaders
import botocore.session
import jsonpath_ng
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse, create_request_object
from botocore.endpoint import Endpoint, convert_to_response_dict
from botocore.history import get_global_history_recorder
from botocore.hooks import HierarchicalEmitter
from botocore.retries.standard import MaxAttemptsSeeder
from botocore.signers import RequestSigner
from botocore.useragent import UserAgentString
from werkzeug.datastructures import Headers
from werkzeug.routing import Rule as WerkzeugRule


def _initialised_when_first_used(package: str) -> None:
    """Import `package` without running its `__init__` until one of its attributes is read;
    its submodules import as usual (adaptation 13)."""
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise RuntimeError(f"moto changed: {package} is no longer a package")
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def initialise(name: str) -> Any:
        del module.__getattr__
        loader.exec_module(module)
        return getattr(module, name)

    module.__getattr__ = initialise  # type: ignore[method-assign]
    sys.modules[package] = module


DEFERRED_PACKAGES = ("moto.batch",)
for _package in DEFERRED_PACKAGES:
    _initialised_when_first_used(_package)


class _EC2BackendsWhenFirstUsed:
    """moto's EC2 backends as moto's SSM holds them: EC2 is imported at first use (16)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("moto.ec2").ec2_backends, name)

    def __getitem__(self, key: str) -> Any:
        return importlib.import_module("moto.ec2").ec2_backends[key]


def _import_ssm_without_ec2() -> None:
    """Import moto's SSM with a stand-in for EC2's backends, unless EC2 is loaded (16)."""
    if "moto.ssm" in sys.modules or "moto.ec2" in sys.modules:
        return
    stand_in = types.ModuleType("moto.ec2")
    stand_in.ec2_backends = _EC2BackendsWhenFirstUsed()  # type: ignore[attr-defined]
    sys.modules["moto.ec2"] = stand_in
    try:
        importlib.import_module("moto.ssm")
    finally:
        if sys.modules.get("moto.ec2") is stand_in:
            del sys.modules["moto.ec2"]


_import_ssm_without_ec2()

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core import loaders as moto_loaders
from moto.core import responses as moto_responses
from moto.core import routing as moto_routing
from moto.core import serialize as moto_serialize
from moto.core import utils as moto_utils
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse
from moto.core.models import botocore_stubber
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from moto.core.request import Request as MotoRequest
from moto.core.utils import MISSING
from moto.core.utils import get_value as moto_get_value
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DepthFirstTraverser,
    Expression,
    Node,
    UpdateExpressionFunction,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
    UpdateHashRangeKeyValidator,
)
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.kms import models as kms_models
from moto.kms import utils as kms_utils
from moto.moto_api._internal import mock_random
from moto.moto_api._internal.moto_random import MotoRandom
from moto.sns.models import Subscription
from moto.sqs import models as sqs_models
from moto.sqs.models import Queue
from moto.stepfunctions import exceptions as stepfunctions_exceptions
from moto.stepfunctions.models import StateMachine as SfnStateMachine
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser import models as stepfunctions_models
from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import Heartbeat
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.asl.utils.boto_client import (
    boto_client_for as _original_boto_client_for,
)
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.utilities.arns import parse_arn

LambdaRouter = Callable[[str, bytes], bytes]
TargetDeliverer = Callable[[Rule, dict[str, Any], dict[str, Any]], None]
# (subscription, message, message id, subject, message attributes)
SnsDeliverer = Callable[[Subscription, str, str, str | None, dict[str, Any]], None]

DELIVERED_TARGET_SERVICES = frozenset({"states", "lambda"})


class _State:
    """What the patches consult; set by the running local cloud, one at a time."""

    lambda_router: LambdaRouter | None = None
    target_deliverer: TargetDeliverer | None = None
    sns_deliverer: SnsDeliverer | None = None
    execution_ended: Callable[[Any], None] | None = None  # with moto's Execution, once ended
    clock_scale: float = 1.0
    cache_dir: Path | None = None
    unsigned = False  # requests go unsigned (8)
    executions_ended: threading.Condition = threading.Condition()
    ended = 0
    installed = False


state = _State()


class _ScaledSleep:
    """Stands in for the `time` module inside moto's retrier: sleeps on the scaled clock."""

    def __init__(self, real_time: Any) -> None:
        self._time = real_time

    def sleep(self, seconds: float) -> None:
        self._time.sleep(seconds * state.clock_scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._time, name)


def _invoke(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    if state.lambda_router is None:
        raise RuntimeError("no local cloud is running to invoke Lambda functions")
    payload = body if isinstance(body, bytes) else (body or "{}").encode()
    return state.lambda_router(function_name, payload)


_original_send_to_targets = Rule.send_to_targets


def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    if not self.event_pattern.matches_event(original_event):
        return
    delivered = [
        t for t in self.targets if parse_arn(t["Arn"]).service in DELIVERED_TARGET_SERVICES
    ]
    others = [t for t in self.targets if t not in delivered]
    if others:
        rule = copy.copy(self)
        rule.targets = others
        _original_send_to_targets(rule, original_event, transform_input)
    for target in delivered:
        if state.target_deliverer is None:
            raise RuntimeError("no local cloud is running to deliver EventBridge targets")
        state.target_deliverer(self, target, original_event)


_original_sns_publish = Subscription.publish


def _sns_publish(
    self: Subscription,
    message: str,
    message_id: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    message_structure: str | None = None,
) -> None:
    if self.protocol != "lambda":
        _original_sns_publish(
            self,
            message,
            message_id,
            subject,
            message_attributes,
            group_id,
            deduplication_id,
            message_structure,
        )
        return
    matcher = self._filter_policy_matcher
    if matcher is not None and not matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    if state.sns_deliverer is None:
        raise RuntimeError("no local cloud is running to deliver SNS messages")
    state.sns_deliverer(self, message, message_id, subject, message_attributes or {})


_original_add_message = Queue.add_message


def _add_message(self: Queue, message: Any) -> None:
    # Lambda polls; it is never called from inside SendMessage.
    self.lambda_event_source_mappings.clear()
    with self._messages_lock:
        self.landed = getattr(self, "landed", 0) + 1  # type: ignore[attr-defined]
    _original_add_message(self, message)


def _visible_messages(self: Queue) -> list[Any]:
    """moto's `Queue.messages`, with one reading of the clock for the whole list, and none
    for an empty queue (26)."""
    if not self._messages:
        return []
    now = sqs_models.unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _delayed_count(self: Queue) -> int:
    if not self._messages:
        return 0
    now = sqs_models.unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def _in_flight_count(self: Queue) -> int:
    if not self._messages:
        return 0
    now = sqs_models.unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def _visible_count(self: Queue) -> int:
    return len(_visible_messages(self))


QUEUE_COUNTS = {
    "messages": _visible_messages,
    "approximate_number_of_messages_delayed": _delayed_count,
    "approximate_number_of_messages_not_visible": _in_flight_count,
    "approximate_number_of_messages": _visible_count,
}
# moto's own, for the test that compares the two
_original_queue_counts = {name: getattr(Queue, name) for name in QUEUE_COUNTS}


def _count_messages_faster() -> None:
    visible = inspect.getsource(sqs_models.Message.visible.fget)  # type: ignore[attr-defined]
    delayed = inspect.getsource(sqs_models.Message.delayed.fget)  # type: ignore[attr-defined]
    if "current_time > self.visible_at" not in visible or (
        "current_time < self.delayed_until" not in delayed
    ):
        raise RuntimeError("moto changed: a message is no longer visible or delayed as adapted")
    for name, count in QUEUE_COUNTS.items():
        setattr(Queue, name, property(count))


_original_timeout_eval = Timeout._eval_body
_original_heartbeat_eval = Heartbeat._eval_body


# The emulator's own work is not scaled: a timeout scaled below this would fire while a
# service call is still being served, so scaled timeouts stop here (unless shorter unscaled).
MIN_SCALED_TIMEOUT_SECONDS = 1.0


def scaled_timeout(seconds: float) -> float:
    """A TimeoutSeconds or HeartbeatSeconds on the scaled clock."""
    return max(seconds * state.clock_scale, min(seconds, MIN_SCALED_TIMEOUT_SECONDS))


# Set on the thread evaluating a call-only task's own TimeoutSeconds (4).
_timeout_unscaled = threading.local()


def _scaled_timeout(self: Timeout, env: Any) -> None:
    _original_timeout_eval(self, env)
    if not getattr(_timeout_unscaled, "here", False):
        env.stack.append(scaled_timeout(env.stack.pop()))


_original_evaluate_with_timeout = ExecutionState._evaluate_with_timeout


def _call_timeout_unscaled(self: ExecutionState, env: Any) -> None:
    """A task whose resource makes a call and returns (a request-response integration, a
    Lambda function) times out on the real clock: the call is the emulator's own work (4)."""
    resource = getattr(self, "resource", None)
    _timeout_unscaled.here = isinstance(self, StateTask) and (
        getattr(resource, "condition", None) is None
    )
    try:
        _original_evaluate_with_timeout(self, env)
    finally:
        _timeout_unscaled.here = False


def _time_calls_on_the_real_clock() -> None:
    if "self.timeout.eval(env=env)" not in inspect.getsource(_original_evaluate_with_timeout):
        raise RuntimeError("moto changed: a state no longer evaluates its timeout first")
    ExecutionState._evaluate_with_timeout = _call_timeout_unscaled  # type: ignore[method-assign]


def _scaled_heartbeat(self: Heartbeat, env: Any) -> None:
    _original_heartbeat_eval(self, env)
    env.stack.append(scaled_timeout(env.stack.pop()))


_programs: dict[str, Any] = {}
_programs_lock = threading.Lock()


def _parse_once(definition: str) -> Any:
    """The (program, parse tree) of a definition, parsed at its first use only; the tree is
    None when the program comes from the cache folder (only the program is ever used)."""
    with _programs_lock:
        parsed = _programs.get(definition)
        if parsed is None:
            parsed = _kept_program(definition)
            _programs[definition] = parsed
    return parsed


# What reading a kept pickle back may raise: none kept yet, or one another version wrote.
_NOT_KEPT = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError)


def _keep(path: Path, pickled: bytes) -> None:
    """Write a pickle into the cache folder whole or not at all: a process reading it at the
    same time gets the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(pickled)
    partial.replace(path)


def _kept_program(definition: str) -> tuple[Any, Any]:
    folder = state.cache_dir
    if folder is None:
        return AmazonStateLanguageParser.parse(definition)
    recipe = "\0".join((definition, importlib.metadata.version("moto"), sys.version))
    path = folder / f"asl-{hashlib.sha256(recipe.encode()).hexdigest()}.pickle"
    try:
        return pickle.loads(path.read_bytes()), None  # noqa: S301 - written below, by this process's kind
    except _NOT_KEPT:
        pass
    parsed = AmazonStateLanguageParser.parse(definition)
    _keep(path, pickle.dumps(parsed[0]))
    return parsed


_original_load_data = botocore.loaders.JSONFileLoader._load_file
_data_files: dict[str, bytes] = {}  # a data file's full path: its data, pickled


def _load_data_file(self: botocore.loaders.JSONFileLoader, full_path: str, open_method: Any) -> Any:
    """A botocore data file (a service model, endpoints.json), decoded once per process and
    kept pickled in the running cloud's cache folder; each caller gets a copy of its own, as
    each decode gave one (24). None where there is no such file, as before."""
    pickled = _data_files.get(full_path)
    if pickled is not None:
        return pickle.loads(pickled)  # noqa: S301 - pickled by this process
    if not Path(full_path).is_file():
        return None
    data, pickled = _decoded_data_file(self, full_path, open_method)
    _data_files[full_path] = pickled
    return data


def _decoded_data_file(
    loader: botocore.loaders.JSONFileLoader, full_path: str, open_method: Any
) -> tuple[Any, bytes]:
    folder = state.cache_dir
    path = None
    if folder is not None:
        recipe = b"\0".join((Path(full_path).read_bytes(), sys.version.encode()))
        path = folder / f"data-{hashlib.sha256(recipe).hexdigest()}.pickle"
        try:
            pickled = path.read_bytes()
            return pickle.loads(pickled), pickled  # noqa: S301 - written below
        except _NOT_KEPT:
            pass
    data = _original_load_data(loader, full_path, open_method)
    pickled = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    if path is not None:
        _keep(path, pickled)
    return data, pickled


def _decode_data_files_once() -> None:
    if "object_pairs_hook=OrderedDict" not in inspect.getsource(_original_load_data):
        raise RuntimeError("botocore changed: its data files no longer decode as adapted")
    botocore.loaders.JSONFileLoader._load_file = _load_data_file  # type: ignore[method-assign]


def _parsed_once(self: ExecutionWorker) -> Any:
    return _parse_once(self._evaluation_details.state_machine_details.definition)[0]


class _ValidatedOnce(AmazonStateLanguageParser):
    """The parser as CreateStateMachine's validation sees it: through the cache (adaptation 15)."""

    parse = staticmethod(_parse_once)  # type: ignore[assignment]


_original_create_loader = botocore.session.create_loader


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> Any:
    """One botocore loader per data path for every session in the process (adaptation 14)."""
    return _original_create_loader(search_path_string)


@functools.cache
def _shared_moto_loader() -> Any:
    """One moto loader (botocore's, with moto's extras) for the process (adaptation 14)."""
    return moto_loaders.create_loader()


def _share_botocore_loaders() -> None:
    if "create_loader(" not in inspect.getsource(botocore.session.Session._register_data_loader):
        raise RuntimeError("botocore changed: a session no longer calls create_loader")
    botocore.session.create_loader = _shared_loader  # type: ignore[attr-defined]
    if moto_utils.create_loader is not moto_loaders.create_loader:
        raise RuntimeError("moto changed: its service models no longer load through create_loader")
    moto_utils.create_loader = _shared_moto_loader  # type: ignore[assignment]


TASK_SERVICES = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
CLIENT_USERS = (
    "state_task_service_sqs",
    "state_task_service_dynamodb",
    "state_task_service_events",
    "state_task_service_aws_sdk",
)
_clients: dict[tuple[str, str], Any] = {}


def _cached_client(region: str, service: str, state_credentials: Any = None) -> Any:
    # The emulator ignores credentials, so one client per region and service serves every task.
    # A client made while no mock intercepts calls aims at a server: never keep one of those.
    if not botocore_stubber.enabled:
        return _original_boto_client_for(region, service, state_credentials)
    key = (region, service)
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = _original_boto_client_for(region, service)
    return client


_dynamodb_lock = threading.RLock()
_original_transact = DynamoDBBackend.transact_write_items
_original_lex = ConditionExpressionParser._lex_condition_expression
_original_condition_parse = ConditionExpressionParser.parse
_original_traverse = DepthFirstTraverser.traverse
_original_find_clauses = Node.find_clauses


class _NoTableCopy:
    """Stands in for `copy` in moto's DynamoDB models: a whole table is never copied."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        # Only the transaction backup copies a Table; items are still copied for real.
        return value if isinstance(value, Table) else copy.deepcopy(value)


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON document; what is not JSON is copied by `copy.deepcopy` (17)."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in _JSON_SCALARS:
        return value
    return copy.deepcopy(value)


class _JsonCopy:
    """Stands in for `copy` in the ASL interpreter's modules (17)."""

    deepcopy = staticmethod(json_copy)


ASL = "moto.stepfunctions.parser.asl"
JSON_COPY_USERS = (
    f"{ASL}.eval.states",
    f"{ASL}.eval.environment",
    f"{ASL}.eval.event.event_manager",
    f"{ASL}.component.common.string.string_expression",
    f"{ASL}.component.common.path.result_path",
    f"{ASL}.component.state.exec.execute_state",
    f"{ASL}.component.state.exec.state_task.service.state_task_service",
)


_NOT_A_NODE, _NOT_HANDLED = -2, -1
# (traverser class, value class) -> where moto's isinstance checks send such a value: the
# position of its handler in the traverser's map, or one of the two above (adaptation 18).
# Kept per class: every moto traverser's map is a literal, its keys the same for each instance.
_node_routes: dict[tuple[type, type], int] = {}


def _node_route(traverser: DepthFirstTraverser, kind: type, kinds: tuple[type, ...]) -> int:
    """Where a value of `kind` goes in this traverser's walk, decided as moto decides it."""
    if not issubclass(kind, Node):
        route = _NOT_A_NODE
    elif not issubclass(kind, traverser.nodes_to_be_processed()):
        route = _NOT_HANDLED
    else:  # past the map's end: handled yet without a handler, which moto turns into None
        route = next((i for i, k in enumerate(kinds) if issubclass(kind, k)), len(kinds))
    _node_routes[(type(traverser), kind)] = route
    return route


def _traverse_with_one_map(self: DepthFirstTraverser, node: Any) -> Any:
    """moto's depth-first walk, with its handlers looked up once per walk and each node's
    route (not a node, not handled, which handler) once per node type (18)."""
    processing_map = self._processing_map()
    kinds = tuple(processing_map)
    handlers = tuple(processing_map.values())
    traverser = type(self)
    hook = None  # moto's own hook does nothing: it is not called
    if traverser.pre_processing_of_child is not DepthFirstTraverser.pre_processing_of_child:
        hook = self.pre_processing_of_child
    routes = _node_routes

    def walk(node: Any, child_id: int = -1) -> Any:
        kind = type(node)
        route = routes.get((traverser, kind))
        if route is None:
            route = _node_route(self, kind, kinds)
        if route == _NOT_A_NODE:
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                if hook is not None:
                    hook(node, i)
                walk(child_node, i)
        if route != _NOT_HANDLED:
            node = handlers[route](node) if route < len(handlers) else None
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    return walk(node)


# value class -> whether moto's search for clauses looks inside such a value (adaptation 18)
_searched_inside: dict[type, bool] = {}


def _find_clauses(self: Node, clause_types: list[type]) -> list[Node]:
    """moto's search of a node's subtree for clauses of the given types, with whether to look
    inside a child decided once per type (18)."""
    clauses = []
    for child in self.children or []:
        kind = type(child)
        if kind in clause_types:
            clauses.append(child)
            continue
        inside = _searched_inside.get(kind)
        if inside is None:
            inside = _searched_inside[kind] = issubclass(
                kind, (Expression, UpdateExpressionFunction)
            )
        if inside:
            clauses.extend(child.find_clauses(clause_types))
    return clauses


@functools.lru_cache(maxsize=1024)
def _condition_tokens(expression: str) -> tuple[tuple[str, str], ...]:
    parser = ConditionExpressionParser(expression, None, None)
    return tuple((node.nonterminal, node.text) for node in _original_lex(parser))


def _lex_once(self: ConditionExpressionParser) -> deque[Any]:
    """moto's tokens for this condition expression, lexed once per text (19)."""
    if type(self) is not ConditionExpressionParser or not isinstance(
        self.condition_expression, str
    ):
        return _original_lex(self)
    literal = ConditionExpressionParser.Kind.LITERAL
    return deque(
        ConditionExpressionParser.Node(
            nonterminal=nonterminal, kind=literal, text=text, value=text, children=[]
        )
        for nonterminal, text in _condition_tokens(self.condition_expression)
    )


@functools.lru_cache(maxsize=1024)
def _parsed_condition(
    expression: str, names: str, values: str
) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
    """moto's tree for a condition expression with these names and values (given as JSON),
    with the names and values it found (27). The parser reads its own copy of the names and
    values, so the tree holds nothing of any request's. A refusal is raised, never kept."""
    parser = ConditionExpressionParser(expression, json.loads(names), json.loads(values))
    tree = _original_condition_parse(parser)
    return tree, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)


def _parse_condition_once(self: ConditionExpressionParser) -> Any:
    """moto's parse of a condition expression, once per expression, names and values (27)."""
    if type(self) is not ConditionExpressionParser or not isinstance(
        self.condition_expression, str
    ):
        return _original_condition_parse(self)
    try:  # in the parser's own key order: a value's first key is its type
        names = json.dumps(self.expression_attribute_names)
        values = json.dumps(self.expression_attribute_values)
    except (TypeError, ValueError):
        return _original_condition_parse(self)
    tree, names_found, values_found = _parsed_condition(self.condition_expression, names, values)
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return tree


# The most entries any of the caches below keeps: a full one is emptied, then fills again.
_MOST_KEPT = 4096


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _MOST_KEPT:
        cache.clear()
    cache[key] = value


_original_possible_keys = moto_serialize.XFormedAttributePicker.get_possible_keys
# (member name, its shape, the shape's parent, the alias providers) -> the names to look up
_possible_keys: dict[tuple[Any, ...], tuple[str, ...]] = {}


def _possible_keys_once(self: Any, context: Any) -> Any:
    """The names moto's serializer looks a result's member up by, worked out once per member
    and shape for a result that is a plain dict (30). Each alias provider decides from the
    shape, its parent, the member's name and the result's class and `Meta` (a dict has none);
    all are in the key, so the names are moto's, in moto's order."""
    if type(context.obj) is not dict or type(self) is not moto_serialize.XFormedAttributePicker:
        return _original_possible_keys(self, context)
    return iter(_dict_member_names(self, context.key, context.shape))


def _dict_member_names(picker: Any, member: str, shape: Any) -> tuple[str, ...]:
    key = (member, shape, getattr(shape, "parent", None), tuple(picker.alias_providers))
    names = _possible_keys.get(key)
    if names is None:  # any plain dict gives the same names: an empty one stands in
        context = moto_serialize.AttributePickerContext(obj={}, key=member, shape=shape)
        names = tuple(_original_possible_keys(picker, context))
        _remember(_possible_keys, key, names)
    return names


_original_serializer_get_value = moto_serialize.ResponseSerializer.get_value


def _member_of_a_dict(self: Any, value: Any, key: str, shape: Any) -> Any:
    """A member of a result that is a plain dict, looked up as moto's picker looks it up (32):
    its names in moto's order, the first one the dict holds, else None. moto built a context
    object per member (joining the path to it into a string) for a picker that, with no
    response transformers, reads neither. Any other result, picker or transformer goes
    moto's way."""
    picker = self._value_picker
    if (type(value) is not dict or type(picker) is not moto_serialize.XFormedAttributePicker
            or picker.response_transformers):
        return _original_serializer_get_value(self, value, key, shape)
    for name in _dict_member_names(picker, key, shape):
        found = value.get(name, MISSING) if "." not in name else moto_get_value(value, name)
        if found is not MISSING:
            return found
    return None


def _serialize_dict_results_faster() -> None:
    moto_serialize.XFormedAttributePicker.get_possible_keys = _possible_keys_once  # type: ignore[method-assign]
    if "self._value_picker(context)" not in inspect.getsource(_original_serializer_get_value):
        raise RuntimeError("moto changed: a result's members are no longer picked as adapted")
    moto_serialize.ResponseSerializer.get_value = _member_of_a_dict  # type: ignore[method-assign]


class _PrivateKeyWhenFirstUsed:
    """A KMS key's private key, generated at its first use (adaptation 20)."""

    def __init__(self, key_spec: str) -> None:
        self._key_spec = key_spec
        self._key: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._key is None:
                self._key = kms_utils.generate_private_key(self._key_spec)
        return getattr(self._key, name)


# What copy.deepcopy returns as it is.
_ATOMIC = frozenset({str, int, float, bool, complex, bytes, type(None)})
# What would make copy.deepcopy copy a node other than by its __dict__.
_OWN_COPYING = ("__deepcopy__", "__copy__", "__reduce__", "__reduce_ex__", "__getstate__",
                "__setstate__", "__slots__")


def _copied_node(self: Node, memo: dict[int, Any]) -> Node:
    """An update expression's node, deep-copied as copy.deepcopy copies it (a new object of its
    class, each attribute deep-copied through the same memo), without deepcopy's generic
    reconstruction of every node (23)."""
    copied = object.__new__(type(self))
    memo[id(self)] = copied
    state = copied.__dict__
    for name, value in self.__dict__.items():
        kind = type(value)
        if kind in _ATOMIC:
            state[name] = value
        elif kind is list and id(value) not in memo:  # children: copied as deepcopy copies lists
            state[name] = memo[id(value)] = items = []
            for item in value:
                items.append(item if type(item) in _ATOMIC else copy.deepcopy(item, memo))
        else:
            state[name] = copy.deepcopy(value, memo)
    return copied


def _copy_nodes_faster() -> None:
    pending, classes = [Node], []
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    if any(name in vars(cls) for cls in classes for name in _OWN_COPYING):
        raise RuntimeError("moto changed: a DynamoDB expression node copies itself its own way")
    Node.__deepcopy__ = _copied_node  # type: ignore[attr-defined]


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Any]:
    touched = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            continue
        key = operation.get("Key") or {
            attribute: operation.get("Item", {}).get(attribute)
            for attribute in (table.hash_key_attr, table.range_key_attr)
            if attribute
        }
        if any(value is None for value in key.values()):
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_key, range_key)
        touched.append((table, hash_key, range_key, copy.deepcopy(current)))
    return touched


def _restore(touched: list[Any]) -> None:
    for table, hash_key, range_key, before in reversed(touched):
        table.delete_item(hash_key, range_key)
        if before is None:
            continue
        if range_key is None:
            table.items[hash_key] = before
        else:
            table.items[hash_key][range_key] = before


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _dynamodb_lock:
        touched = _touched_items(self, transact_items)
        try:
            _original_transact(self, transact_items)
        except Exception:
            _restore(touched)
            raise


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _dynamodb_lock:
            return method(*args, **kwargs)

    return locked


_original_heartbeat_wait = StateTaskServiceCallback._wait_for_task_token_heartbeat
_original_callback_from_error = StateTaskServiceCallback._from_error


_original_callback_execution = StateTaskServiceCallback._eval_execution


def _fresh_token_per_attempt(self: StateTaskServiceCallback, env: Any) -> None:
    if self._is_integration_pattern() and (
        ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
    ):
        task = env.states.context_object.context_object_data.get("Task") or {}
        endpoint = env.callback_pool_manager.get(task.get("Token"))
        if endpoint is not None and (
            endpoint.get_outcome() is not None or endpoint.consumer_error is not None
        ):
            # A previous attempt used this token: a retry answers to a token of its own.
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
    _original_callback_execution(self, env)


def _heartbeat_wait(
    self: StateTaskServiceCallback, env: Any, callback_endpoint: Any, heartbeat_endpoint: Any
) -> Any:
    # The heartbeat endpoint exists by now, so a later answer wakes the wait; an earlier
    # one only set the outcome, which is read here instead of being waited out.
    outcome = callback_endpoint.get_outcome()
    if outcome is not None:
        return outcome
    return _original_heartbeat_wait(self, env, callback_endpoint, heartbeat_endpoint)


def _callback_from_error(self: StateTaskServiceCallback, env: Any, ex: Exception) -> Any:
    if not isinstance(ex, HeartbeatTimeoutError):
        return _original_callback_from_error(self, env, ex)
    name = StatesErrorNameType.StatesHeartbeatTimeout
    return FailureEvent(
        env=env,
        error_name=StatesErrorName(typ=name),
        event_type=HistoryEventType.TaskTimedOut,
        event_details=EventDetails(  # type: ignore[typeddict-item]
            taskTimedOutEventDetails=TaskTimedOutEventDetails(
                resourceType=self._get_sfn_resource_type(),
                resource=self._get_sfn_resource(),
                error=name.to_name(),
            )
        ),
    )


_original_update_make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=1024)
def _parsed_update_expression(expression: str) -> Any:
    tree = _original_update_make(UpdateExpressionParser, expression)
    _remember(_update_texts, id(tree), (tree, expression))  # held: its id stays its own
    return tree


# The validators that check an update expression's structure alone, first in moto's list:
# what each reads is the tree (its text), the names, and the table's key attributes (29).
_STRUCTURAL_VALIDATORS = (ActionCountValidator, OverlappingPathsValidator,
                          UpdateHashRangeKeyValidator)
_update_texts: dict[int, tuple[Any, str]] = {}  # id of a parsed tree -> (the tree, its text)
_structures_passed: dict[tuple[str, str, tuple[str, ...]], bool] = {}
_original_validator_init = UpdateExpressionValidator.__init__
_original_validate = UpdateExpressionValidator.validate


def _validator_init(self: UpdateExpressionValidator, expression: Any, *args: Any,
                    **kwargs: Any) -> None:
    """moto's validator, which also notes what its structural checks depend on (29)."""
    _original_validator_init(self, expression, *args, **kwargs)
    known = _update_texts.get(id(expression))
    self.structure = None  # type: ignore[attr-defined]
    if known is None or known[0] is not expression:
        return  # a tree that did not come from the parse cache
    try:
        names = json.dumps(self.expression_attribute_names, sort_keys=True)
    except (TypeError, ValueError):
        return
    self.structure = (known[1], names, tuple(self.table.table_key_attrs))  # type: ignore[attr-defined]


def _validate_structure_once(self: UpdateExpressionValidator) -> Any:
    """moto's validation, without the structural checks for a text, names and key attributes
    that passed them before (29): those checks only read the tree, and raise or pass it on."""
    structure = getattr(self, "structure", None)
    kinds = tuple(type(processor) for processor in self.processors[:3])
    if structure is None or kinds != _STRUCTURAL_VALIDATORS:
        return _original_validate(self)
    passed = structure in _structures_passed
    node = self.node_to_validate
    for position, processor in enumerate(self.processors):
        if position < 3 and passed:
            continue
        node = processor.traverse(node)
        if position == 2 and not passed:
            _remember(_structures_passed, structure, True)
    return node


def _make_update_expression(cls: type, expression: str) -> Any:
    # An invalid expression raises, and lru_cache keeps no failure: it raises every time.
    if cls is not UpdateExpressionParser:
        return _original_update_make(cls, expression)
    return _parsed_update_expression(expression)


camel_to_snake = functools.lru_cache(maxsize=4096)(moto_utils.camelcase_to_underscores)
CAMEL_CASE_USERS = ("moto.core.responses", "moto.sqs.models")


_original_process_request = BotocoreStubber.process_request
_routes: dict[str, Callable[..., Any]] = {}


def _route(clean_url: str) -> Callable[..., Any] | None:
    """The handler moto picks for a URL, as its process_request picks it; None when none."""
    import re

    from moto import backend_index, backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict
    from moto.core.config import passthrough_service, passthrough_url, service_whitelisted

    if passthrough_url(clean_url):
        return None
    for service, pattern in backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        if passthrough_service(service) or not service_whitelisted(service):
            return None  # moto answers these itself (passes through, or refuses)
        backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
        if isinstance(backend_dict, BackendDict):
            regions = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
        else:
            backend = backend_dict["global"]
        for url, method in backend.urls.items():
            if re.compile(url).match(clean_url):
                return method  # type: ignore[no-any-return]
    return None


def _handler_for(url: str) -> Callable[..., Any] | None:
    """moto's handler for a request to this URL, from the table of URLs seen (12); None when
    no service claims it."""
    from moto.core.utils import get_equivalent_url_in_aws_domain

    parsed_url, _ = get_equivalent_url_in_aws_domain(url)
    clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
    method = _routes.get(clean_url)
    if method is None:
        method = _route(clean_url)
        if method is not None:
            _routes[clean_url] = method
    return method


def _answer(method: Callable[..., Any], request: Any) -> tuple[int, Any, Any]:
    """moto's status, headers and body for a prepared request, as its stubber gives them."""
    from moto.core.exceptions import HTTPException
    from moto.core.request import normalize_request
    from moto.moto_api import recorder

    normalized = normalize_request(request)
    try:
        recorder._record_request(normalized)
        status, headers, body = method(normalized, normalized.raw_url, normalized.headers)
    except HTTPException as exc:
        status, headers, body = exc.code, exc.get_headers(), exc.get_body()
    return status, headers, body


def _process_request(self: BotocoreStubber, request: Any) -> Any:
    method = _handler_for(request.url)
    if method is None:
        return _original_process_request(self, request)
    return _answer(method, request)


_original_send_request = Endpoint._send_request
_botocore_history = get_global_history_recorder()
# The events a request skips on its way to moto (33), and botocore's own handlers of them,
# which only add headers moto does not read, or sign (nothing is signed while a cloud runs, 8);
# with moto's stubber, which a direct request stands in for.
_SKIPPED_EVENTS = ("before-sign", "before-send", "response-received", "before-parse")
_CREATED = "request-created"
_VERDICT = "localcloud: how a request goes to moto"


def _botocores_own(handler: Any) -> bool:
    return handler is botocore_stubber or getattr(handler, "__func__", handler) in (
        RequestSigner.handler,
        MaxAttemptsSeeder.seed_max_attempts,
        UserAgentString.rebuild_and_replace_user_agent_handler,
        botocore.handlers.add_retry_headers,
    )


def _direct_way(emitter: Any, service_id: str, operation: str) -> tuple[Any, ...] | None:
    """None when a request goes the usual way: some handler other than botocore's own (and
    moto's stubber) would see one of the events a direct request skips. Otherwise the
    handlers of request-created that are not botocore's own, to call as its emitter calls them
    (libraries add to the user agent there: Powertools does). The answer is kept in the
    emitter's own lookup cache, which botocore empties at every registration and
    unregistration, so a handler added later is seen at the next request."""
    inner = getattr(emitter, "_emitter", None)
    if not isinstance(inner, HierarchicalEmitter):
        return None
    cache: dict[Any, Any] = inner._lookup_cache  # type: ignore[assignment]
    key = (_VERDICT, service_id, operation)
    if key not in cache:

        def handlers(event: str) -> list[Any]:
            name = emitter._alias_event_name(f"{event}.{service_id}.{operation}")
            return list(inner._handlers.prefix_search(name))

        skippable = all(_botocores_own(h) for event in _SKIPPED_EVENTS for h in handlers(event))
        created = tuple(h for h in handlers(_CREATED) if not _botocores_own(h))
        cache[key] = created if skippable else None
    return cache[key]  # type: ignore[no-any-return]


def _send_request(self: Endpoint, request_dict: dict[str, Any], operation_model: Any) -> Any:
    """botocore's Endpoint._send_request, for a request moto answers in this process (33)."""
    if not (state.unsigned and botocore_stubber.enabled):
        return _original_send_request(self, request_dict, operation_model)
    context = request_dict["context"]
    if (
        operation_model.service_model.resolved_protocol != "json"
        or operation_model.has_streaming_input
        or operation_model.has_streaming_output
        or operation_model.has_event_stream_output
        or context.get("checksum")
    ):
        return _original_send_request(self, request_dict, operation_model)
    service_id = operation_model.service_model.service_id.hyphenize()
    created = _direct_way(self._event_emitter, service_id, operation_model.name)
    method = None if created is None else _handler_for(request_dict["url"])
    if created is None or method is None:
        return _original_send_request(self, request_dict, operation_model)
    event = (created, f"{_CREATED}.{service_id}.{operation_model.name}")
    attempts = 1
    self._update_retries_context(context, attempts)
    response, exception = _answered_directly(self, method, request_dict, operation_model, event)
    while self._needs_retry(attempts, operation_model, request_dict, response, exception):
        attempts += 1
        self._update_retries_context(context, attempts, response)
        response, exception = _answered_directly(self, method, request_dict, operation_model, event)
    if exception is not None:
        raise exception
    assert response is not None
    if "ResponseMetadata" in response[1]:
        response[1]["ResponseMetadata"]["RetryAttempts"] = attempts - 1
    return response


def _send_to_moto_directly() -> None:
    sent = inspect.getsource(_original_send_request)
    got = inspect.getsource(Endpoint._do_get_response)
    if "_needs_retry" not in sent or "before-send" not in got or "before-parse" not in got:
        raise RuntimeError("botocore changed: an endpoint no longer sends as adaptation 33 expects")
    Endpoint._send_request = _send_request  # type: ignore[method-assign]


def _answered_directly(
    endpoint: Endpoint,
    method: Callable[..., Any],
    request_dict: dict[str, Any],
    model: Any,
    event: tuple[tuple[Any, ...], str],
) -> tuple[Any, Exception | None]:
    """One attempt, as botocore's `create_request` and `_do_get_response` make it with moto's
    stubber answering, less botocore's own handlers of the events it skips (`_direct_way`)."""
    request = create_request_object(request_dict)
    request.stream_output = False
    created, event_name = event
    for handler in created:
        handler(request=request, operation_name=model.name, event_name=event_name)
    prepared = endpoint.prepare_request(request)
    try:
        _botocore_history.record(
            "HTTP_REQUEST",
            {
                "method": prepared.method,
                "headers": prepared.headers,
                "streaming": False,
                "url": prepared.url,
                "body": prepared.body,
            },
        )
        status, headers, body = _answer(method, prepared)
    except Exception as exc:  # botocore hands any failure of the send to its retry handler
        return None, exc
    http_response = AWSResponse(prepared.url, status, headers, MockRawResponse(body))
    response_dict = convert_to_response_dict(http_response, model)
    record = dict(response_dict, streaming=False)
    _botocore_history.record("HTTP_RESPONSE", record)
    parser = endpoint._response_parser_factory.create_parser(model.service_model.resolved_protocol)
    parsed = parser.parse(response_dict, model.output_shape)
    if status >= 300:
        endpoint._add_modeled_error_fields(response_dict, parsed, model, parser)
    _botocore_history.record("PARSED_RESPONSE", parsed)
    return (http_response, parsed), None


# A ResultPath's path, parsed once (5): moto parses it at every evaluation.
result_path_parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)


@functools.lru_cache(maxsize=1024)
def _url_environ(scheme: str, netloc: str, path: str, query: str) -> tuple[tuple[str, Any], ...]:
    """The WSGI keys werkzeug's EnvironBuilder derives from a request's URL, in its order (21)."""
    from urllib.parse import unquote, urlsplit

    from werkzeug.urls import iri_to_uri

    base = urlsplit(iri_to_uri(f"{scheme}://{netloc}"))
    host = base.netloc
    name, colon, port = host.partition(":")
    number = 443 if base.scheme == "https" else 80
    if colon:
        try:
            number = int(port)
        except ValueError:
            pass
    raw_uri = path.encode().decode("latin1")
    return (
        ("SCRIPT_NAME", unquote(base.path.rstrip("/")).encode().decode("latin1")),
        ("PATH_INFO", unquote(iri_to_uri(path)).encode().decode("latin1")),
        ("QUERY_STRING", query.encode().decode("latin1")),
        ("REQUEST_URI", raw_uri),
        ("RAW_URI", raw_uri),
        ("SERVER_NAME", name),
        ("SERVER_PORT", str(number)),
        ("HTTP_HOST", host),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("wsgi.version", (1, 0)),
        ("wsgi.url_scheme", base.scheme),
    )


# A body werkzeug would read as a form (or encode as one) goes the builder's way.
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _request_environ(
    method: str, url: str, header_items: list[tuple[str, Any]], body: Any
) -> dict[str, Any] | None:
    """The environ werkzeug's EnvironBuilder makes for these parts; None where it might not."""
    if body is not None and not isinstance(body, bytes | str):
        return None  # a stream, or a form given as a mapping
    data = body.encode() if isinstance(body, str) else (body or b"")
    parsed = urlparse(url)
    if parsed.path.startswith("//"):
        return None  # the builder would read the path's first segment as a host
    headers = Headers(header_items)
    content_type = headers.get("Content-Type")
    if not data and content_type is not None:
        if content_type.partition(";")[0].strip() in _FORM_TYPES:
            return None
    headers.remove("Content-Type")
    headers.remove("Content-Length")
    environ: dict[str, Any] = {"REQUEST_METHOD": method}
    environ.update(_url_environ(parsed.scheme, parsed.netloc, parsed.path, parsed.query))
    environ["wsgi.input"] = io.BytesIO(data)
    environ["wsgi.errors"] = sys.stderr
    environ["wsgi.multithread"] = environ["wsgi.multiprocess"] = environ["wsgi.run_once"] = False
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if data:
        environ["CONTENT_LENGTH"] = str(len(data))
    combined: dict[str, list[str]] = {}
    for key, value in headers.to_wsgi_list():
        combined.setdefault(f"HTTP_{key.upper().replace('-', '_')}", []).append(value)
    environ.update((key, ", ".join(values)) for key, values in combined.items())
    return environ


_original_from_primitives = MotoRequest.from_primitives.__func__  # type: ignore[attr-defined]


def _from_primitives(
    cls: type[MotoRequest], method: str, url: str, headers: Any, body: Any = None
) -> MotoRequest:
    """moto's Request.from_primitives, with the environ made directly instead of through
    werkzeug's EnvironBuilder (21); a request it might build otherwise goes the builder's way."""
    header_items = [
        (key, value.decode("utf-8") if isinstance(value, bytes) else value)
        for key, value in headers.items()
        if key.lower() != "transfer-encoding"
    ]
    environ = _request_environ(method, url, header_items, body)
    if environ is None:
        return _original_from_primitives(cls, method, url, headers, body)  # type: ignore[no-any-return]
    request = cls(environ)
    request.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
        environ_key_for_header(key): key
        for key, _ in header_items
        if should_preserve_original_header_name(key)
    }
    request.environ.setdefault("CONTENT_LENGTH", "0")
    _known_url_properties(request)
    _json_body_read(request)
    return request


def _json_body_read(request: MotoRequest) -> None:
    """Give a JSON protocol's request (DynamoDB, Step Functions, EventBridge, SQS) its body as
    werkzeug leaves it once moto has read `data`, which moto does first at every request (31):
    the bytes, no form and no files (the type is no form's), the input read to its end.
    werkzeug got there through its form parser's set-up and a size-limited stream over the
    input. A compressed body is left to werkzeug and moto, which decompress it."""
    environ = request.environ
    content_type = environ.get("CONTENT_TYPE", "")
    if not content_type.startswith(_JSON_PROTOCOL_TYPE) or "HTTP_CONTENT_ENCODING" in environ:
        return
    stream = environ["wsgi.input"]
    data = stream.getvalue()
    stream.seek(0, io.SEEK_END)
    request.__dict__.update(
        _cached_data=data, data=data, stream=stream,
        form=request.parameter_storage_class(), files=request.parameter_storage_class(),
    )


_JSON_PROTOCOL_TYPE = "application/x-amz-json-"


# werkzeug's cached properties of a request that its URL alone decides (28), and the environ's
# keys they are computed from (werkzeug's `scheme`, `host`, `root_path`, `path`, `query_string`
# and `server` read nothing else); `args` is immutable, so requests can share it.
_URL_PROPERTIES = ("url", "base_url", "root_url", "url_root", "host_url", "host", "full_path",
                   "args")
_URL_KEYS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
             "PATH_INFO", "QUERY_STRING")
_url_properties: dict[tuple[Any, ...], tuple[tuple[str, Any], ...]] = {}


def _known_url_properties(request: MotoRequest) -> None:
    """Give a request the values werkzeug computed for an earlier request with the same URL
    parts and class (28): moto reads several of them at every request, each worked out again
    (quoting, IRI decoding, host checks, query parsing) from the same few strings."""
    environ = request.environ
    key = (type(request), *(environ.get(name) for name in _URL_KEYS))
    known = _url_properties.get(key)
    if known is None:
        try:
            known = tuple((name, getattr(request, name)) for name in _URL_PROPERTIES)
        except Exception:  # noqa: BLE001 - werkzeug raises it again when the property is read
            return
        _remember(_url_properties, key, known)  # S3 keys, say: each URL its own
    else:
        request.__dict__.update(known)


def _random_string(
    self: MotoRandom, length: int = 20, include_digits: bool = True, lower_case: bool = False
) -> str:
    """moto's get_random_string, drawn in one call (22)."""
    pool = string.ascii_letters + (string.digits if include_digits else "")
    drawn = "".join(self.choices(pool, k=length))
    return drawn.lower() if lower_case else drawn


def _random_hex(self: MotoRandom, length: int = 8) -> str:
    return "".join(self.choices("0123456789abcdef", k=length))


def _receipt_handle() -> str:
    return "".join(mock_random.choices(string.ascii_lowercase, k=RECEIPT_HANDLE_LENGTH))


RECEIPT_HANDLE_LENGTH = 185


def _utcnow() -> datetime.datetime:
    """moto's utcnow without its import statement, which cost half of each call (22); it runs
    in moto.core.utils' globals, where `datetime` is the same module."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _utcfromtimestamp(value: float) -> datetime.datetime:
    """moto's utcfromtimestamp without its import statement (22), as `_utcnow`."""
    return datetime.datetime.fromtimestamp(value, datetime.UTC).replace(tzinfo=None)


def _draw_randoms_and_times_faster() -> None:
    from moto.sqs import utils as sqs_utils

    if sqs_models.generate_receipt_handle is not sqs_utils.generate_receipt_handle:
        raise RuntimeError("moto changed: SQS no longer makes receipt handles as adapted")
    sqs_models.generate_receipt_handle = _receipt_handle  # type: ignore[assignment]
    MotoRandom.get_random_string = _random_string  # type: ignore[method-assign]
    MotoRandom.get_random_hex = _random_hex  # type: ignore[method-assign]
    for moto_function, replacement in ((moto_utils.utcnow, _utcnow),
                                       (moto_utils.utcfromtimestamp, _utcfromtimestamp)):
        source = inspect.getsource(moto_function)
        if "from datetime import UTC" not in source or moto_utils.datetime is not datetime:
            raise RuntimeError(f"moto changed: {moto_function.__name__} no longer imports UTC")
        moto_function.__code__ = replacement.__code__


def routes_known() -> dict[str, Callable[..., Any]]:
    """The URLs whose moto handler is known, and the handler."""
    return dict(_routes)


def forget_clients() -> None:
    """Drop the interpreter's clients and the known routes: each local cloud starts afresh."""
    _clients.clear()
    _routes.clear()


def _parse_paths_once() -> None:
    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    if result_path.parse is not jsonpath_ng.parse:
        raise RuntimeError("moto changed: ResultPath no longer parses with jsonpath_ng.parse")
    result_path.parse = result_path_parse  # type: ignore[assignment]


def _copy_json_as_json() -> None:
    for name in JSON_COPY_USERS:
        module = importlib.import_module(name)
        if module.copy is not copy:
            raise RuntimeError(f"moto changed: {name} no longer copies with copy.deepcopy")
        module.copy = _JsonCopy  # type: ignore[attr-defined]


_original_action_selector = moto_routing.ActionSelector
_original_initialize_candidates = moto_routing.SmithyRule._initialize_candidates
_original_compile_builder = WerkzeugRule._compile_builder


class _SelectorAtFirstMatch:
    """A rule's choice among the operations sharing its path and method, made by moto's own
    selector, which is built (with its candidates) when a request first matches the rule (25).
    moto's rule hands it the operations: its `_initialize_candidates` is deferred to here."""

    def __init__(self, operations: list[Any]) -> None:
        self._operations = operations
        self._selector: Any = None

    def select_action(self, request: Any) -> Any:
        selector = self._selector
        if selector is None:  # two threads may both build it: each builds the same one
            candidates = _original_initialize_candidates(self._operations)
            selector = self._selector = _original_action_selector(candidates)
        return selector.select_action(request)


def _operations_kept(operations: list[Any]) -> list[Any]:
    return operations


def _builder_at_first_use(self: Any, append_unknown: bool = True) -> Callable[..., Any]:
    """werkzeug's URL builder for a moto rule, compiled when first used (25): moto only matches."""
    built: Any = None

    def build(rule: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal built
        if built is None:
            built = _original_compile_builder(rule, append_unknown)
        return built(rule, *args, **kwargs)

    return build


def _route_rest_requests_faster() -> None:
    rule = moto_routing.SmithyRule
    if "ActionSelector(self._initialize_candidates(operations))" not in inspect.getsource(rule):
        raise RuntimeError("moto changed: a REST rule no longer selects among its operations")
    moto_routing.ActionSelector = _SelectorAtFirstMatch  # type: ignore[misc,assignment]
    rule._initialize_candidates = staticmethod(_operations_kept)  # type: ignore[method-assign,assignment]
    rule._compile_builder = _builder_at_first_use  # type: ignore[method-assign]


def _parse_dynamodb_expressions_faster() -> None:
    if "nodes_to_be_processed" not in inspect.getsource(DepthFirstTraverser):
        raise RuntimeError("moto changed: DynamoDB's traversers no longer walk as adapted")
    DepthFirstTraverser.traverse = _traverse_with_one_map  # type: ignore[method-assign]
    searched = inspect.getsource(Node.find_clauses)
    if not all(part in searched for part in ("(child, Expression)", "UpdateExpressionFunction")):
        raise RuntimeError("moto changed: DynamoDB's search for clauses looks elsewhere")
    Node.find_clauses = _find_clauses  # type: ignore[method-assign]
    ConditionExpressionParser._lex_condition_expression = _lex_once  # type: ignore[method-assign]
    if "self._make_op_condition(node)" not in inspect.getsource(_original_condition_parse):
        raise RuntimeError("moto changed: a condition expression no longer parses as adapted")
    ConditionExpressionParser.parse = _parse_condition_once  # type: ignore[method-assign]
    if "for processor in self.processors" not in inspect.getsource(_original_validate):
        raise RuntimeError("moto changed: an update expression no longer validates as adapted")
    UpdateExpressionValidator.__init__ = _validator_init  # type: ignore[method-assign,assignment]
    UpdateExpressionValidator.validate = _validate_structure_once  # type: ignore[method-assign,assignment]


class _ExecutionIndex:
    """What moto finds by scanning a state machine's executions (34), brought up to date with
    the entries appended since the last look: the first execution of each ARN and of each
    name, and those not yet seen to end, in the list's order."""

    def __init__(self, executions: list[Any]) -> None:
        self.executions = executions
        self.indexed = 0
        self.by_arn: dict[str, Any] = {}
        self.by_name: dict[str, Any] = {}
        self.unended: list[Any] = []

    def current(self) -> _ExecutionIndex:
        for execution in self.executions[self.indexed :]:
            self.by_arn.setdefault(execution.execution_arn, execution)
            self.by_name.setdefault(execution.name, execution)
            self.unended.append(execution)
        self.indexed = len(self.executions)
        return self


_execution_indexes: weakref.WeakKeyDictionary[Any, _ExecutionIndex] = weakref.WeakKeyDictionary()
_execution_indexes_lock = threading.Lock()
_RUNNING = "RUNNING"


def execution_index(state_machine: Any) -> _ExecutionIndex:
    """The state machine's index, made anew when its list of executions was replaced or
    shortened (moto only appends to it)."""
    with _execution_indexes_lock:
        return _current_index(state_machine)


def _current_index(state_machine: Any) -> _ExecutionIndex:
    """execution_index, for a caller that holds its lock."""
    index = _execution_indexes.get(state_machine)
    executions = state_machine.executions
    if index is None or index.executions is not executions or index.indexed > len(executions):
        index = _execution_indexes[state_machine] = _ExecutionIndex(executions)
    return index.current()


def _by_arn(state_machine: Any, execution_arn: str) -> Any:
    """The machine's execution of that ARN, or moto's ExecutionDoesNotExist."""
    execution = execution_index(state_machine).by_arn.get(execution_arn)
    if execution is None:
        raise stepfunctions_exceptions.ExecutionDoesNotExist(
            "Execution Does Not Exist: '" + execution_arn + "'"
        )
    return execution


def _running_in(index: _ExecutionIndex) -> list[Any]:
    """The index's running executions; those that ended leave it (none runs again: moto has no
    redrive). One appended and not yet started (no status) is not running, and stays."""
    running, unended = [], []
    for execution in index.unended:
        status = execution.exec_status
        if status is None:
            unended.append(execution)
        elif status == _RUNNING:
            running.append(execution)
            unended.append(execution)
    index.unended = unended
    return running


_original_get_executions = stepfunctions_models.StepFunctionsParserBackend._get_executions


def _get_executions(self: Any, execution_status: Any = None) -> list[Any]:
    """The backend's executions in a status (34): its running ones through each machine's
    index; any other status, or all, by moto's scan."""
    if execution_status != _RUNNING:
        return _original_get_executions(self, execution_status)  # type: ignore[no-any-return]
    running: list[Any] = []
    with _execution_indexes_lock:
        for state_machine in self.state_machines:
            running.extend(_running_in(_current_index(state_machine)))
    return running


def _describe_execution(self: StepFunctionBackend, execution_arn: str) -> Any:
    """StepFunctionBackend.describe_execution, its execution found through the index (34)."""
    self._validate_execution_arn(execution_arn)
    return _by_arn(self._get_state_machine_for_execution(execution_arn), execution_arn)


def _stop_execution(self: SfnStateMachine, execution_arn: str) -> Any:
    """StateMachine.stop_execution, its execution found through the index (34)."""
    execution = _by_arn(self, execution_arn)
    execution.stop(stop_date=moto_utils.utcnow(), error="", cause="")
    return execution


def _handle_name_input_idempotency(
    self: SfnStateMachine, name: str, execution_input: str
) -> Any:
    """StateMachine._handle_name_input_idempotency, the earlier execution of that name found
    through the index (34)."""
    execution = execution_index(self).by_name.get(name)
    if execution is None:
        return None
    if execution_input == execution.execution_input and execution.status == _RUNNING:
        return execution
    raise stepfunctions_exceptions.ExecutionAlreadyExists(
        "Execution Already Exists: '" + execution.execution_arn + "'"
    )


_SCANS = (
    (stepfunctions_models.StepFunctionsParserBackend._get_executions,
     "for execution in sm.executions"),
    (StepFunctionBackend.describe_execution, "x.execution_arn == execution_arn"),
    (SfnStateMachine.stop_execution, "x.execution_arn == execution_arn"),
    (SfnStateMachine._handle_name_input_idempotency, "if execution.name == name"),
)


def _index_executions() -> None:
    for method, scan in _SCANS:
        if scan not in inspect.getsource(method):
            raise RuntimeError(f"moto changed: {method.__qualname__} no longer scans as adapted")
    stepfunctions_models.StepFunctionsParserBackend._get_executions = _get_executions  # type: ignore[method-assign]
    StepFunctionBackend.describe_execution = _describe_execution  # type: ignore[method-assign,assignment]
    SfnStateMachine.stop_execution = _stop_execution  # type: ignore[method-assign,assignment]
    SfnStateMachine._handle_name_input_idempotency = _handle_name_input_idempotency  # type: ignore[method-assign,assignment]


def install() -> None:
    """Apply every adaptation once per process; the running cloud is set through `state`."""
    if state.installed:
        return
    LambdaSimpleBackend.invoke = _invoke  # type: ignore[method-assign,assignment]
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
    Queue.add_message = _add_message  # type: ignore[method-assign]
    Subscription.publish = _sns_publish  # type: ignore[method-assign]
    Timeout._eval_body = _scaled_timeout  # type: ignore[method-assign]
    _time_calls_on_the_real_clock()
    Heartbeat._eval_body = _scaled_heartbeat  # type: ignore[method-assign]
    retrier_decl.time = _ScaledSleep(retrier_decl.time)  # type: ignore[assignment]
    ExecutionWorker._get_evaluation_entrypoint = _parsed_once  # type: ignore[method-assign]
    if stepfunctions_models.AmazonStateLanguageParser is not AmazonStateLanguageParser:
        raise RuntimeError("moto changed: CreateStateMachine no longer validates with the parser")
    stepfunctions_models.AmazonStateLanguageParser = _ValidatedOnce  # type: ignore[misc]
    _share_botocore_loaders()
    _decode_data_files_once()
    BaseExecutionWorkerCommunication.terminated = _terminated  # type: ignore[method-assign]
    StateTaskServiceCallback._eval_execution = _fresh_token_per_attempt  # type: ignore[method-assign,assignment]
    StateTaskServiceCallback._wait_for_task_token_heartbeat = _heartbeat_wait  # type: ignore[method-assign]
    StateTaskServiceCallback._from_error = _callback_from_error  # type: ignore[method-assign]
    _parse_paths_once()
    MotoRequest.from_primitives = classmethod(_from_primitives)  # type: ignore[method-assign,assignment]
    _draw_randoms_and_times_faster()
    moto_responses.method_names_from_class = functools.lru_cache(maxsize=None)(  # type: ignore[assignment]
        moto_responses.method_names_from_class
    )
    dynamodb_models.copy = _NoTableCopy  # type: ignore[assignment]
    _copy_json_as_json()
    _parse_dynamodb_expressions_faster()
    _route_rest_requests_faster()
    _serialize_dict_results_faster()
    _copy_nodes_faster()
    _count_messages_faster()
    if kms_models.generate_private_key is not kms_utils.generate_private_key:
        raise RuntimeError("moto changed: a KMS key no longer makes its private key at creation")
    kms_models.generate_private_key = _PrivateKeyWhenFirstUsed  # type: ignore[assignment]
    if "backend_url_patterns" not in inspect.getsource(_original_process_request):
        raise RuntimeError("moto changed: BotocoreStubber.process_request no longer routes by URL")
    BotocoreStubber.process_request = _process_request  # type: ignore[method-assign]
    _send_to_moto_directly()
    _index_executions()
    UpdateExpressionParser.make = classmethod(_make_update_expression)  # type: ignore[method-assign,assignment]
    for name in CAMEL_CASE_USERS:
        module = importlib.import_module(name)
        if module.camelcase_to_underscores is not moto_utils.camelcase_to_underscores:
            raise RuntimeError(f"moto changed: {name} no longer uses camelcase_to_underscores")
        module.camelcase_to_underscores = camel_to_snake  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))
    DynamoHandler.call_action = _serialized(DynamoHandler.call_action)  # type: ignore[method-assign]
    for name in CLIENT_USERS:
        module = importlib.import_module(f"{TASK_SERVICES}.{name}")
        if getattr(module, "boto_client_for", None) is not _original_boto_client_for:
            raise RuntimeError(f"moto changed: {name} no longer calls boto_client_for")
        module.boto_client_for = _cached_client  # type: ignore[attr-defined]
    state.installed = True


def hide_message(queue: Queue, receipt_handle: str, seconds: float) -> None:
    """Set a received message's visibility on the scaled clock (moto truncates to whole seconds)."""
    from moto.core.utils import unix_time_millis

    for message in list(queue._messages):
        if message.had_receipt_handle(receipt_handle):
            message.visible_at = unix_time_millis() + seconds * 1000.0
            return


def messages_landed(queue: Queue) -> int:
    """How many messages have landed in the queue so far: pass it to `wait_for_a_message`."""
    return int(getattr(queue, "landed", 0))


def wait_for_a_message(queue: Queue, seen: int, timeout: float) -> None:
    """Sleep until a message lands in the queue after `seen` was read, or the timeout passes."""
    with queue._messages_lock:
        queue._messages_lock.wait_for(lambda: getattr(queue, "landed", 0) != seen, timeout)


_original_terminated = BaseExecutionWorkerCommunication.terminated


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    _original_terminated(self)
    with state.executions_ended:
        state.ended += 1
        state.executions_ended.notify_all()
    ended = state.execution_ended
    if ended is not None:
        ended(self.execution)


def executions_ended() -> int:
    """How many executions have ended so far: pass it to `wait_for_an_execution_end`."""
    return state.ended


def wait_for_an_execution_end(seen: int, timeout: float) -> None:
    with state.executions_ended:
        state.executions_ended.wait_for(lambda: state.ended != seen, timeout)


def _unsigned(**_: Any) -> Any:
    """botocore's choice of signer, made for every session: none while a cloud runs (8)."""
    return UNSIGNED if state.unsigned else None


def sign_no_requests() -> None:
    """Make every boto3 session made from now on (the default one is made anew) send unsigned
    requests until `state.unsigned` is cleared: the local cloud's own clients, and those that
    the handlers' libraries make from sessions of their own (Powertools' idempotency layer)."""
    import boto3
    from botocore import handlers

    if ("choose-signer", _unsigned) not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(("choose-signer", _unsigned))
    state.unsigned = True
    boto3.setup_default_session()
