"""The network description that both loaders produce and every rule reads.

Plain data only: no libcst nodes, no Keras objects. A loader builds a :class:`Graph`
(one per file or per built model); rules and the mask semantics never see anything else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

Shape = tuple  # tuple[int | None, ...]: None for the batch axis and sizes unknown statically


class _Unknown:
    """A value the loader could not resolve statically (rendered as null, never guessed)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self):
        return (_Unknown, ())


UNKNOWN: Any = _Unknown()


def known(value: Any) -> bool:
    return value is not UNKNOWN


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: 1-based line and column, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(slots=True)
class Origin:
    """Where a layer came from: a source range, or a layer name in a built model."""

    path: str
    span: Span | None = None  # the constructor call, e.g. `layers.Dropout(0.3)`
    name_span: Span | None = None  # the class name inside it (`Dropout`), for renaming fixes
    arg_spans: dict[str, Span] = field(default_factory=dict)  # keyword -> span of `kw=value`
    # keyword -> span of `kw=value` plus one adjacent comma and whitespace: deleting it leaves
    # valid, tidy code (`Dropout(0.3, noise_shape=s)` -> `Dropout(0.3)`)
    arg_removal_spans: dict[str, Span] = field(default_factory=dict)
    arg_value_spans: dict[str, Span] = field(default_factory=dict)  # keyword -> span of `value`
    inner_span: Span | None = None  # wrappers: the wrapped layer's call inside `Wrapper(...)`
    callee_span: Span | None = None  # the callee as written: `tf.compat.v1.keras.layers.CuDNNGRU`
    callee: str | None = None  # its dotted text (None when not a dotted name)
    layer_name: str | None = None  # built models only


# Canonical Keras class names by family. Loaders map aliases (CuDNNLSTM stays CuDNNLSTM).
DROPOUT_KINDS = frozenset(
    {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
     "GaussianDropout", "AlphaDropout", "GaussianNoise"}
)
SPATIAL_DROPOUT_KINDS = {"SpatialDropout1D": 1, "SpatialDropout2D": 2, "SpatialDropout3D": 3}
NOISE_KINDS = frozenset({"GaussianDropout", "GaussianNoise"})
RNN_KINDS = frozenset(
    {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
     "CuDNNLSTM", "CuDNNGRU"}
)
CELL_KINDS = frozenset({"LSTMCell", "GRUCell", "SimpleRNNCell"})  # RNN(cell): inner = the cell
CUDNN_KINDS = frozenset({"LSTM", "GRU"})  # layers that pick the cuDNN kernel themselves
WRAPPER_KINDS = frozenset({"Bidirectional", "TimeDistributed"})
SHAPE_PRESERVING_KINDS = frozenset(
    {"Masking", "BatchNormalization", "LayerNormalization", "Activation", "LeakyReLU",
     "ReLU", "PReLU", "ELU", "Softmax"}
) | DROPOUT_KINDS


@dataclass(slots=True, eq=False)
class Layer:
    """A layer object: its Keras class, constructor arguments as plain values, and origin."""

    kind: str  # Keras class name: "Dropout", "LSTM", "Bidirectional", "Dense", "InputLayer", ...
    args: dict[str, Any]  # positional arguments mapped to their keyword; UNKNOWN where unresolved
    origin: Origin
    inner: Layer | None = None  # the wrapped layer of Bidirectional / TimeDistributed
    api: str = "keras"  # import root: "keras", "tf.keras" or "tf_keras"

    def arg(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    @property
    def core(self) -> Layer:
        """The innermost wrapped layer (the layer itself when not a wrapper)."""
        layer = self
        while layer.inner is not None:
            layer = layer.inner
        return layer

    @property
    def is_dropout(self) -> bool:
        return self.kind in DROPOUT_KINDS

    @property
    def is_recurrent(self) -> bool:
        return self.core.kind in RNN_KINDS | CELL_KINDS and \
            self.kind in RNN_KINDS | {"Bidirectional"}


@dataclass(slots=True, eq=False)
class Node:
    """One application of a layer to its inputs (a layer called twice is two nodes)."""

    layer: Layer
    inputs: list[Node] = field(default_factory=list)
    input_shape: Shape | None = None  # shape of the first input; None when the rank is unknown
    output_shape: Shape | None = None
    call_args: dict[str, Any] = field(default_factory=dict)  # e.g. {"training": True}
    call_spans: dict[str, Span] = field(default_factory=dict)  # keyword -> span of `kw=value`
    context: str = "functional"  # "functional" | "sequential" | "subclassed"
    model_output: bool = False  # an output of the outermost model (DL401)
    # identical applications this node stands for: a loop or a function called several times
    # builds the same call again (the source loader's drop_copies keeps one, counted here)
    copies: int = 1
    # shape only, never an edge: the producers of this node's input in each arm of a condition
    # droplint cannot decide (`x = A()(h)` / `x = B()(h)`); the input has their common rank
    alternatives: list[Node] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.layer.kind


@dataclass(slots=True)
class FunctionCall:
    """A call of a functional dropout op (tf.nn.dropout, keras.random.dropout, K.dropout)."""

    func: str  # qualified name as written, resolved: "tf.nn.dropout"
    span: Span
    in_call: bool  # inside a subclassed layer/model's call()
    guarded: bool  # under an `if training` (or similar) guard


@dataclass(slots=True)
class ImportedName:
    """A Keras name imported by the file (`from keras.layers import Dropout`), for fixes."""

    module: str  # "keras.layers"; "" for `import tensorflow as tf` (name "tensorflow")
    name: str  # "Dropout"
    asname: str | None
    span: Span  # the name inside the import statement
    statement: Span  # the whole import statement


@dataclass(slots=True)
class Graph:
    """Everything droplint knows about the networks of one file or one built model."""

    path: str
    layers: list[Layer] = field(default_factory=list)  # every layer built, applied or not
    nodes: list[Node] = field(default_factory=list)  # applications, producers before consumers
    calls: list[FunctionCall] = field(default_factory=list)
    imports: list[ImportedName] = field(default_factory=list)
    api: str = "keras"  # dominant import root of the file / the built model's Keras
    built: bool = False  # from a built model (real shapes, layer names, no source lines)
    notes: list[str] = field(default_factory=list)  # what could not be known, in plain words
    idioms: frozenset[str] = frozenset()  # TF1 idioms in the source (loaders/source/idioms.py)
    _consumers: dict[int, list[Node]] | None = field(default=None, repr=False)

    def consumers(self, node: Node) -> list[Node]:
        """Nodes that take `node`'s output as an input."""
        if self._consumers is None:
            table: dict[int, list[Node]] = {}
            for n in self.nodes:
                for i in n.inputs:
                    table.setdefault(id(i), []).append(n)
            self._consumers = table
        return self._consumers.get(id(node), [])

    def downstream(self, node: Node, through=SHAPE_PRESERVING_KINDS) -> Iterator[Node]:
        """Nodes fed by `node` directly or through shape-preserving layers."""
        return _walk(self.consumers(node), self.consumers, through)

    def upstream(self, node: Node, through=SHAPE_PRESERVING_KINDS) -> Iterator[Node]:
        """Producers of `node`'s inputs, directly or through shape-preserving layers."""
        return _walk(node.inputs, lambda n: n.inputs, through)


def _walk(start, neighbours, through) -> Iterator[Node]:
    """Iterative (models may be 1,000s of layers deep) walk that continues only through
    nodes whose kind is in `through`; each node is yielded once."""
    seen: set[int] = set()
    stack = list(start)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        if n.kind in through:
            stack.extend(neighbours(n))
