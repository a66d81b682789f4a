"""assess(): the score registry, aliases, unknown inputs and the text summary of every score."""

from __future__ import annotations

import pytest

from drivervte.errors import InputError
from drivervte.scores import SCORES, assess
from drivervte.scores.assess import RAW_ITEMS, get_score


def test_every_registered_score_lists_its_raw_inputs():
    assert set(RAW_ITEMS) == set(SCORES)
    for name, spec in SCORES.items():
        assert spec.name == name and spec.citation and spec.guidance


@pytest.mark.parametrize(("alias", "name"), [("COMPASS-CAT", "compass_cat"), ("li", "li2021"),
                                             ("ONKOTEV", "onkotev"), ("Protecht", "protecht")])
def test_aliases(alias, name):
    assert get_score(alias).name == name


@pytest.mark.parametrize("name", sorted(SCORES))
def test_nothing_given_gives_the_full_range_and_a_summary(name):
    r = assess(name)
    spec = SCORES[name]
    assert r.points is None
    assert r.points_range == [sum(min(it.possible) for it in spec.items),
                              sum(max(it.possible) for it in spec.items)]
    text = r.summary()
    assert "items missing" in text and "not a medical device" in text


def test_an_input_of_another_score_is_refused_unless_missing():
    with pytest.raises(InputError, match="unknown item") as e:
        assess("khorana", site="lung", ecog=2)
    assert e.value.column == "ecog"
    assert assess("khorana", site="lung", ecog=None).points is None  # missing: ignored
