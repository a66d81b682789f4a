r"""Mantel-Haenszel fixed-effect meta-analysis of 2x2 tables, as ``metafor::rma.mh``.

With ``N = a + b + c + d``, ``n1 = a + b``, ``n2 = c + d`` per study (counts after the second
``add``/``to`` element, by default none):

Odds ratio (Mantel & Haenszel 1959), variance of Robins, Breslow & Greenland (1986):

.. math::

    R_i = a_i d_i / N_i,\; S_i = b_i c_i / N_i,\; P_i = (a_i + d_i)/N_i,\; Q_i = (b_i + c_i)/N_i

    \widehat{OR}_{MH} = \frac{\sum R_i}{\sum S_i},\qquad
    \widehat{\mathrm{Var}}(\log \widehat{OR}) = \frac12\Bigl[\frac{\sum P_iR_i}{R^2}
      + \frac{\sum (P_iS_i + Q_iR_i)}{RS} + \frac{\sum Q_iS_i}{S^2}\Bigr]

Risk ratio and risk difference with the variances of Greenland & Robins (1985):

.. math::

    \widehat{RR} = \frac{\sum a_i n_{2i}/N_i}{\sum c_i n_{1i}/N_i},\;
    \mathrm{Var}(\log\widehat{RR}) = \frac{\sum (n_{1i} n_{2i} (a_i + c_i)/N_i^2 - a_i c_i/N_i)}
      {(\sum a_i n_{2i}/N_i)(\sum c_i n_{1i}/N_i)}

    \widehat{RD} = \frac{\sum (a_i n_{2i} - c_i n_{1i})/N_i}{\sum n_{1i} n_{2i}/N_i}

(RD variance as in ``rma.mh``). For OR also: the Cochran-Mantel-Haenszel test (with and
without continuity correction ``correct``), the Breslow-Day test and Tarone's corrected
Breslow-Day test of homogeneity (Tarone 1985), over studies with fitted ``N11 > 0`` and
events and non-events present.

The Q-test, I² and H² are computed, as metafor does, from the ``escalc`` effect sizes with
the *first* ``add``/``to``/``drop00`` element (defaults 1/2, "only0", ``True``): double-zero
studies have no ``yi`` and are left out of Q (and of ``studies``), with a warning. Their
counts still enter the MH estimate, where for OR and RR they contribute nothing; for RD
they do contribute (to the denominator), exactly as in metafor. If the MH odds ratio or
risk ratio is undefined (no events in one arm across all studies) the estimate is NaN
(``null`` in JSON) with a warning.

The result's ``counts`` are the pooled tables *before* the second ``add``/``to`` element
(raw counts; a refit can apply it again) and ``settings["count_study"]`` labels them (they
include double-zero tables, so they can outnumber ``studies``). ``settings`` also holds
``add``, ``to``, ``drop00`` (pairs), ``k_yi`` and ``correct``.

Percent ``weights`` are metafor's ``weights.rma.mh``: ``b c / N`` (OR), ``c n1 / N`` (RR),
``n1 n2 / N`` (RD), normalised over all pooled studies and reported for the studies that
have a ``yi``.

References
----------
Mantel N, Haenszel W (1959). *J Natl Cancer Inst* 22:719-748.
Robins J, Breslow N, Greenland S (1986). *Biometrics* 42:311-323.
Greenland S, Robins JM (1985). *Biometrics* 41:55-68.
Tarone RE (1985). *Biometrika* 72:91-95.
R reference: ``metafor::rma.mh`` (metafor 3.8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2, norm

from drivervte.effects import EffectSizes, from_table
from drivervte.effects.binary import TO_OPTIONS, double_zero, zero_cell_correct
from drivervte.effects.table import study_labels
from drivervte.errors import InputError
from drivervte.meta.result import MetaResult
from drivervte.results import fmt_num, fmt_p


def pair(value: Any, second: Any, name: str) -> tuple[Any, Any]:
    """metafor's rule: a scalar ``x`` means ``(x, second)``; a pair is used as given."""
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != 2:
            raise InputError(f"{name} must be one value or a pair", column=name)
        return value[0], value[1]
    return value, second


def alpha_crit(level: float) -> tuple[float, float]:
    """Return ``(level_percent, z)`` for a two-sided CI; ``level`` < 1 is a fraction."""
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 100:
        raise InputError("level must be a percentage between 0 and 100, e.g. 95", column="level")
    pct = 100 * level if level < 1 else float(level)
    return pct, float(norm.isf((1 - pct / 100) / 2))


@dataclass
class CountData:
    """Validated 2x2 counts of the studies that enter the model, and their ``escalc``."""

    ai: np.ndarray
    bi: np.ndarray
    ci: np.ndarray
    di: np.ndarray
    study: list[str]
    ni: np.ndarray
    es: EffectSizes  # yi/vi (first add/to/drop00), rows indexed into the input table
    yi_mask: np.ndarray  # which of the kept studies have a yi (k.yi of them)
    rows: np.ndarray  # input-table positions of the pooled studies
    raw: dict[str, np.ndarray]  # counts before the second add/to (reported in results)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def prepare_counts(
    ai: ArrayLike,
    bi: ArrayLike | None,
    ci: ArrayLike,
    di: ArrayLike | None,
    *,
    n1i: ArrayLike | None,
    n2i: ArrayLike | None,
    study: list[str] | None,
    escalc_measure: str,
    add: Any,
    to: Any,
    drop00: Any,
    add2_default: float = 0.0,
) -> tuple[CountData, tuple[float, float], tuple[str, str], tuple[bool, bool]]:
    """Validate the counts (as :func:`from_table`), run the first-element ``escalc``, drop
    rows with missing counts (recorded in ``excluded``) and apply the second-element
    ``drop00``/``add``/``to`` to the counts that enter the pooled estimate."""
    add1, add2 = pair(add, add2_default, "add")
    to1, to2 = pair(to, "none", "to")
    d1, d2 = pair(drop00, False, "drop00")
    for t in (to1, to2):
        if t not in TO_OPTIONS:
            raise InputError(f"to must be one of {', '.join(TO_OPTIONS)}", column="to")
    for a in (add1, add2):
        if isinstance(a, bool) or not isinstance(a, (int, float)) or a < 0:
            raise InputError(f"add must be a number >= 0, got {a!r}", column="add")
    table: dict[str, Any] = {"ai": ai, "ci": ci}
    if bi is not None and di is not None:
        table.update(bi=bi, di=di)
    elif n1i is not None and n2i is not None:
        table.update(n1i=n1i, n2i=n2i)
    else:
        raise InputError("give the non-events (bi, di) or the group sizes (n1i, n2i)",
                         column="bi")
    lengths = {k: len(v) for k, v in table.items()}
    if study is not None:
        lengths["study"] = len(study)
        table["study"] = list(study)
    if len(set(lengths.values())) > 1:
        raise InputError("arrays differ in length: "
                         + ", ".join(f"{k}={v}" for k, v in lengths.items()))
    try:
        es = from_table(table, escalc_measure, add=add1, to=to1, drop00=bool(d1))
    except InputError as exc:
        if "no study has a usable effect size" not in exc.reason:
            raise
        raise InputError("no study has both events and non-events in a group comparison "
                         "(all double-zero or undefined): nothing to pool; " + exc.reason,
                         column="ai") from None
    a = np.asarray(table["ai"], dtype=float)
    c = np.asarray(table["ci"], dtype=float)
    if "bi" in table:
        b = np.asarray(table["bi"], dtype=float)
        d = np.asarray(table["di"], dtype=float)
    else:
        b = np.asarray(table["n1i"], dtype=float) - a
        d = np.asarray(table["n2i"], dtype=float) - c
    n = len(a)
    labels = study_labels(study, n)
    missing = np.isnan(a) | np.isnan(b) | np.isnan(c) | np.isnan(d)
    excluded = [e for e in es.excluded if missing[e["row"]]]
    keep = np.flatnonzero(~missing)
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    labels = [labels[i] for i in keep]
    yi_mask = np.isin(keep, es.rows)
    warnings = []
    for e in es.excluded:
        if not missing[e["row"]]:
            warnings.append(f"{e['study']}: left out of the Q-test (no yi): {e['reason']}")
    if d2:
        dz = double_zero(a, b, c, d)
        for arr in (a, b, c, d):
            arr[dz] = np.nan
        if dz.any():
            sub = ~dz
            a, b, c, d = a[sub], b[sub], c[sub], d[sub]
            yi_mask = yi_mask[sub]
            for i in np.flatnonzero(dz):
                excluded.append({"row": int(keep[i]), "study": labels[i],
                                 "reason": "double-zero study (drop00 for the pooled counts)"})
            labels = [s for s, z in zip(labels, dz, strict=True) if not z]
            keep = keep[sub]
    ni = a + b + c + d
    raw = {"ai": a.copy(), "bi": b.copy(), "ci": c.copy(), "di": d.copy()}
    (a, b, c, d), _ = zero_cell_correct([a, b, c, d], add2, to2)
    if len(a) == 0:
        raise InputError("no study has complete counts; nothing to pool")
    data = CountData(ai=a, bi=b, ci=c, di=d, study=labels, ni=ni, es=es, yi_mask=yi_mask,
                     rows=keep, raw=raw,
                     excluded=sorted(excluded, key=lambda e: e["row"]), warnings=warnings)
    return data, (add1, add2), (to1, to2), (bool(d1), bool(d2))


def heterogeneity(q: float, k_yi: int) -> tuple[float, int, float, float, float]:
    """``(Q, df, p, I2, H2)`` as rma.mh/rma.peto: I2 = max(0, 100 (Q - df)/Q), H2 = Q/df."""
    if k_yi > 1:
        df = k_yi - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            i2 = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0
        return q, df, float(chi2.sf(q, df)), i2, q / df
    return 0.0, 0, 1.0, 0.0, 1.0


# --------------------------------------------------------------------------- result
@dataclass
class MHResult(MetaResult):
    """A :class:`MetaResult` with the Mantel-Haenszel tests of ``rma.mh``.

    ``to_dict()`` = the MetaResult keys plus ``mh_tests``: ``{cmh, cmh_pvalue, cochran,
    cochran_pvalue, breslow_day, breslow_day_pvalue, tarone, tarone_pvalue, k_pos}``
    (``cmh`` is metafor's ``MH``, with ``N - 1``; ``cochran`` is ``CO``, with ``N``; ``null``
    for RR and RD or when undefined).
    """

    mh_tests: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from drivervte.results import jsonable

        out = super().to_dict()
        out["mh_tests"] = jsonable(self.mh_tests)
        return out

    def summary(self) -> str:
        s = super().summary()
        t = self.mh_tests
        if t.get("cmh") is not None:
            s += (f"\nCochran-Mantel-Haenszel test: CMH = {fmt_num(t['cmh'])}, df = 1, "
                  f"p = {fmt_p(t['cmh_pvalue'])}")
        if t.get("tarone") is not None and t.get("tarone_pvalue") is not None:
            s += (f"\nTarone's test for heterogeneity: X^2 = {fmt_num(t['tarone'])}, "
                  f"df = {t['k_pos'] - 1}, p = {fmt_p(t['tarone_pvalue'])}")
        return s


_NAN = float("nan")


def _mh_or(a, b, c, d, correct: bool) -> tuple[float, float, dict[str, Any], list[str]]:
    n1, n2 = a + b, c + d
    N = n1 + n2
    P = a / N + d / N
    Q = b / N + c / N
    Ri = (a / N) * d
    Si = (b / N) * c
    R, S = Ri.sum(), Si.sum()
    warn = []
    if R == 0 or S == 0:
        beta, se = _NAN, _NAN
        warn.append("Mantel-Haenszel odds ratio undefined: "
                    + ("no study has a*d > 0" if R == 0 else "no study has b*c > 0"))
    else:
        beta = float(np.log(R / S))
        se = float(np.sqrt(0.5 * ((P * Ri).sum() / R**2 + (P * Si + Q * Ri).sum() / (R * S)
                                  + (Q * Si).sum() / S**2)))
    xt, yt = a + c, b + d
    tests: dict[str, Any] = dict.fromkeys(
        ("cmh", "cmh_pvalue", "cochran", "cochran_pvalue", "breslow_day",
         "breslow_day_pvalue", "tarone", "tarone_pvalue"))
    tests["k_pos"] = 0
    if xt.sum() != 0 and yt.sum() != 0:
        num = (abs((a - (n1 / N) * xt).sum()) - (0.5 if correct else 0.0)) ** 2
        tests["cochran"] = float(num / ((n1 / N) * (n2 / N) * (xt * (yt / N))).sum())
        tests["cochran_pvalue"] = float(chi2.sf(tests["cochran"], 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            tests["cmh"] = float(num / ((n1 / N) * (n2 / N) * (xt * (yt / (N - 1)))).sum())
        tests["cmh_pvalue"] = float(chi2.sf(tests["cmh"], 1))
    if np.isfinite(beta):
        psi = R / S
        with np.errstate(divide="ignore", invalid="ignore"):
            if psi == 1:
                n11 = (n1 / N) * xt
            else:
                A = psi * (n1 + xt) + (n2 - xt)
                B = np.sqrt(A**2 - 4 * n1 * xt * psi * (psi - 1))
                n11 = (A - B) / (2 * (psi - 1))
        pos = (n11 > 0) & (xt > 0) & (yt > 0)
        k_pos = int(pos.sum())
        n11 = n11[pos]
        n12 = n1[pos] - n11
        n21 = xt[pos] - n11
        n22 = n11 - n1[pos] - xt[pos] + N[pos]
        vinv = 1 / n11 + 1 / n12 + 1 / n21 + 1 / n22
        dev = a[pos] - n11
        bd = max(0.0, float((dev**2 / vinv**-1).sum()))
        ta = max(0.0, bd - float(dev.sum() ** 2 / (vinv**-1).sum()))
        tests.update(breslow_day=bd, tarone=ta, k_pos=k_pos)
        if k_pos > 1:
            tests["breslow_day_pvalue"] = float(chi2.sf(bd, k_pos - 1))
            tests["tarone_pvalue"] = float(chi2.sf(ta, k_pos - 1))
    return beta, se, tests, warn


def _mh_rr(a, b, c, d) -> tuple[float, float, list[str]]:
    n1, n2 = a + b, c + d
    N = n1 + n2
    R = (a * (n2 / N)).sum()
    S = (c * (n1 / N)).sum()
    if a.sum() == 0 or c.sum() == 0:
        return _NAN, _NAN, ["Mantel-Haenszel risk ratio undefined: no events in the "
                            + ("first" if a.sum() == 0 else "second") + " group of any study"]
    beta = float(np.log(R / S))
    se = float(np.sqrt(((n1 / N) * (n2 / N) * (a + c) - (a / N) * c).sum() / (R * S)))
    return beta, se, []


def _mh_rd(a, b, c, d) -> tuple[float, float]:
    n1, n2 = a + b, c + d
    N = n1 + n2
    W = (n1 * (n2 / N)).sum()
    beta = float((a * (n2 / N) - c * (n1 / N)).sum() / W)
    var = (beta * (c * (n1 / N) ** 2 - a * (n2 / N) ** 2 + (n1 / N) * (n2 / N) * (n2 - n1) / 2
                   ).sum() + (a * (n2 - c) / N + c * (n1 - a) / N).sum() / 2) / W**2
    return beta, float(np.sqrt(var))


def rma_mh(
    ai: ArrayLike,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    *,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    measure: str = "OR",
    level: float = 95,
    add: float | tuple[float, float] = 0.5,
    to: str | tuple[str, str] = "only0",
    drop00: bool | tuple[bool, bool] = True,
    correct: bool = True,
    study: list[str] | None = None,
) -> MHResult:
    """Mantel-Haenszel fixed-effect model for 2x2 tables (``metafor::rma.mh``).

    Parameters
    ----------
    ai, bi, ci, di:
        Events / non-events in group 1 and group 2 (or give ``n1i``, ``n2i`` for ``bi``, ``di``).
    measure:
        ``"OR"`` (default), ``"RR"`` or ``"RD"``.
    level:
        Confidence level in percent (a value below 1 is a fraction, as metafor).
    add, to, drop00:
        As metafor: one value applies to the ``escalc`` call behind the Q-test (and is
        paired with ``0``, ``"none"``, ``False`` for the counts of the MH estimate); a pair
        sets both.
    correct:
        Continuity correction of the CMH test.
    study:
        Study labels.

    Returns
    -------
    MHResult
        ``method="MH"``, ``tau2=0``; estimate on the log scale for OR/RR. See the module
        docstring for the formulas and the handling of zero-event studies.
    """
    m = str(measure).upper()
    if m not in ("OR", "RR", "RD"):
        raise InputError("measure must be 'OR', 'RR' or 'RD' for Mantel-Haenszel",
                         column="measure")
    if ci is None:
        raise InputError("give the events of the second group (ci)", column="ci")
    pct, z = alpha_crit(level)
    cd, adds, tos, drops = prepare_counts(ai, bi, ci, di, n1i=n1i, n2i=n2i, study=study,
                                          escalc_measure=m, add=add, to=to, drop00=drop00)
    a, b, c, d = cd.ai, cd.bi, cd.ci, cd.di
    warnings = list(cd.warnings)
    tests: dict[str, Any] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        if m == "OR":
            beta, se, tests, w = _mh_or(a, b, c, d, correct)
            warnings += w
            wi = (b / (a + b + c + d)) * c
        elif m == "RR":
            beta, se, w = _mh_rr(a, b, c, d)
            warnings += w
            wi = (c / (a + b + c + d)) * (a + b)
        else:
            beta, se = _mh_rd(a, b, c, d)
            wi = ((a + b) / (a + b + c + d)) * (c + d)
    dz = double_zero(cd.ai, cd.bi, cd.ci, cd.di)
    if dz.any():
        names = ", ".join(s for s, z0 in zip(cd.study, dz, strict=True) if z0)
        if m == "RD":
            warnings.append(f"double-zero studies enter the MH risk difference: {names}")
        else:
            warnings.append(f"double-zero studies contribute nothing to the MH {m}: {names}")
    return _finish(cd, m, "MH", pct, z, beta, se, wi, warnings, adds, tos, drops,
                   extra={"correct": correct}, tests=tests)


def _finish(cd, measure, method, pct, z, beta, se, wi, warnings, adds, tos, drops, *,
            extra, tests, q=None) -> MHResult:
    es = cd.es
    yi, vi = es.yi, es.vi
    k_yi = len(yi)
    if q is None:
        qv = max(0.0, float(np.sum((yi - beta) ** 2 / vi))) if k_yi > 1 else 0.0
        if not np.isfinite(beta):
            qv = _NAN
    else:
        qv = q
    if k_yi > 1 and np.isfinite(qv):
        Q, Q_df, Q_p, I2, H2 = heterogeneity(qv, k_yi)
    elif k_yi > 1:
        Q, Q_df, Q_p, I2, H2 = _NAN, k_yi - 1, _NAN, _NAN, _NAN
    else:
        Q, Q_df, Q_p, I2, H2 = heterogeneity(0.0, k_yi)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = beta / se
        pval = float(2 * norm.sf(abs(stat))) if np.isfinite(stat) else _NAN
        pw = wi / wi.sum() * 100
    pos = {int(r): j for j, r in enumerate(cd.rows)}
    pw_yi = np.array([pw[pos[int(r)]] if int(r) in pos else 0.0 for r in es.rows])
    lo, hi = beta - z * se, beta + z * se
    settings = {"add": list(adds), "to": list(tos), "drop00": list(drops), "k_yi": k_yi,
                "count_study": list(cd.study), **extra}
    counts = cd.raw
    return MHResult(
        k=len(cd.ai), measure=measure, method=method, test="z", level=pct,
        estimate=float(beta), se=float(se), statistic=float(stat), pvalue=pval,
        ci_lower=float(lo), ci_upper=float(hi), pi_lower=np.nan, pi_upper=np.nan,  # no PI: fixed effect
        tau2=0.0, Q=float(Q), Q_df=int(Q_df), Q_pvalue=float(Q_p), I2=float(I2), H2=float(H2),
        study=list(es.study), yi=yi, vi=vi, weights=pw_yi,
        converged=True, warnings=warnings, excluded=cd.excluded, ni=es.ni,
        X=np.ones((k_yi, 1)), beta=np.array([beta]), vb=np.array([[se**2]]), counts=counts,
        settings=settings, mh_tests=tests,
    )
