"""Where one saga's time goes: self time per component, every thread of the local cloud profiled.

Run: .venv/bin/python benchmarks/saga_profile.py [--sagas 60] [--top 25]

Sagas run one after another, as in benchmarks/local_cloud.py. Every thread (the caller, rule
deliveries, the interpreter's execution workers, the queue pollers and their handlers) is
profiled with cProfile; each function's self time is charged to the component its file belongs
to, and a built-in's (a lock wait, a sleep, a JSON encoder) to its caller's component, except
blocking calls, which are charged to waiting. The figures are milliseconds of profiled thread
time per saga: cProfile slows pure-Python code more than C code, so read them as shares, and
take the wall time per saga from the unprofiled line. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BACKENDS = "moto backends (DynamoDB, SQS, EventBridge, Lambda)"
# (component, path fragments), first match wins; matched against a code object's file name.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HTTP (API server, HTTP clients)", ("/http/", "/socketserver.py", "/urllib3/", "/socket.py",
                                         "/localcloud/api.py", "/localcloud/endpoint.py",
                                         "/requests/", "/ssl.py")),
    ("ASL interpreter (moto's Step Functions)", ("/moto/stepfunctions/", "/antlr4/",
                                                  "/jsonpath_ng/", "/ply/")),
    ("translation of calls (boto3, botocore, moto's dispatch)", ("/botocore/", "/boto3/",
                                                                  "/moto/core/", "/werkzeug/",
                                                                  "/responses/", "/xmltodict",
                                                                  "/urllib/", "/email/",
                                                                  "/dateutil/", "/jmespath/",
                                                                  "/moto/utilities/")),
    (BACKENDS, ("/moto/",)),
    ("handlers (runtime package, Powertools, pydantic)", ("/order_saga/", "/aws_lambda_powertools/",
                                                          "/pydantic", "/iso4217/",
                                                          "/localcloud/runtime.py")),
    ("pollers (the local cloud's SQS event source mappings)", ("/localcloud/pollers.py",
                                                               "/concurrent/")),
    ("local cloud glue (adaptations, deliveries, waits)", ("/localcloud/", "/order_saga_tools/")),
    ("JSON and logging", ("/json/", "/logging/")),
    ("copying (deepcopy)", ("/copy.py",)),
    ("threads and locks", ("/threading.py", "/queue.py")),
)
WAITING = "waiting (locks, sleeps, idle threads)"
BLOCKING = ("acquire", "wait", "sleep", "select", "poll", "recv", "accept", "join", "_wait_for")


# Functions of the engine's moto adaptations that do moto's own work faster are charged to
# the component whose work they do, so that a before/after comparison stays like for like.
TRANSLATION = "translation of calls (boto3, botocore, moto's dispatch)"
STAND_INS = {
    ("/localcloud/moto_adaptations.py", "json_copy"): "copying (deepcopy)",
    ("/localcloud/moto_adaptations.py", "_copied_node"): "copying (deepcopy)",
    ("/localcloud/moto_adaptations.py", "walk"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_lex_once"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_parse_condition_once"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_parsed_condition"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_validate_structure_once"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_validator_init"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_random_string"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_random_hex"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_receipt_handle"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_from_primitives"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_request_environ"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_url_environ"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_known_url_properties"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_possible_keys_once"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_json_body_read"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_member_of_a_dict"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_dict_member_names"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_utcnow"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_utcfromtimestamp"): TRANSLATION,
    ("/localcloud/moto_adaptations.py", "_get_executions"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_running_in"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "execution_index"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_current_index"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_by_arn"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "current"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_describe_execution"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_stop_execution"): BACKENDS,
    ("/localcloud/moto_adaptations.py", "_handle_name_input_idempotency"): BACKENDS,
}


def component_of(filename: str, function: str = "") -> str:
    for (fragment, name), component in STAND_INS.items():
        if name == function and fragment in filename:
            return component
    for name, fragments in COMPONENTS:
        if any(fragment in filename for fragment in fragments):
            return name
    return "other"


def label(code: Any) -> str:
    if isinstance(code, str):
        return code
    where = code.co_filename.rsplit("site-packages/", 1)[-1]
    return f"{where}:{code.co_firstlineno}({code.co_name})"


class AllThreads:
    """A cProfile per thread, each enabled at its thread's next call once `on` is set."""

    def __init__(self) -> None:
        self.on = False
        self.profiles: list[cProfile.Profile] = []
        self._mine = threading.local()  # thread ids are reused: mark the thread itself
        self._lock = threading.Lock()

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if not self.on:
            return
        if getattr(self._mine, "profile", None) is not None:
            return
        profile = self._mine.profile = cProfile.Profile()
        with self._lock:
            self.profiles.append(profile)
        profile.enable()  # replaces this hook in this thread

    def install(self) -> None:
        threading.setprofile(self._hook)
        sys.setprofile(self._hook)

    def charged(self) -> tuple[Counter[str], Counter[str]]:
        """Self time per component, and per function (for --top)."""
        by_component: Counter[str] = Counter()
        by_function: Counter[str] = Counter()
        for profile in self.profiles:
            for entry in profile.getstats():
                if isinstance(entry.code, str):
                    continue  # charged below, through each caller
                own = component_of(entry.code.co_filename, entry.code.co_name)
                by_component[own] += entry.inlinetime
                by_function[label(entry.code)] += entry.inlinetime
                for call in entry.calls or ():
                    if not isinstance(call.code, str):
                        continue
                    blocking = any(word in call.code for word in BLOCKING)
                    by_component[WAITING if blocking else own] += call.inlinetime
                    by_function[call.code] += call.inlinetime
        return by_component, by_function


def run(sagas: int, profiler: AllThreads | None) -> list[float]:
    from order_saga_tools.demo import post_order
    from order_saga_tools.saga import SagaCloud
    from order_saga_tools.seeding import seed

    body = json.dumps(
        {"currency": "EUR", "lines": [{"sku": "SKU-BENCH", "quantity": 1, "unitPrice": "1.00"}]}
    )
    with SagaCloud(ROOT, clock_scale=0.01) as cloud:
        seed(cloud, {"SKU-BENCH": 10 * sagas + 10}, {"CUST-BENCH": 1000 * sagas + 1000}, "EUR")

        def place() -> str:
            return str(json.loads(post_order(cloud, "CUST-BENCH", body)["body"])["orderId"])

        for _ in range(5):  # warm every handler: cold starts are not what this measures
            cloud.wait_for_saga(place(), 30, with_path=False)
        if profiler is not None:
            profiler.on = True
        latencies = []
        for _ in range(sagas):
            started = time.perf_counter()
            saga = cloud.wait_for_saga(place(), 30, with_path=False)
            latencies.append(time.perf_counter() - started)
            if saga.status != "CONFIRMED":
                raise SystemExit(f"a profiled saga ended {saga.status}")
        if profiler is not None:
            profiler.on = False
            threading.setprofile(None)
            sys.setprofile(None)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagas", type=int, default=60, help="sagas per measure (default 60)")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    args = parser.parse_args()

    plain = run(args.sagas, None)
    profiler = AllThreads()
    profiler.install()
    profiled = run(args.sagas, profiler)
    by_component, by_function = profiler.charged()

    print(
        f"one saga, API call to terminal status: median {statistics.median(plain) * 1000:.1f} ms "
        f"unprofiled, {statistics.median(profiled) * 1000:.1f} ms profiled, over {args.sagas}"
    )
    busy = sum(seconds for name, seconds in by_component.items() if name != WAITING)
    print(f"profiled thread time per saga, self time by component ({busy * 1000 / args.sagas:.1f} "
          "ms busy in all threads):")
    for name, seconds in by_component.most_common():
        share = "" if name == WAITING else f"{seconds / busy:6.1%}"
        print(f"  {seconds * 1000 / args.sagas:7.2f} ms  {share:>6}  {name}")
    if args.top:
        print(f"the {args.top} costliest functions, self time per saga:")
        for name, seconds in by_function.most_common(args.top):
            print(f"  {seconds * 1000 / args.sagas:7.2f} ms  {name}")


if __name__ == "__main__":
    main()
