"""Fine-Gray subdistribution hazards regression, exactly as R ``cmprsk::crr``, in linear time.

Model (Fine and Gray 1999, JASA 94: 496-509): the subdistribution hazard of cause ``cause``
is :math:`\\lambda_1(t\\mid x) = \\lambda_{10}(t) \\exp(x'\\beta)`, i.e. the cumulative
incidence is :math:`F_1(t\\mid x) = 1 - \\exp\\{-e^{x'\\beta}\\Lambda_{10}(t)\\}`.
:math:`\\beta` maximises the log pseudo partial likelihood

.. math::

    \\ell(\\beta) = \\sum_k \\Big[\\sum_{i \\in D_k} x_i'\\beta
      - d_k \\log \\sum_j w_j(t_k) e^{x_j'\\beta}\\Big],

Breslow ties (:math:`D_k` the :math:`d_k` failures from the cause at :math:`t_k`), with
:math:`w_j(t)=1` while :math:`T_j \\ge t` and :math:`w_j(t)=\\hat G(t-)/\\hat G(T_j-)` after a
competing failure at :math:`T_j<t` (:math:`\\hat G` the Kaplan-Meier censoring survivor, by
``cengroup``). Every convention is ``crr``'s (cmprsk 2.2-11): see
:mod:`.finegray_weights` (censoring weights), :mod:`.finegray_scan` (the linear-time
forward-backward scan of Kawaguchi et al. 2020, Biometrics 77: 1254-1265, and the
sandwich variance of Fine and Gray Section 3 including the censoring term),
:mod:`.finegray_dense` (time-varying ``cov2 * tf(t)``), :mod:`.finegray_newton` (the
iteration). Cost per Newton step: :math:`O(n p^2)` after one sort; with ``cov2``
:math:`O(n d p^2)` (:math:`d` distinct failure times).

Standard errors: ``se`` is ``crr``'s ``var`` (the sandwich
:math:`I^{-1} \\sum_i (\\eta_i+\\psi_i)^{\\otimes 2} I^{-1}`, which accounts for the
estimated censoring weights); ``se_model`` is :math:`\\sqrt{\\mathrm{diag}(I^{-1})}`
(``crr$invinf``), which ignores both the weighting and the misspecification and is
usually too small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import ConvergenceWarning, InputError, NotFittedError
from drivervte.survival.causes import normalize_causes
from drivervte.survival.design import check_categorical_input
from drivervte.survival.finegray_dense import dense_eval
from drivervte.survival.finegray_input import FGInput, from_arrays, from_frame
from drivervte.survival.finegray_newton import newton
from drivervte.survival.finegray_predict import (
    CIFPrediction,
    categorical_levels,
    flag_columns,
)
from drivervte.survival.finegray_predict import predict as predict_with_ci
from drivervte.survival.finegray_result import FineGrayResult, build_result
from drivervte.survival.finegray_scan import (
    FGData,
    fast_kernel,
    fast_loglik,
    prepare,
    sandwich_terms,
)

__all__ = ["CIFPrediction", "FineGray", "FineGrayResult"]


class FineGray:
    """Fine-Gray regression (R ``cmprsk::crr``).

    Parameters
    ----------
    cause : status code of the event of interest (``crr``'s ``failcode``).
    cencode : status code of censored rows (``crr``'s ``cencode``); every other code is a
        competing cause.
    variance : ``"sandwich"`` (default) or ``"model"``: which one ``se``, the p-values and
        CIs use; both are always reported (``se`` and ``se_model``). Without ``entry`` the
        sandwich is ``crr$var`` (Fine-Gray's, including the term for the estimated
        censoring weights) and the model-based one ``crr$invinf``. With ``entry`` (no
        ``crr`` equivalent) they are ``coxph``'s robust (``cluster = id``) and naive
        variances on ``survival::finegray`` data: the weights are then treated as known.
    ties : only ``"breslow"`` (what ``crr`` does).
    max_iter, tol : Newton iterations and the convergence tolerance (see
        :mod:`.finegray_newton`).
    level : confidence level of the CIs.

    Fitted attributes: ``coef_``, ``vcov_``, ``vcov_model_``, ``names_``, ``result_``,
    ``uftime_`` (distinct failure times), ``bfitj_`` (jumps of the baseline cumulative
    subdistribution hazard, ``crr$bfitj``), ``tfs_``.

    Examples
    --------
    >>> fg = FineGray(cause=1).fit(df, time="time", status="status",
    ...                            covariates=["egfr", "age"])  # doctest: +SKIP
    >>> print(fg.result_.summary())  # doctest: +SKIP
    >>> fg2 = FineGray().fit(df, time="time", status="status", cause=2,
    ...                      covariates=["egfr", "age"])  # doctest: +SKIP
    """

    def __init__(
        self,
        cause: int = 1,
        cencode: int = 0,
        variance: str = "sandwich",
        ties: str = "breslow",
        max_iter: int = 50,
        tol: float = 1e-9,
        level: float = 0.95,
    ) -> None:
        self.cause = cause
        self.cencode = cencode
        self.variance = variance
        self.ties = ties
        self.max_iter = max_iter
        self.tol = tol
        self.level = level

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: pd.DataFrame | None = None,
        *,
        time: Any,
        status: Any,
        covariates: Sequence[str] | None = None,
        X: Any = None,
        cengroup: Any = None,
        cov2: Any = None,
        tf: Callable | None = None,
        entry: Any = None,
        reference: dict | None = None,
        missing: str = "error",
        cause: int | None = None,
        causes: Sequence[int] | None = None,
        categorical: Sequence[str] | None = None,
    ) -> FineGray:
        """Fit. With ``data`` (a DataFrame), ``time``/``status``/``cengroup``/``entry`` are
        column names and ``covariates``/``cov2`` lists of columns (coded by
        :func:`~drivervte.survival.design.design_matrix`; ``reference``, ``categorical``
        (numeric columns to code as categories, e.g. stage 1-4) and ``missing`` as in
        :func:`~drivervte.survival.cohort.prepare_cohort`). Without ``data`` they are arrays:
        ``X`` (n, p), ``cov2`` (n, p2), with ``covariates`` the names of ``X``'s columns.

        ``tf(times) -> (len(times), p2)`` multiplies ``cov2`` at each failure time, as in
        ``crr``. ``entry`` (delayed entry) uses the weights of R ``survival::finegray``,
        see :mod:`.finegray_ltrunc`.

        ``cause`` (optional) overrides the constructor's ``cause`` (the status code of the
        event of interest): ``FineGray().fit(df, time=..., status=..., cause=2, ...)`` is
        ``FineGray(cause=2).fit(df, ...)``; the estimator's ``cause`` attribute is set to it,
        so the fitted object records the cause it was fitted for.

        ``causes`` (optional) declares the cause codes: any status code other than
        ``cencode`` and these is an ``InputError`` naming the status column and the rows
        (1-based in the message), instead of being taken as one more competing cause (the
        default, as ``crr``). A declared cause with no events is allowed; ``cause`` must be
        one of them. See :mod:`drivervte.survival.causes`.
        """
        if cause is not None:
            self.cause = cause
        if self.ties != "breslow":
            raise InputError("only ties='breslow' is available (as in crr)", column="ties")
        if self.variance not in ("sandwich", "model"):
            raise InputError("variance must be 'sandwich' or 'model'", column="variance")
        if self.cause == self.cencode:
            raise InputError("cause and cencode must differ", column="cause")
        causes = normalize_causes(causes, cause=self.cause, cencode=self.cencode)
        check_categorical_input(categorical, data)
        if data is not None:
            from drivervte.survival.tables import read_table

            data = read_table(data)  # a pandas DataFrame as is; polars, DuckDB, a path
            inp = from_frame(
                data,
                time=time,
                status=status,
                covariates=covariates or [],
                cengroup=cengroup,
                cov2=cov2 or [],
                entry=entry,
                reference=reference,
                missing=missing,
                causes=causes,
                categorical=categorical or (),
                cencode=self.cencode,
            )
        else:
            inp = from_arrays(
                time=time,
                status=status,
                X=X,
                names=covariates,
                cengroup=cengroup,
                cov2=cov2,
                entry=entry,
                missing=missing,
                causes=causes,
                cencode=self.cencode,
            )
        if inp.X2.shape[1] and tf is None:
            raise InputError("cov2 needs tf (a function of time)", column="tf")
        self._check(inp)
        if data is not None:
            self.levels_ = categorical_levels(data, covariates or [], inp.names, inp.rows)
            self.flags_ = flag_columns(data, covariates or [], inp.names)
        else:
            self.levels_, self.flags_ = {}, set()
        if inp.entry is not None:
            from drivervte.survival.finegray_ltrunc import fit_ltrunc

            return fit_ltrunc(self, inp)
        return self._fit_crr(inp, tf)

    def _check(self, inp: FGInput) -> None:
        s = inp.status
        if not np.any(s == self.cause):
            raise InputError(
                f"no events of cause {self.cause} in the rows used; "
                "check --cause / the status coding",
                column=inp.status_name,
            )
        for Z, names in ((inp.X, inp.names), (inp.X2, inp.names[inp.X.shape[1] :])):
            if Z.shape[1] == 0:
                continue
            const = np.flatnonzero(np.ptp(Z, axis=0) == 0)
            if const.size:
                raise InputError(
                    "covariate is constant in the rows used; drop it", column=names[const[0]]
                )
        Z = inp.X  # cov2 columns often repeat cov1 columns: only X is checked for rank
        if Z.shape[1] > 1:
            mu = Z.mean(axis=0)
            G = Z.T @ Z - Z.shape[0] * np.outer(mu, mu)
            sd = np.sqrt(np.diag(G))
            ev = np.linalg.eigvalsh(G / np.outer(sd, sd))
            if ev[0] < 1e-10 * ev[-1]:
                raise InputError(
                    "covariates are collinear (the design matrix is rank "
                    "deficient); drop one of them",
                    column=",".join(inp.names[: Z.shape[1]]),
                )

    def _fit_crr(self, inp: FGInput, tf: Callable | None) -> FineGray:
        s = inp.status
        ici = np.where(s == self.cencode, 0, np.where(s == self.cause, 1, 2))
        D = prepare(inp.time, ici, inp.X, inp.group, inp.X2, tf)
        dense = D.X2.shape[1] > 0
        p = D.p
        if dense:

            def kernel(b):
                return dense_eval(D, b, "kernel")

            def loglik(b):
                return dense_eval(D, b, "loglik")
        else:

            def kernel(b):
                return fast_kernel(D, b)

            def loglik(b):
                return fast_loglik(D, b)

        sd = (
            np.sqrt(np.mean(np.hstack((D.X, D.X2)) ** 2, axis=0))
            if dense
            else np.sqrt(np.einsum("ij,ij->j", D.X, D.X) / max(D.time.size, 1))
        )
        beta, out, conv, it, reasons = newton(
            kernel,
            loglik,
            p,
            max_iter=self.max_iter,
            tol=self.tol,
            names=inp.names,
            sd=sd,
            n_events=float(D.dk.sum()),
        )
        if dense:
            res, info, _, _, S0 = dense_eval(D, beta, "variance")
        else:
            res, info, _, _, S0 = sandwich_terms(D, beta, kern=out)
        return self._finish(D, beta, res, info, S0, loglik=out[0],
                            loglik_null=loglik(np.zeros(p)), conv=conv, iterations=it,
                            reasons=reasons, ici=ici, inp=inp)

    def _finish(self, D: FGData, beta, res, info, S0, *, loglik: float, loglik_null: float,
                conv: bool, iterations: int, reasons: list[str], ici, inp: FGInput,
                notes: tuple[str, ...] = ()) -> FineGray:
        """Variances from the score residuals ``res`` and information ``info`` (sandwich
        ``I^-1 (res' res) I^-1`` and model ``I^-1``), the convergence warning, the result."""
        var = var_model = None
        warnings_: list[str] = list(reasons)
        try:
            var_model = np.linalg.inv(info)
            var = var_model @ (res.T @ res) @ var_model
        except np.linalg.LinAlgError:
            warnings_.append("information matrix is singular: standard errors are null")
        if not conv:
            import warnings

            warnings.warn("FineGray: " + "; ".join(reasons), ConvergenceWarning, stacklevel=4)
        self._store(D, beta, S0, var, var_model, inp.names)
        self._data = D  # kept for predict(): the sorted problem, O(n p)
        self._psi = inp.entry is None  # crr fit: predictions carry the censoring term
        # score residuals (eta + psi) for predict's influence functions; they live in D's
        # work buffer, which is handed over so that no later scan overwrites them
        self._resid = res
        if D.buf is res:
            D.buf = None
        self.result_ = build_result(
            names=inp.names,
            beta=beta,
            var=var if self.variance == "sandwich" else var_model,
            var_model=var_model,
            loglik=loglik,
            loglik_null=loglik_null,
            converged=conv,
            iterations=iterations,
            n=D.time.size,
            events=int(np.sum(ici == 1)),
            n_competing=int(np.sum(ici == 2)),
            n_censored=int(np.sum(ici == 0)),
            excluded=inp.excluded,
            warnings=[*warnings_, *notes],
            level=self.level,
        )
        self.converged_ = conv
        return self

    def _store(self, D: FGData, beta, S0, var, var_model, names) -> None:
        p1 = D.X.shape[1]
        shift = D.xmean[:p1] @ beta[:p1] + D.tfs @ (D.xmean[p1:] * beta[p1:])
        self.coef_ = beta
        self.vcov_ = var
        self.vcov_model_ = var_model
        self.names_ = list(names)
        self.uftime_ = D.uft
        self.bfitj_ = D.dk / S0 * np.exp(-shift)
        self.tfs_ = D.tfs
        self.n_fixed_ = p1

    # ------------------------------------------------------------ predict
    def predict(self, profiles: Any, times: Any, *, level: float | None = None,
                method: str = "influence") -> CIFPrediction:
        """Predicted cumulative incidence at ``times`` for covariate ``profiles``, with
        standard errors and confidence intervals.

        ``profiles``: a mapping or list of mappings (or a DataFrame) keyed by covariate
        names of the fit (``{"egfr": 1, "age": 65, "stage": "IV"}``: a categorical
        covariate by its level or by its dummies ``stage[T.IV]``), or an (m, p) array in
        the order of ``names_``. ``method``: ``"influence"`` (default; accounts for the
        estimated censoring weights, Fine and Gray 1999) or ``"survfit"`` (as R
        ``survival::survfit.coxph`` on ``survival::finegray`` data). Formulas, CIs and cost:
        :mod:`drivervte.survival.finegray_predict`. Returns a :class:`CIFPrediction`.

        >>> fg.predict({"egfr": 1, "age": 65}, times=[6, 12, 24]).summary()  # doctest: +SKIP
        """
        if not hasattr(self, "coef_"):
            raise NotFittedError("FineGray.predict called before fit")
        return predict_with_ci(self, profiles, times, level=level, method=method)

    def predict_cif(self, X_new: Any, times: Any = None, cov2_new: Any = None) -> np.ndarray:
        """Predicted cumulative incidence, as R ``predict.crr``.

        :math:`\\hat F_1(t\\mid x) = 1 - \\exp\\{-\\sum_{t_k \\le t} e^{x(t_k)'\\hat\\beta}
        \\,\\Delta\\hat\\Lambda_{10}(t_k)\\}` with the Breslow-type jumps
        :math:`\\Delta\\hat\\Lambda_{10}(t_k) = d_k / S_0(t_k)` (``crr$bfitj``).

        Parameters
        ----------
        X_new : (m, p1) covariate profiles (the fixed covariates, in fit order).
        times : times at which to evaluate (right-continuous step function, 0 before the
            first failure); default the distinct failure times (``predict.crr``'s rows).
        cov2_new : (m, p2) values of ``cov2`` for the profiles, if the fit had ``cov2``.

        Returns
        -------
        (len(times), m) array of point estimates; :meth:`predict` adds SEs and CIs.
        """
        if not hasattr(self, "coef_"):
            raise NotFittedError("FineGray.predict_cif called before fit")
        p1 = self.n_fixed_
        Xn = np.atleast_2d(np.asarray(X_new, dtype=float))
        if Xn.shape[1] != p1:
            raise InputError(f"X_new must have {p1} columns", column="X_new")
        lp = Xn @ self.coef_[:p1]  # (m,)
        lin = np.broadcast_to(lp, (self.uftime_.size, lp.size)).copy()
        if self.tfs_.shape[1]:
            if cov2_new is None:
                raise InputError("the fit has cov2: give cov2_new", column="cov2_new")
            C2 = np.atleast_2d(np.asarray(cov2_new, dtype=float))
            lin += self.tfs_ @ (C2 * self.coef_[p1:]).T
        with np.errstate(over="ignore"):
            cumhaz = np.cumsum(np.exp(lin) * self.bfitj_[:, None], axis=0)
        cif = 1 - np.exp(-cumhaz)
        if times is None:
            return cif
        t = np.atleast_1d(np.asarray(times, dtype=float))
        idx = np.searchsorted(self.uftime_, t, side="right") - 1
        out = np.where(idx[:, None] >= 0, cif[np.maximum(idx, 0)], 0.0)
        return out
