from droplint.graph import NOISE_KINDS
from droplint.report import Severity
from droplint.rule import Invalid, Rule

from ._findings import once_per_message
from ._graph import layer_sites, producer
from ._values import is_number
from ._words import layer_call, pct

# Element-wise layers that leave what the dropout did visible in the output (a zero stays a
# fixed value per position): a dropout followed only by these is still on the output.
TAIL_KINDS = frozenset({"Activation", "Softmax", "ReLU", "LeakyReLU", "PReLU", "ELU"})


class DropoutOnOutput(Rule):
    """
    ## What it does
    Flags a dropout layer (or GaussianNoise / GaussianDropout) that is the final output of the
    outermost model: the last layer of a Sequential, or the tensor passed as `outputs=`, also
    when only element-wise activations follow it (`Dense(...)`, `Dropout(0.3)`,
    `Activation('softmax')`: the softmax of dropped logits is still a corrupted output). A
    sub-model whose output is a dropout, used as a layer inside a bigger model, is fine.

    ## Why is this bad?
    In training the layer zeroes (or perturbs) a fraction of the **predictions** themselves
    and rescales the rest before the loss sees them, so the loss is computed on corrupted
    outputs; at inference it does nothing. The model learns to predict through random
    deletions of its own answers. Dropout belongs before the last `Dense`, on hidden
    activations.

    ## Fix safety
    No automatic fix: moving the layer before the output layer changes the model.

    ## References
    - [Srivastava et al., Dropout (JMLR 2014)](https://jmlr.org/papers/v15/srivastava14a.html)
    - [keras.layers.Dropout](https://keras.io/api/layers/regularization_layers/dropout/)
    """

    code = "DL401"
    name = "dropout-on-output"
    severity = Severity.WARNING
    summary = "a dropout layer is the final output of the outermost model"
    BAD = (
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input(shape=(30, 8)),\n"
            "    keras.layers.LSTM(32),\n"
            "    keras.layers.Dense(1),\n"
            "    keras.layers.Dropout(0.2),\n"
            "])\n",
            line=7,
            message=("Dropout(0.2) is the model's output after Dense: it zeroes 20% of the "
                     "predictions in training")),
        Invalid(
            "import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "x = layers.LSTM(32)(inputs)\n"
            "x = layers.Dense(4, activation='softmax')(x)\n"
            "outputs = layers.Dropout(0.5)(x)\n"
            "model = keras.Model(inputs, outputs)\n",
            line=7,
            message=("Dropout(0.5) is the model's output after Dense: it zeroes 50% of the "
                     "predictions in training")),
    )
    GOOD = (
        "import keras\n\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(30, 8)),\n"
        "    keras.layers.LSTM(32),\n"
        "    keras.layers.Dropout(0.2),\n"
        "    keras.layers.Dense(1),\n"
        "])\n",
    )

    @once_per_message
    def check(self, ctx):
        for site in layer_sites(ctx):
            node = site.node
            tail = _tail_to_output(ctx.graph, node)
            if tail is None:
                continue
            layer = node.layer
            src = producer(node)
            after = f" after {src.kind}" if src is not None and src.kind != "InputLayer" else ""
            core = layer.inner if layer.kind == "TimeDistributed" and layer.inner else layer
            rate = core.args.get("rate")
            preds = "the predictions" if not tail else \
                f"the values {_name(tail[-1])} turns into predictions"
            brief = "the predictions" if not tail else f"the inputs of {_name(tail[-1])}"
            if core.kind in NOISE_KINDS:
                short = f"it adds noise to {brief} in training"
                effect = f"in training it adds noise to {preds} before the loss"
            elif is_number(rate) and 0 < rate < 1:
                short = f"it zeroes {pct(rate)} of {brief} in training"
                effect = (f"in training it zeroes {pct(rate)} of {preds} and scales the "
                          f"rest by 1/(1-{rate:g}) before the loss")
            else:
                short = f"it zeroes part of {brief} in training"
                effect = f"in training it zeroes part of {preds} before the loss"
            if src is not None and src.kind == "Dense":
                advice = "Move it before the last Dense (on hidden activations)."
            else:
                advice = ("Put the output layer after it (it then acts on hidden activations), "
                          "or remove it.")
            then = "".join(f", then {_name(n)}" for n in tail)
            subject = "the model's output" if not tail else "on the model's output"
            message = f"{layer_call(layer)} is {subject}{after}{then}: {short}"
            help = f"{effect[0].upper()}{effect[1:]}; at inference it does nothing. {advice}"
            yield ctx.report(self, node, message, site=site, help=help)


def _tail_to_output(graph, node) -> list | None:
    """The element-wise layers between `node` and the model's output ([] when `node` is the
    output); None when its output feeds anything else."""
    tail = []
    current = node
    while not current.model_output:
        consumers = graph.consumers(current)
        if len(consumers) != 1 or consumers[0].kind not in TAIL_KINDS:
            return None
        current = consumers[0]
        tail.append(current)
    return tail


def _name(node) -> str:
    activation = node.layer.args.get("activation")
    if node.kind == "Activation" and isinstance(activation, str):
        return f"Activation({activation!r})"
    return f"{node.kind}"
