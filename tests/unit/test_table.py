"""Tables the commands print fit 100 columns, wrapping a long last column between names."""

from __future__ import annotations

from order_saga_tools.operator import table

PATH = " > ".join(
    ["Claim order", "Reserve inventory", "Charge payment", "Confirm order", "Refund payment",
     "Release inventory", "Cancel order", "Publish OrderCancelled", "Order cancelled"]
)


def test_a_long_saga_path_wraps_between_states_and_every_line_fits() -> None:
    printed = table(["order", "status", "saga path"], [["1f2e3d4c", "CANCELLED", PATH]])

    lines = printed.splitlines()
    assert len(lines) > 3
    assert all(len(line) <= 100 for line in lines)
    continued = " ".join(line[len("1f2e3d4c  CANCELLED  "):].strip() for line in lines[2:])
    assert continued == PATH


def test_a_table_that_fits_is_left_on_one_line_per_row() -> None:
    printed = table(["sku", "stock"], [["SKU-APPLE", "100"], ["SKU-PEAR", "3"]])

    assert printed.splitlines() == ["sku        stock", "---------  -----", "SKU-APPLE  100",
                                    "SKU-PEAR   3"]
