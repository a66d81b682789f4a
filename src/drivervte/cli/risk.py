"""``drivervte risk``: a VTE risk score for one patient (options) or a table (FILE).

One patient: ``drivervte risk --score khorana --site lung --platelets 380 --hb 9.8
--leukocytes 12 --bmi 36 [--esa] [--gene ALK] [--json]``. Plain numbers are in the
derivation paper's units (platelets and leukocytes 10^9/L, haemoglobin g/dL, BMI kg/m²,
D-dimer µg/mL FEU, soluble P-selectin ng/mL); other units need a suffix (``--hb 98g/L``).
Other scores: ``--score compass_cat --chemo anthracycline --months-since-diagnosis 3 --cvc
--stage metastatic --cv-risk-factors 2 --no-hospitalization --no-prior-vte --platelets 400``;
``--score onkotev`` (the Khorana options plus ``--stage``, ``--vascular-compression``,
``--prior-vte``); ``--score li2021 --ecog 2 --egfr-mutation --neutrophils 8 --hb 110g/L --cea
6 --ddimer 1500ng/mL``. ``--json`` prints :class:`drivervte.scores.assess.RiskAssessment.to_dict` (keys ``score,
points, points_range, group, items, missing, risk, gene_adjusted, guidance, disclaimer``).

A table: ``drivervte risk FILE --score khorana [--column ITEM=COL] [--unit ITEM=UNIT]
[--gene-column COL] [--out FILE] [--json]``: every row out, with the score columns added
(:func:`drivervte.scores.table.score_table`).

Research software, not a medical device. Bad input exits with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drivervte import DISCLAIMER
from drivervte.cli._common import handles_input_errors, out_console, print_json
from drivervte.errors import InputError

if TYPE_CHECKING:  # pandas loads inside the command (start-up time)
    import pandas as pd


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        if "=" not in v:
            raise InputError(f"'{v}' is not ITEM=VALUE", column=option)
        k, val = v.split("=", 1)
        out[k.strip()] = val.strip()
    return out


def _read(path: Path) -> pd.DataFrame:
    from drivervte.survival.cohort import read_table

    if not path.exists():
        raise InputError(f"file not found: {path}", column="FILE")
    return read_table(path)


@handles_input_errors
def risk_cmd(
    file: Annotated[Path | None, typer.Argument(help="A table of patients (CSV/Parquet).",
                                                show_default=False)] = None,
    score: Annotated[str, typer.Option(
        "--score", help="khorana | vienna_cats | compass_cat | onkotev | protecht | conko | "
                        "li2021")] = "khorana",
    site: Annotated[str | None, typer.Option("--site", help="Tumour site, e.g. lung.")] = None,
    platelets: Annotated[str | None, typer.Option(
        "--platelets", help="x10^9/L (or with a unit, e.g. 380000/uL).")] = None,
    hb: Annotated[str | None, typer.Option("--hb", help="g/dL (or e.g. 98g/L).")] = None,
    leukocytes: Annotated[str | None, typer.Option("--leukocytes", help="x10^9/L.")] = None,
    bmi: Annotated[str | None, typer.Option("--bmi", help="kg/m2.")] = None,
    ddimer: Annotated[str | None, typer.Option("--ddimer", help="ug/mL FEU (Vienna CATS).")]
    = None,
    sp_selectin: Annotated[str | None, typer.Option(
        "--sp-selectin", help="Soluble P-selectin, ng/mL (Vienna CATS).")] = None,
    esa: Annotated[bool | None, typer.Option(
        "--esa/--no-esa", help="Erythropoiesis-stimulating agent use (default: not given, "
                               "taken as no, with a note).")] = None,
    chemo: Annotated[str | None, typer.Option(
        "--chemo", help="Systemic therapy classes, comma-separated: anthracycline, "
                        "antihormonal, cisplatin, carboplatin, oxaliplatin, platinum, "
                        "gemcitabine, taxane, pemetrexed, "
                        "immunotherapy, tki, other, none (COMPASS-CAT, PROTECHT).")] = None,
    months_since_diagnosis: Annotated[str | None, typer.Option(
        "--months-since-diagnosis", help="Months since cancer diagnosis (or e.g. 2years) "
                                         "(COMPASS-CAT).")] = None,
    cvc: Annotated[bool | None, typer.Option(
        "--cvc/--no-cvc", help="Central venous catheter (COMPASS-CAT).")] = None,
    stage: Annotated[str | None, typer.Option(
        "--stage", help="localized | locally_advanced | metastatic (COMPASS-CAT, "
                        "ONKOTEV).")] = None,
    cv_risk_factors: Annotated[str | None, typer.Option(
        "--cv-risk-factors", help="Number (0-7) of: peripheral artery disease, ischaemic "
                                  "stroke, coronary artery disease, hypertension, "
                                  "hyperlipidaemia, diabetes, obesity (COMPASS-CAT).")] = None,
    hospitalization: Annotated[bool | None, typer.Option(
        "--hospitalization/--no-hospitalization",
        help="Recent hospitalisation for acute medical illness (COMPASS-CAT).")] = None,
    prior_vte: Annotated[bool | None, typer.Option(
        "--prior-vte/--no-prior-vte", help="Personal history of VTE (COMPASS-CAT, "
                                            "ONKOTEV).")] = None,
    vascular_compression: Annotated[bool | None, typer.Option(
        "--vascular-compression/--no-vascular-compression",
        help="Vascular or lymphatic compression by the tumour (ONKOTEV).")] = None,
    ecog: Annotated[str | None, typer.Option("--ecog", help="ECOG 0-4 (CONKO, Li 2021).")] \
    = None,
    egfr_mutation: Annotated[bool | None, typer.Option(
        "--egfr-mutation/--no-egfr-mutation", help="EGFR-mutant NSCLC (Li 2021).")] = None,
    neutrophils: Annotated[str | None, typer.Option(
        "--neutrophils", help="x10^9/L (Li 2021).")] = None,
    cea: Annotated[str | None, typer.Option("--cea", help="CEA, ng/mL (Li 2021).")] = None,
    gene: Annotated[str | None, typer.Option(
        "--gene", help="EGFR | ALK | ROS1 | KRAS: add the gene-adjusted risk.")] = None,
    baseline_risk: Annotated[float | None, typer.Option(
        "--baseline-risk", help="Use this baseline absolute risk (0-1) for the gene "
                                "adjustment instead of the published group risk.")] = None,
    column: Annotated[list[str] | None, typer.Option(
        "--column", help="ITEM=COL: the table column holding an item.")] = None,
    unit: Annotated[list[str] | None, typer.Option(
        "--unit", help="ITEM=UNIT: the unit of a table column's plain numbers.")] = None,
    gene_column: Annotated[str | None, typer.Option("--gene-column")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the scored table (CSV).")]
    = None,
    db: Annotated[Path | None, typer.Option("--db", help="Evidence store (for --gene).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """VTE risk score for one patient (options) or for every row of FILE."""
    from drivervte.scores import assess, score_table

    if file is not None:
        singles = {"--site": site, "--platelets": platelets, "--hb": hb,
                   "--leukocytes": leukocytes, "--bmi": bmi, "--gene": gene, "--chemo": chemo,
                   "--months-since-diagnosis": months_since_diagnosis, "--stage": stage,
                   "--cv-risk-factors": cv_risk_factors, "--ecog": ecog,
                   "--neutrophils": neutrophils, "--cea": cea, "--cvc": cvc,
                   "--hospitalization": hospitalization, "--prior-vte": prior_vte,
                   "--vascular-compression": vascular_compression,
                   "--egfr-mutation": egfr_mutation}
        given = [k for k, v in singles.items() if v is not None]
        if given:
            raise InputError("give either FILE or the one-patient options, not both",
                             column=given[0])
        table = score_table(_read(file), score, column_map=_pairs(column, "--column"),
                            units=_pairs(unit, "--unit"), gene_column=gene_column, db=db)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(out, index=False)
        if json_out:
            print_json({"score": score, "rows": table.astype(object).where(table.notna(), None)
                        .to_dict(orient="records"), "disclaimer": DISCLAIMER})
        else:
            out_console.print(table.to_string(index=False), markup=False)
            out_console.print(DISCLAIMER, markup=False)
        return
    raw = {"site": site, "platelets": platelets, "hb": hb, "esa": esa,
           "leukocytes": leukocytes, "bmi": bmi}
    if ddimer is not None or sp_selectin is not None or score.lower() in (
            "vienna_cats", "vienna", "cats"):
        raw.update(ddimer=ddimer, sp_selectin=sp_selectin)
    others = {"chemo": chemo, "months_since_diagnosis": months_since_diagnosis, "cvc": cvc,
              "stage": stage, "cv_risk_factors": cv_risk_factors,
              "hospitalization": hospitalization, "prior_vte": prior_vte,
              "vascular_compression": vascular_compression, "ecog": ecog,
              "egfr_mutation": egfr_mutation, "neutrophils": neutrophils, "cea": cea}
    raw.update({k: v for k, v in others.items() if v is not None})
    try:
        res = assess(score, gene=gene, db=db, baseline_risk=baseline_risk, **raw)
    except InputError as exc:  # name the command-line option, not the item
        opt = None if exc.column is None else "--" + exc.column.replace("_", "-")
        raise InputError(exc.reason, column=opt) from None
    if json_out:
        print_json(res.to_dict())
    else:
        out_console.print(res.summary(), markup=False)


def register(app: typer.Typer) -> None:
    app.command("risk")(risk_cmd)
