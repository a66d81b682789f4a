"""Text of the plots: effect and CI annotations, heterogeneity and test lines."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def level_fraction(level: float) -> float:
    """Confidence level as a fraction: 95 -> 0.95, 0.95 -> 0.95 (metafor accepts both)."""
    lv = float(level)
    return lv / 100.0 if lv > 1.0 else lv


def level_percent(level: float) -> str:
    return f"{100.0 * level_fraction(level):g}%"


def fmt_value(x: Any, digits: int = 2) -> str:
    """A number for an annotation: fixed ``digits`` decimals, "NA" when missing or infinite."""
    if x is None:
        return "NA"
    x = float(x)
    if math.isnan(x):
        return "NA"
    if math.isinf(x):
        return "∞" if x > 0 else "\u2212∞"
    s = f"{x:.{digits}f}"
    if s.startswith("-"):
        s = s[1:] if float(s) == 0 else "\u2212" + s[1:]  # typographic minus, as on the axis
    return s


def fmt_ci(est: Any, lo: Any, hi: Any, digits: int = 2) -> str:
    """``"2.67 [1.12, 6.42]"``."""
    return f"{fmt_value(est, digits)} [{fmt_value(lo, digits)}, {fmt_value(hi, digits)}]"


def fmt_pvalue(p: Any) -> str:
    """``"p = 0.45"``, ``"p = 0.046"``, ``"p < 0.001"``.

    Two decimals from 0.1 up, three below (so 0.046 is not printed as 0.05), "< 0.001"
    under that, as most clinical journals ask.
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = NA"
    p = float(p)
    if p < 0.001:
        return "p < 0.001"
    if p < 0.1:
        return f"p = {p:.3f}"
    s = f"{p:.2f}"
    if s == "1.00" and p < 1.0:
        return "p > 0.99"
    return f"p = {s}"


def _num(x: Any, digits: int = 2) -> str:
    return fmt_value(x, digits)


def is_random_effects(method: str) -> bool:
    return str(method).upper() not in ("EE", "FE", "CE", "MH", "PETO")


def model_description(res: Any) -> str:
    """``"random effects, REML, Knapp-Hartung"``, ``"common effect, Mantel-Haenszel"``..."""
    m = str(res.method).upper()
    if m in ("EE", "FE", "CE"):
        desc = "common effect"
    elif m == "MH":
        desc = "common effect, Mantel-Haenszel"
    elif m == "PETO":
        desc = "common effect, Peto"
    else:
        desc = f"random effects, {res.method}"
    if str(getattr(res, "test", "z")).lower() in ("knha", "hksj", "t"):
        desc += ", Knapp-Hartung" if str(res.test).lower() != "t" else ", t-test"
    return desc


def heterogeneity_text(res: Any) -> str:
    """``"Heterogeneity: tau² = 0.12; I² = 45% [12%, 70%]; Q = 8.10 (df = 4), p = 0.090"``.

    tau² only for random-effects models; the I² interval only when the fit has one.
    ``"Heterogeneity: not applicable (one study)"`` when k = 1.
    """
    if int(res.k) < 2 or int(res.Q_df) < 1:
        return "Heterogeneity: not applicable (one study)"
    parts = []
    if is_random_effects(res.method):
        parts.append(f"tau² = {_tau2(res.tau2)}")
    i2 = f"I² = {_pct(res.I2)}"
    lo, hi = getattr(res, "I2_ci_lower", None), getattr(res, "I2_ci_upper", None)
    if lo is not None and hi is not None and np.isfinite([lo, hi]).all():
        i2 += f" [{_pct(lo)}, {_pct(hi)}]"
    parts.append(i2)
    parts.append(f"Q = {_num(res.Q)} (df = {int(res.Q_df)}), {fmt_pvalue(res.Q_pvalue)}")
    return "Heterogeneity: " + "; ".join(parts)


def overall_test_text(res: Any) -> str:
    """``"Test for overall effect: z = 2.31, p = 0.021"`` (``t = ... (df = 4)`` for t-tests)."""
    df = getattr(res, "df", None)
    if df is not None and np.isfinite(df):
        stat = f"t = {_num(res.statistic)} (df = {_df(df)})"
    else:
        stat = f"z = {_num(res.statistic)}"
    return f"Test for overall effect: {stat}, {fmt_pvalue(res.pvalue)}"


def subgroup_test_text(q: float, df: float, p: float) -> str:
    """``"Test for subgroup differences: Q = 2.10 (df = 1), p = 0.15"``."""
    return f"Test for subgroup differences: Q = {_num(q)} (df = {_df(df)}), {fmt_pvalue(p)}"


def _pct(x: Any) -> str:
    x = float(x)
    return "NA" if not math.isfinite(x) else f"{x:.0f}%"


def _tau2(x: Any) -> str:
    x = float(x)
    if not math.isfinite(x):
        return "NA"
    if x == 0:
        return "0"
    return f"{x:.2f}" if x >= 0.01 else f"{x:.2g}"


def _df(df: Any) -> str:
    df = float(df)
    return f"{df:.0f}" if df == round(df) else f"{df:.2f}"
