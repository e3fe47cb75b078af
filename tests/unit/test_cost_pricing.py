"""The cost command's pure parts: item sizes, units, tiers, the price file, the mix, crossings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from localcloud.metering import attribute_size, item_size, read_units, write_units
from order_saga_tools.cost import (
    UNIT_NAMES,
    CostInputError,
    Fleet,
    MissingPriceError,
    OrderUnits,
    crossovers,
    load_prices,
    parse_fleet,
    parse_mix,
    tiered,
    totals,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),
        ({"N": "12345"}, 4),
        ({"N": "-0.0500"}, 2),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),
        ({"M": {"k": {"S": "abc"}}}, 3 + (1 + 3 + 1)),
        ({"SS": ["a", "bc"]}, 3),
    ],
)
def test_an_attribute_is_sized_by_dynamodbs_rules(value: dict, size: int) -> None:
    assert attribute_size(value) == size


def test_an_items_size_counts_its_attribute_names() -> None:
    assert item_size({"pk": {"S": "ORDER#1"}, "qty": {"N": "3"}}) == 2 + 7 + 3 + 2
    assert item_size(None) == 0


def test_writes_round_up_per_kb_of_the_larger_item_and_never_cost_less_than_one() -> None:
    assert write_units(0, 10) == 1
    assert write_units(1024, 1025) == 2
    assert write_units(3000, 100) == 3


def test_reads_round_up_per_4_kb_and_eventual_reads_cost_half() -> None:
    assert read_units(0, True) == 1
    assert read_units(4097, True) == 2
    assert read_units(4097, False) == 1


def test_tiers_are_billed_in_order() -> None:
    tiers = [[100, 1.0], [200, 0.5], [None, 0.1]]
    assert tiered(50, tiers) == 50
    assert tiered(350, tiers) == pytest.approx(100 + 100 + 5)
    assert tiered(10, 0.25) == 2.5


def test_the_default_mix_is_the_issues_and_sums_to_one() -> None:
    mix = parse_mix(None)
    assert mix == {"confirmed": 0.90, "out-of-stock": 0.05, "declined": 0.04, "fails": 0.01}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("confirmed=0.9,lost=0.1", "unknown outcome 'lost'"),
        ("confirmed=0.9,declined=0.2", "sum to 1.1, not 1"),
        ("confirmed=1.2,declined=-0.2", "declined must be a share from 0 to 1"),
        ("confirmed", "is not OUTCOME=SHARE"),
    ],
)
def test_a_bad_mix_is_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CostInputError, match=message):
        parse_mix(text)


def test_a_fleet_setting_must_be_known_and_positive() -> None:
    assert parse_fleet("min-tasks=3,vcpu=1").tasks(0) == 3
    with pytest.raises(CostInputError, match="unknown setting 'cpus'"):
        parse_fleet("cpus=2")
    with pytest.raises(CostInputError, match="vcpu must be more than 0"):
        parse_fleet("vcpu=0")


def test_the_fleet_grows_with_the_peak() -> None:
    fleet = Fleet(min_tasks=2, task_orders_per_second=10, peak_ratio=2)
    assert fleet.tasks(86_400 * 5) == 2
    assert fleet.tasks(86_400 * 11) == 3


def test_every_figure_of_the_price_file_is_dated_and_sourced() -> None:
    data = yaml.safe_load((ROOT / "prices" / "aws-prices.yaml").read_text(encoding="utf-8"))
    for name, figure in data["prices"].items():
        assert figure["source"].startswith("https://"), name
        assert figure["checked"], name
        assert {"us-east-1", "eu-west-1"} <= set(figure["regions"]), name


def test_a_region_without_prices_is_an_error_naming_it() -> None:
    with pytest.raises(MissingPriceError, match="no prices for region ap-south-2"):
        load_prices(ROOT, "ap-south-2")


def test_a_figure_missing_for_a_region_is_an_error_naming_both(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "prices" / "aws-prices.yaml").read_text(encoding="utf-8"))
    del data["prices"]["logs.ingested_gb"]["regions"]["eu-west-1"]
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "aws-prices.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(MissingPriceError, match="no logs.ingested_gb price for region eu-west-1"):
        load_prices(tmp_path, "eu-west-1")
    assert load_prices(tmp_path, "us-east-1").region == "us-east-1"


def test_crossings_are_where_the_totals_meet() -> None:
    prices = load_prices(ROOT, "us-east-1")
    order = OrderUnits({name: 1.0 for name in UNIT_NAMES} | {"transitions": 7.0})
    fleet = Fleet()
    found = crossovers(order, prices, fleet)
    assert found, "a per-order design and an always-on fleet must cross somewhere"
    for crossing in found:
        a, b = crossing["between"]
        at = crossing["ordersPerDay"]
        below, above = (
            totals(order, at * 0.98, prices, fleet),
            totals(order, at * 1.02, prices, fleet),
        )
        assert (below[a] - below[b]) * (above[a] - above[b]) < 0
        assert above[crossing["cheaperAbove"]] == min(above[a], above[b])
