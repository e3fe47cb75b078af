"""The engine on small templates: what it runs, what it names at start, what it refuses."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from localcloud.api import route_pattern
from localcloud.cloud import YOUNG_COLLECTION_THRESHOLD, LocalCloud
from localcloud.openapi import routes_of_body
from localcloud.schedules import interval_seconds
from localcloud.template import TemplateError

from .conftest import RECORDER, write_app

FUNCTION = """\
{name}:
  Type: AWS::Serverless::Function
  Properties:
    CodeUri: {code}
    Handler: recorder.handler
    Runtime: python3.12
"""


def recorder(name: str = "RecorderFunction", code: str = "code/") -> str:
    return FUNCTION.format(name=name, code=code)


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        pytest.param(
            recorder().replace("python3.12", "nodejs20.x"),
            "RecorderFunction: runtime nodejs20.x cannot run locally",
            id="node runtime",
        ),
        pytest.param(
            "ImageFunction:\n  Type: AWS::Serverless::Function\n  Properties:\n"
            "    PackageType: Image\n    ImageUri: 123.dkr.ecr.us-east-1.amazonaws.com/x:1\n",
            "ImageFunction: container image functions (PackageType: Image) cannot run locally",
            id="container image",
        ),
        pytest.param(
            recorder(code="missing/"),
            "RecorderFunction: CodeUri missing/ is not a folder",
            id="missing code folder",
        ),
        pytest.param(
            recorder(code="s3://bucket/code.zip").replace(
                "CodeUri: s3://bucket/code.zip", "CodeUri: {Bucket: b, Key: code.zip}"
            ),
            "RecorderFunction: its CodeUri is not a local folder",
            id="code in S3",
        ),
        pytest.param(
            "Flow:\n  Type: AWS::Serverless::StateMachine\n  Properties:\n"
            "    Definition:\n      QueryLanguage: JSONata\n      StartAt: Done\n"
            "      States: {Done: {Type: Succeed}}\n"
            "    Policies: []\n",
            "Flow: the definition uses JSONata",
            id="JSONata",
        ),
        pytest.param(
            "Flow:\n  Type: AWS::Serverless::StateMachine\n  Properties:\n"
            "    Definition:\n      StartAt: Keep\n      States:\n"
            "        Keep: {Type: Pass, Assign: {x: 1}, End: true}\n"
            "    Policies: []\n",
            "Flow: state 'Keep' assigns variables",
            id="Assign",
        ),
    ],
)
def test_what_cannot_run_at_all_is_refused_at_start_naming_the_resource(
    tmp_path: Path, resources: str, message: str
) -> None:
    template = write_app(tmp_path, resources, {"code/recorder.py": RECORDER})

    with pytest.raises(TemplateError) as refused:
        LocalCloud(tmp_path, template.name).start()

    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_what_is_not_emulated_is_named_at_start_with_identical_notes_grouped(
    tmp_path: Path,
) -> None:
    layered = "\n".join(
        recorder(name, f"{name.lower()}/")
        + "    Layers: [arn:aws:lambda:us-east-1:017000801446:layer:Tools:1]\n"
        for name in ("OneFunction", "TwoFunction", "ThreeFunction")
    )
    resources = layered + """\
Stream:
  Type: AWS::DynamoDB::Table
  Properties:
    BillingMode: PAY_PER_REQUEST
    AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
    KeySchema: [{AttributeName: id, KeyType: HASH}]
    StreamSpecification: {StreamViewType: NEW_IMAGE}
Nightly:
  Type: AWS::Events::Rule
  Properties:
    ScheduleExpression: cron(0 3 * * ? *)
Dashboard:
  Type: AWS::CloudWatch::Dashboard
  Properties:
    DashboardBody: "{}"
"""
    code = {f"{n}function/recorder.py": RECORDER for n in ("one", "two", "three")}
    template = write_app(tmp_path, resources, code)

    with LocalCloud(tmp_path, template.name) as cloud:
        lines = cloud.deployment.startup_lines()

    assert "not emulated: Dashboard (AWS::CloudWatch::Dashboard)" in lines
    layers = [line for line in lines if "layer(s)" in line]
    assert len(layers) == 1
    subjects, _, text = layers[0].partition(": ")
    assert sorted(subjects.split(", ")) == ["OneFunction", "ThreeFunction", "TwoFunction"]
    assert text.startswith("layer(s) arn:aws:lambda:us-east-1:017000801446:layer:Tools:1 not")
    assert any(line.startswith("Nightly: cron(0 3 * * ? *) is not fired") for line in lines)


def test_an_sns_message_reaches_a_subscribed_function_as_aws_shapes_it(tmp_path: Path) -> None:
    resources = recorder() + """\
    Events:
      Alerts:
        Type: SNS
        Properties:
          Topic: !Ref AlertsTopic
          FilterPolicy: {severity: [high]}
AlertsTopic:
  Type: AWS::SNS::Topic
"""
    template = write_app(tmp_path, resources, {"code/recorder.py": RECORDER})

    with LocalCloud(tmp_path, template.name) as cloud:
        sns = cloud.client("sns")
        topic = cloud.ref("AlertsTopic")
        for severity in ("low", "high"):
            sent = sns.publish(
                TopicArn=topic,
                Message=json.dumps({"severity": severity}),
                Subject="alert",
                MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
            )
        events: list[Any] = cloud.handler_module("RecorderFunction").EVENTS
        deadline = time.monotonic() + 10
        while not events and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)

    assert len(events) == 1, events  # the low one did not pass the filter policy
    record = events[0]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == topic and record["Sns"]["MessageId"] == sent["MessageId"]
    assert record["Sns"]["Subject"] == "alert"
    assert record["Sns"]["MessageAttributes"] == {"severity": {"Type": "String", "Value": "high"}}
    assert record["EventSubscriptionArn"].startswith(topic + ":")


def test_the_collector_skips_what_the_start_made_and_collects_less_often_until_the_stop(
        tmp_path: Path) -> None:
    template = write_app(tmp_path, recorder(), {"code/recorder.py": RECORDER})

    def collected(thing: object) -> bool:  # what the collector walks (frozen objects it skips)
        return any(seen is thing for seen in gc.get_objects())

    before = gc.get_threshold()
    with LocalCloud(tmp_path, template.name) as cloud:
        deployment = cloud.deployment
        assert gc.get_freeze_count() > 0
        assert not collected(deployment)
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
        cloud.client("lambda").invoke(FunctionName=cloud.ref("RecorderFunction"), Payload=b"{}")

    assert gc.get_freeze_count() == 0
    assert collected(deployment)
    assert gc.get_threshold() == before


def test_the_collector_is_paused_while_a_cloud_starts_and_runs_again_after_a_failed_start(
        tmp_path: Path) -> None:
    template = write_app(tmp_path, recorder(), {"code/recorder.py": RECORDER})
    collections: list[int] = []
    paused: list[bool] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        cloud = LocalCloud(tmp_path, template.name)
        real_start_pollers = cloud._start_pollers

        def start_pollers() -> None:  # one of the start's last steps
            paused.append(not gc.isenabled())
            real_start_pollers()

        cloud._start_pollers = start_pollers  # type: ignore[method-assign]
        with cloud:
            during_the_start = list(collections)
            assert gc.isenabled()
        (tmp_path / "node").mkdir()
        node = write_app(tmp_path / "node", recorder().replace("python3.12", "nodejs20.x"))
        frozen = gc.get_freeze_count()
        with pytest.raises(TemplateError, match="cannot run locally"):
            LocalCloud(tmp_path / "node", node.name).start()
        after_a_failed_start = (gc.isenabled(), gc.get_freeze_count())
    finally:
        gc.callbacks.remove(count)

    assert paused == [True]
    assert during_the_start == [], "the collector ran during the start"
    assert after_a_failed_start == (True, frozen), "a failed start left the collector paused"


def test_importing_the_engine_leaves_the_collector_running_and_what_it_imported_frozen() -> None:
    probe = (
        "import gc, sys\n"
        "gc.collect()\n"
        "before = gc.get_freeze_count()\n"
        "import localcloud.cloud\n"
        "print(gc.isenabled(), gc.get_freeze_count() > before + 100_000,\n"
        "      any(m is sys.modules['moto'] for m in gc.get_objects()))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]


@pytest.mark.parametrize("program", ["localcloud.cli", "order_saga_tools.cli"])
@pytest.mark.parametrize(("entry", "frozen"), [("run()", True), ("main(['--help'])", False)])
def test_a_program_freezes_what_is_left_at_its_exit_and_main_called_in_a_process_does_not(
        program: str, entry: str, frozen: bool) -> None:
    probe = (
        "import atexit, gc\n"
        "atexit.register(lambda: print(gc.get_freeze_count() > 0))\n"  # runs after the program's
        f"from {program} import main, run\n"
        f"{entry}\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True,
                            text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == str(frozen)


def test_schedules_can_be_turned_off_and_say_so(tmp_path: Path) -> None:
    resources = recorder() + """\
    Events:
      Often:
        Type: Schedule
        Properties:
          Schedule: rate(1 minute)
"""
    template = write_app(tmp_path, resources, {"code/recorder.py": RECORDER})

    with LocalCloud(tmp_path, template.name, clock_scale=0.001, fire_schedules=False) as cloud:
        time.sleep(1.3)
        events = cloud.handler_module("RecorderFunction").EVENTS
        lines = cloud.deployment.startup_lines()

    assert events == []
    assert "RecorderFunctionOften: not fired (schedules are off); invoke its target by hand" in (
        lines
    )


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("cron(0 3 * * ? *)", None),
        ("at(2030-01-01T00:00:00)", None),
        ("rate(minute)", None),
    ],
)
def test_rate_expressions_give_their_period(expression: str, seconds: int | None) -> None:
    assert interval_seconds(expression) == seconds


def integration(uri: str = "FN", kind: str = "aws_proxy") -> dict[str, Any]:
    return {
        "x-amazon-apigateway-integration": {
            "type": kind,
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            f"{uri}/invocations",
        }
    }


def test_an_openapi_body_gives_each_method_its_function_and_its_authorization() -> None:
    body = {
        "paths": {
            "/items": {"get": integration("arn:fn:list"), "x-amazon-apigateway-any-method": {
                **integration("arn:fn:any"), "security": [{"Jwt": []}]}},
            "/items/{proxy+}": {"parameters": [], "post": integration("arn:fn:post")},
        },
        "components": {"securitySchemes": {"Jwt": {"x-amazon-apigateway-authorizer": {
            "type": "jwt", "jwtConfiguration": {"issuer": "https://issuer", "audience": ["a"]}}}}},
    }

    routes = routes_of_body("Api", body, "2.0")

    assert [(r.method, r.path, r.function_arn, r.authorization) for r in routes] == [
        ("GET", "/items", "arn:fn:list", "NONE"),
        ("ANY", "/items", "arn:fn:any", "JWT"),
        ("POST", "/items/{proxy+}", "arn:fn:post", "NONE"),
    ]
    assert routes[1].jwt_issuer == "https://issuer" and routes[1].jwt_audiences == ("a",)


def test_an_integration_that_is_not_a_lambda_proxy_is_refused_by_route() -> None:
    body = {"paths": {"/mock": {"get": integration(kind="mock")}}}

    with pytest.raises(TemplateError, match="Api: GET /mock is not a Lambda proxy integration"):
        routes_of_body("Api", body, "1.0")


def test_a_greedy_path_parameter_takes_the_rest_of_the_path() -> None:
    found = route_pattern("/files/{proxy+}").match("/files/a/b/c.txt")

    assert found is not None and found.groupdict() == {"proxy": "a/b/c.txt"}


def test_ssm_typed_parameters_resolve_from_the_emulators_ssm_or_stand_in_by_their_name(
    tmp_path: Path,
) -> None:
    known = "/aws/service/global-infrastructure/regions/us-east-1/longName"  # one of moto's own
    template = write_app(tmp_path, recorder(), {"code/recorder.py": RECORDER})
    template.write_text(template.read_text().replace("Resources:\n", f"""\
Parameters:
  RegionName: {{Type: "AWS::SSM::Parameter::Value<String>", Default: {known}}}
  FirstVersion: {{Type: "AWS::SSM::Parameter::Value<String>", Default: "{known}:1"}}
  Elsewhere: {{Type: "AWS::SSM::Parameter::Value<String>", Default: /nowhere/at/all}}
Outputs:
  RegionName: {{Value: !Ref RegionName}}
  FirstVersion: {{Value: !Ref FirstVersion}}
  Elsewhere: {{Value: !Ref Elsewhere}}
Resources:
""", 1))

    with LocalCloud(tmp_path, template.name) as cloud:
        outputs = {name: o["OutputValue"] for name, o in cloud.deployment.outputs.items()}
        lines = cloud.deployment.startup_lines()

    assert outputs == {"RegionName": "US East (N. Virginia)",
                       "FirstVersion": "US East (N. Virginia)", "Elsewhere": "/nowhere/at/all"}
    assert ("parameter Elsewhere: SSM parameter /nowhere/at/all does not exist locally; "
            "its name stands in for its value") in lines
    assert not any("RegionName" in line or "FirstVersion" in line for line in lines), lines
