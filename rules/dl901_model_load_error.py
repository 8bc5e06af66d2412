from droplint.report import Severity
from droplint.rule import Rule


class ModelLoadError(Rule):
    """
    ## What it does
    Reports a model file that cannot be loaded: corrupt, of an unknown format, or unsafe to
    load (a `Lambda` layer or other code in it) without `--unsafe-load`.

    ## Why is this bad?
    droplint loads model files in Keras safe mode, so a file with code in it is refused and
    nothing in it runs. Its dropout sites cannot be analyzed.

    ## Fix safety
    No automatic fix. Pass `--unsafe-load` only for files you trust.

    ## References
    - [keras.saving.load_model](https://keras.io/api/models/model_saving_apis/model_saving_and_loading/)
    """

    code = "DL901"
    name = "model-load-error"
    severity = Severity.ERROR
    summary = "a model file cannot be loaded (corrupt, unsafe without --unsafe-load, unknown format)"
    loader_only = True
