"""Units: plain numbers in the paper's units; suffixes converted exactly; the rest refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.scores.units import parse_quantity


@pytest.mark.parametrize(
    ("value", "item", "expected"),
    [
        (380, "platelets", 380.0),
        ("380", "platelets", 380.0),
        ("380e9/L", "platelets", 380.0),
        ("380 x10^9/L", "platelets", 380.0),
        ("380000/uL", "platelets", 380.0),
        ("380000/µL", "platelets", 380.0),
        ("380000/mm3", "platelets", 380.0),
        ("12 G/L", "leukocytes", 12.0),
        ("9.8", "hb", 9.8),
        ("98g/L", "hb", 9.8),
        ("9.8 g/dL", "hb", 9.8),
        ("1.5ug/mL", "ddimer", 1.5),
        ("1500ng/mL", "ddimer", 1.5),
        ("1.5 mg/L", "ddimer", 1.5),
        ("53.1", "sp_selectin", 53.1),
        ("36 kg/m2", "bmi", 36.0),
    ],
)
def test_conversions(value, item, expected):
    assert parse_quantity(value, item) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("value", "item", "needle"),
    [
        ("380000", "platelets", "/uL"),     # a per-microlitre count without its unit
        ("98", "hb", "g/L"),                # g/L without its unit
        ("6.1mmol/L", "hb", "mmol/L"),      # no single exact factor
        ("0.7DDU", "ddimer", "DDU"),        # assay-specific conversion
        ("12 furlongs", "leukocytes", "unknown unit"),
        ("abc", "bmi", "not a number"),
        ("0", "platelets", "outside"),
        ("300", "bmi", "outside"),
    ],
)
def test_refusals_name_the_item(value, item, needle):
    with pytest.raises(InputError) as err:
        parse_quantity(value, item)
    assert err.value.column == item
    assert needle.lower() in str(err.value).lower()


def test_unit_option_conflicting_with_suffix_is_refused():
    with pytest.raises(InputError, match="unit option"):
        parse_quantity("98g/L", "hb", unit="g/dL")
    assert parse_quantity(98, "hb", unit="g/L") == pytest.approx(9.8)


@given(st.floats(min_value=2.0, max_value=25.0))
def test_hb_g_per_l_is_exactly_a_tenth(x):
    assert parse_quantity(f"{x * 10!r}g/L", "hb") == pytest.approx(x, rel=1e-12)
