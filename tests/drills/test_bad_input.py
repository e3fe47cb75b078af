"""Whatever a client sends to POST /orders, bad input is a 4xx with field errors: never a 500,
never a stored order, never an emitted event."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from order_saga_tools.demo import post_order
from order_saga_tools.faults import wrap_port
from order_saga_tools.saga import SagaCloud

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
bad_lines = st.one_of(
    json_values,
    st.lists(
        st.fixed_dictionaries(
            {
                "sku": st.one_of(st.text(), st.integers(), st.none()),
                "quantity": st.one_of(st.integers(), st.floats(), st.text(), st.booleans()),
                "unitPrice": st.one_of(
                    st.text(), st.floats(allow_nan=True), st.integers(max_value=0)
                ),
            }
        ),
        max_size=60,
    ),
)
CALLER = "CUST-BAD-INPUT"
bad_orders = st.fixed_dictionaries(
    {},
    optional={
        "customerId": st.one_of(
            st.text(), st.integers(), st.none(), st.just(""), st.just("CUST-OTHER")
        ),
        "currency": st.one_of(st.text(max_size=5), st.integers()),
        "lines": bad_lines,
        "extra": json_values,
    },
)
bodies = st.one_of(
    bad_orders.map(json.dumps),
    json_values.map(json.dumps),
    st.text(),  # malformed JSON and any unicode
    st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
    st.integers(min_value=16 * 1024 + 1, max_value=64 * 1024).map(
        lambda size: json.dumps({"customerId": "CUST-1", "pad": "x" * size})
    ),
)


def count_orders(cloud: SagaCloud) -> int:
    return int(
        cloud.client("dynamodb").scan(TableName=cloud.ref("OrdersTable"), Select="COUNT")["Count"]
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_bad_input_is_a_4xx_with_field_errors_and_leaves_no_trace(
    drill_cloud: SagaCloud, body: str
) -> None:
    publisher = wrap_port(drill_cloud.container_of("CreateOrderFunction"), "publisher")
    published_before = len(publisher.calls)
    stored_before = count_orders(drill_cloud)

    response = post_order(drill_cloud, CALLER, body)

    if response["statusCode"] == 202:
        # A body hypothesis happened to make valid is not bad input; only check that it is.
        from order_saga.domain.requests import parse_place_order

        parse_place_order(body, CALLER)
        return
    assert 400 <= response["statusCode"] < 500, response
    answer = json.loads(response["body"])
    assert answer["errors"] and all({"field", "message"} <= set(e) for e in answer["errors"])
    assert count_orders(drill_cloud) == stored_before
    assert len(publisher.calls) == published_before
