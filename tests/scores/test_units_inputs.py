"""units: yes/no, whole-number, category and therapy inputs, and the units added for the
COMPASS-CAT and Li 2021 items."""

from __future__ import annotations

import numpy as np
import pytest

from drivervte.errors import InputError
from drivervte.scores.units import (
    parse_choice,
    parse_flag,
    parse_int,
    parse_quantity,
    parse_therapies,
)


@pytest.mark.parametrize(("v", "out"), [(True, True), (0, False), (1.0, True), ("Yes", True),
                                        ("absent", False), (np.bool_(True), True),
                                        (np.int64(0), False), (None, None), (float("nan"), None),
                                        ("", None), ("NA", None)])
def test_parse_flag(v, out):
    assert parse_flag(v, "cvc") is out


@pytest.mark.parametrize("v", [2, "maybe", -1, 0.5])
def test_parse_flag_refuses(v):
    with pytest.raises(InputError, match="yes/no") as e:
        parse_flag(v, "cvc")
    assert e.value.column == "cvc"


def test_parse_int():
    assert parse_int("2", "ecog", 0, 4) == 2 and parse_int(3.0, "ecog", 0, 4) == 3
    assert parse_int(np.int64(1), "ecog", 0, 4) == 1 and parse_int(None, "ecog", 0, 4) is None
    for bad in (5, -1, 1.5, "two", True, float("inf")):
        with pytest.raises(InputError, match="whole number"):
            parse_int(bad, "ecog", 0, 4)


def test_parse_choice_and_therapies():
    assert parse_choice("Locally-Advanced", "stage", {"locally_advanced": "la"}) == "la"
    with pytest.raises(InputError, match="accepted: locally_advanced"):
        parse_choice("III", "stage", {"locally_advanced": "la"})
    assert parse_therapies("Cisplatin, gemcitabine") == ["cisplatin", "gemcitabine"]
    assert parse_therapies(["doxorubicin"]) == ["anthracycline"]
    assert parse_therapies("none") == ["none"] and parse_therapies(None) is None
    with pytest.raises(InputError, match="combines 'none'"):
        parse_therapies("none, taxane")


@pytest.mark.parametrize(("item", "value", "expected"), [
    ("neutrophils", "7500/uL", 7.5), ("neutrophils", 0, 0.0), ("cea", "5ug/L", 5.0),
    ("months_since_diagnosis", "1.5years", 18.0), ("months_since_diagnosis", "4 months", 4.0),
])
def test_new_quantities(item, value, expected):
    assert parse_quantity(value, item) == pytest.approx(expected)


def test_new_quantities_refused():
    with pytest.raises(InputError, match="per microlitre"):
        parse_quantity(7500, "neutrophils")
    with pytest.raises(InputError, match="days or weeks"):
        parse_quantity("10 weeks", "months_since_diagnosis")
    with pytest.raises(InputError, match="outside"):
        parse_quantity(-3, "cea")
