from droplint.report import Severity
from droplint.rule import Invalid, Rule


class UnusedNoqa(Rule):
    """
    ## What it does
    Reports a suppression comment (`# noqa: DL101`, `# droplint: ignore[DL101]`) naming a
    droplint code or rule name that matched no finding on its line, and a `DLnnn` code that
    is not a droplint rule at all (a typo such as `DL1O1`). Emitted by the driver after the
    suppressions are matched (droplint/unused_noqa.py), like ruff's RUF100.

    Only droplint's own codes are judged: in `# noqa: DL101, E501` the `E501` belongs to
    another linter and is left alone, and a bare `# noqa` (which silences every linter) is
    never reported. Codes of rules that did not run (deselected with `--select`/`--ignore`
    or per-file-ignores) are not reported either: nothing can be said about them.

    ## Why is this bad?
    A suppression that hides nothing is noise, and it silently hides the next real finding
    on that line: after the model is fixed, a `# noqa: DL101` left behind would also hide a
    `DL101` introduced by a later edit.

    ## Fix safety
    Safe: removes the unused codes from the comment, or the whole comment when none is left.
    Other linters' codes and any text after the comment are kept.

    ## References
    - [ruff RUF100 unused-noqa](https://docs.astral.sh/ruff/rules/unused-noqa/)
    """

    code = "DL910"
    name = "unused-noqa"
    severity = Severity.WARNING
    fix_safety = "safe"
    summary = "a `# noqa` / `# droplint: ignore[...]` names a droplint code that matched nothing"
    BAD = (
        Invalid(
            "from keras import layers\nlayer = layers.Dropout(0.3)  # noqa: DL404\n",
            line=2,
            message="Unused suppression `# noqa: DL404` (unused: `DL404`)",
            fixed=(
                "from keras import layers\n"
                "layer = layers.Dropout(0.3)\n"
            )),
        Invalid(
            "from keras import layers\nlayer = layers.Dropout(0.3)  # droplint: ignore[DL1O1]\n",
            line=2,
            message="Unused suppression `# droplint: ignore[DL1O1]` (unknown: `DL1O1`)",
            fixed=(
                "from keras import layers\n"
                "layer = layers.Dropout(0.3)\n"
            )),
    )
    GOOD = (
        "from keras import layers\nlayer = layers.Dropout(0.3)\n",
        "from keras import layers\nlayer = layers.Dropout(1.0)  # noqa: DL404\n",
        "from keras import layers\nlayer = layers.Dropout(0.3)  # noqa: E501\n",
        "from keras import layers\nlayer = layers.Dropout(0.3)  # noqa\n",
    )
    # The finding is made by the pipeline (droplint.unused_noqa), not from the graph.
