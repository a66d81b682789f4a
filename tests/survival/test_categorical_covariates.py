"""``categorical=`` on FineGray, CoxPH and Logistic: a numeric column coded as categories.

A stage coded 1/2/3 with ``categorical=["stage"]`` must give exactly the fit of the same
stage written as text ("1"/"2"/"3"): the same dummies ``stage[T.2]``, ``stage[T.3]`` and the
same coefficients; without it the column is one numeric covariate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drivervte.errors import InputError
from drivervte.survival.cox import CoxPH
from drivervte.survival.finegray import FineGray
from drivervte.survival.logistic import Logistic


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(8)
    n = 300
    stage = rng.integers(1, 4, n)
    t = rng.exponential(10 / (0.6 + 0.3 * stage))
    return pd.DataFrame({"time": t.round(2) + 0.01,
                         "status": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
                         "stage": stage, "stage_txt": np.array(["s1", "s2", "s3"])[stage - 1],
                         "age": rng.normal(64, 9, n).round(),
                         "vte": rng.integers(0, 2, n)})


def _fits(table, col, categorical):
    kw = {"categorical": categorical} if categorical else {}
    fg = FineGray().fit(table, time="time", status="status", covariates=[col, "age"], **kw)
    cx = CoxPH().fit(table, time="time", status="status", covariates=[col, "age"], **kw)
    lg = Logistic().fit(table, outcome="vte", covariates=[col, "age"], **kw)
    return fg, cx, lg


def test_numeric_stage_as_categories_equals_text_stage(table):
    num = _fits(table, "stage", ["stage"])
    txt = _fits(table, "stage_txt", None)
    assert num[0].names_ == ["stage[T.2]", "stage[T.3]", "age"]
    assert num[1].names_ == ["stage[T.2]", "stage[T.3]", "age"]
    assert list(num[2].result_.names)[1:] == ["stage[T.2]", "stage[T.3]", "age"]
    np.testing.assert_allclose(num[0].coef_, txt[0].coef_, rtol=1e-12)
    np.testing.assert_allclose(num[1].coef_, txt[1].coef_, rtol=1e-12)
    np.testing.assert_allclose(num[2].result_.coef, txt[2].result_.coef, rtol=1e-12)


def test_without_categorical_stage_is_one_numeric_covariate(table):
    fg, cx, _ = _fits(table, "stage", None)
    assert fg.names_ == ["stage", "age"] and cx.names_ == ["stage", "age"]


def test_categorical_with_reference_and_profile_by_level(table):
    fg = FineGray().fit(table, time="time", status="status", covariates=["stage", "age"],
                        categorical=["stage"], reference={"stage": 3})
    assert fg.names_ == ["stage[T.1]", "stage[T.2]", "age"]
    a = fg.predict({"stage": 3, "age": 60}, [5.0])
    assert a.values[0]["stage[T.1]"] == 0 and a.values[0]["stage[T.2]"] == 0


def test_categorical_needs_a_table_and_known_columns(table):
    with pytest.raises(InputError) as e:
        FineGray().fit(time=table["time"], status=table["status"], X=table[["age"]],
                       covariates=["age"], categorical=["age"])
    assert e.value.column == "categorical"
    with pytest.raises(InputError):
        CoxPH().fit(table, time="time", status="status", covariates=["age"],
                    categorical=["stage"])
    with pytest.raises(InputError) as e:
        Logistic().fit(outcome=table["vte"], X=table[["age"]], categorical=["age"])
    assert e.value.column == "categorical"
