"""Entry point of the ``drivervte`` console script.

Each command lives in its own module under :mod:`drivervte.cli` and exposes
``register(app)``; add the module name to ``_COMMAND_MODULES`` to wire it in.
"""

from __future__ import annotations

import importlib

import typer

from drivervte import DISCLAIMER, __version__

app = typer.Typer(
    name="drivervte",
    help="Driver genes and VTE in NSCLC: meta-analysis, competing risks, risk scores. "
    + DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; each defines register(app: typer.Typer) -> None.
_COMMAND_MODULES: list[str] = [
    "drivervte.cli.meta",
    "drivervte.cli.risk",
    "drivervte.cli.evidence",
    "drivervte.cli.review",
    "drivervte.cli.cuminc",
    "drivervte.cli.simulate",
    "drivervte.cli.finegray",
    "drivervte.cli.cox",
    "drivervte.cli.logistic",
    "drivervte.cli.validate_score",
]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"drivervte {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """drivervte command line."""


for _name in _COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
