"""What the source loader knows about Keras by name: layer classes and their aliases,
positional parameters, call-time parameters, and which dotted import paths are Keras."""
from __future__ import annotations

LAYER_NAMES = frozenset("""
Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianDropout AlphaDropout
GaussianNoise LSTM GRU SimpleRNN RNN ConvLSTM1D ConvLSTM2D ConvLSTM3D CuDNNLSTM CuDNNGRU
LSTMCell GRUCell SimpleRNNCell StackedRNNCells Bidirectional TimeDistributed Dense
EinsumDense Embedding Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose
SeparableConv1D SeparableConv2D DepthwiseConv1D DepthwiseConv2D MaxPooling1D MaxPooling2D
MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D GlobalMaxPooling1D
GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D
GlobalAveragePooling3D Flatten Reshape RepeatVector Permute Concatenate Add Subtract Multiply
Average Maximum Minimum Dot Masking BatchNormalization LayerNormalization GroupNormalization
UnitNormalization Normalization Activation ReLU LeakyReLU PReLU ELU Softmax ThresholdedReLU
Lambda InputLayer Attention AdditiveAttention MultiHeadAttention ActivityRegularization
Cropping1D UpSampling1D ZeroPadding1D Identity TextVectorization StringLookup IntegerLookup
CategoryEncoding Rescaling Resizing
""".split())
ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D", "Convolution2DTranspose": "Conv2DTranspose",
    "Deconvolution2D": "Conv2DTranspose", "SeparableConvolution2D": "SeparableConv2D",
    "LSTMV2": "LSTM", "GRUV2": "GRU", "LSTMV1": "LSTM", "GRUV1": "GRU",
}
MODEL_NAMES = {"Sequential": "Sequential", "Model": "Model", "Functional": "Model"}
INPUT_NAMES = frozenset({"Input"})
WRAPPERS = frozenset({"Bidirectional", "TimeDistributed"})
STAR_NAMES = LAYER_NAMES | set(ALIASES) | {"Input", "Layer", "Sequential", "Model"}

# Positional parameters: the prefix common to Keras 3 and tf.keras 2 (checked by a test
# against the installed classes); later positions are not mapped.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "Dropout": ("rate", "noise_shape", "seed"),
    "AlphaDropout": ("rate", "noise_shape", "seed"),
    "SpatialDropout1D": ("rate",),
    "SpatialDropout2D": ("rate", "data_format"),
    "SpatialDropout3D": ("rate", "data_format"),
    "GaussianDropout": ("rate", "seed"),
    "GaussianNoise": ("stddev", "seed"),
    "LSTM": ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
             "recurrent_initializer", "bias_initializer", "unit_forget_bias",
             "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
             "activity_regularizer", "kernel_constraint", "recurrent_constraint",
             "bias_constraint", "dropout", "recurrent_dropout"),
    "GRU": ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
            "recurrent_initializer", "bias_initializer", "kernel_regularizer",
            "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
            "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
            "recurrent_dropout"),
    "SimpleRNN": ("units", "activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                  "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                  "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout"),
    "CuDNNLSTM": ("units",), "CuDNNGRU": ("units",),
    "LSTMCell": ("units", "activation", "recurrent_activation"),
    "GRUCell": ("units", "activation", "recurrent_activation"),
    "SimpleRNNCell": ("units", "activation"),
    "RNN": ("cell", "return_sequences", "return_state", "go_backwards", "stateful", "unroll"),
    "Dense": ("units", "activation", "use_bias"),
    "MaxoutDense": ("output_dim", "nb_feature"),  # Keras 1
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "Conv3D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "ConvLSTM1D": ("filters", "kernel_size", "strides", "padding", "data_format",
                   "dilation_rate", "activation", "recurrent_activation"),
    "ConvLSTM2D": ("filters", "kernel_size", "strides", "padding", "data_format",
                   "dilation_rate", "activation", "recurrent_activation"),
    "ConvLSTM3D": ("filters", "kernel_size", "strides", "padding", "data_format",
                   "dilation_rate", "activation", "recurrent_activation"),
    "Embedding": ("input_dim", "output_dim"),
    "Reshape": ("target_shape",),
    "Masking": ("mask_value",),
    "Bidirectional": ("layer", "merge_mode"),
    "TimeDistributed": ("layer",),
    "Activation": ("activation",),
    "MaxPooling1D": ("pool_size", "strides", "padding", "data_format"),
    "MaxPooling2D": ("pool_size", "strides", "padding", "data_format"),
    "MaxPooling3D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling1D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling2D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling3D": ("pool_size", "strides", "padding", "data_format"),
    "GlobalMaxPooling1D": ("data_format",), "GlobalAveragePooling1D": ("data_format",),
    "GlobalMaxPooling2D": ("data_format",), "GlobalAveragePooling2D": ("data_format",),
    "Concatenate": ("axis",),
    "RepeatVector": ("n",),
    "Permute": ("dims",),
    "Flatten": ("data_format",),
    "Softmax": ("axis",),
    "ELU": ("alpha",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "BatchNormalization": ("axis", "momentum", "epsilon"),
    "LayerNormalization": ("axis", "epsilon"),
    "Lambda": ("function", "output_shape"),
    "InputLayer": (),
    "Input": ("shape", "batch_size"),
    "MultiHeadAttention": ("num_heads", "key_dim", "value_dim", "dropout"),
}
# Keras 1 dropout arguments (rejected by Keras 3 and tf.keras 2; DL309) -> their modern name:
# the loader also binds the modern name, so that the site is explained as the code meant it.
# Embedding(dropout=) has no modern equivalent (Keras 2 ignored it with a warning).
_RNN_KERAS1 = (("dropout_W", "dropout"), ("dropout_U", "recurrent_dropout"))
KERAS1_ARGUMENTS = {kind: _RNN_KERAS1 for kind in ("LSTM", "GRU", "SimpleRNN")}
KERAS1_ARGUMENTS.update({kind: (("p", "rate"),) for kind in (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout")})
# Keras 1 names of other arguments, read with their modern meaning (no rule of their own):
# `LSTM(output_dim=150)`, `Dense(output_dim=10)` are Keras 2's `units`.
KERAS1_RENAMED = {kind: (("output_dim", "units"),) for kind in (
    "LSTM", "GRU", "SimpleRNN", "Dense")}

# Arguments whose value matters to rules: unknown (not default) when `**kwargs` hides them.
SENSITIVE = {
    "dropout_layer": ("rate", "noise_shape", "seed", "stddev"),
    "rnn": ("dropout", "recurrent_dropout", "return_sequences", "return_state", "seed",
            "activation", "recurrent_activation", "unroll", "use_bias", "reset_after",
            "implementation", "use_cudnn"),
}
# Positional parameters of `layer(inputs, ...)` after the inputs.
_RNN_CALL = ("initial_state", "mask", "training")
CALL_PARAMS = {kind: _RNN_CALL for kind in ("LSTM", "GRU", "SimpleRNN", "RNN", "CuDNNLSTM",
                                            "CuDNNGRU", "Bidirectional", "ConvLSTM1D",
                                            "ConvLSTM2D", "ConvLSTM3D")}
CALL_PARAMS.update({kind: ("training", "mask") for kind in (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
    "AlphaDropout", "GaussianNoise", "BatchNormalization", "TimeDistributed", "Dense")})
MULTI_INPUT = frozenset({"MultiHeadAttention", "GroupedQueryAttention"})  # (query, value, ...)
# keras.layers.concatenate(...) and friends: build the layer and apply it at once.
MERGE_FUNCTIONS = {"concatenate": "Concatenate", "add": "Add", "subtract": "Subtract",
                   "multiply": "Multiply", "average": "Average", "maximum": "Maximum",
                   "minimum": "Minimum", "dot": "Dot", "merge": "Merge"}  # Keras 1 merge(mode=)
STATE_COUNT = {"LSTM": 2, "CuDNNLSTM": 2, "GRU": 1, "CuDNNGRU": 1, "SimpleRNN": 1,
               "LSTMCell": 2, "GRUCell": 1, "SimpleRNNCell": 1}


def keras_api(path: str) -> str | None:
    """The Keras flavour a dotted import path belongs to, or None if it is not Keras."""
    head, _, rest = path.partition(".")
    if head == "keras":
        return "keras"
    if head == "tf_keras":
        return "tf_keras"
    if head == "tensorflow":
        parts = rest.split(".")[:4]
        if "keras" in parts:
            return "tf.keras"
    return None


def classify(path: str) -> tuple[str, str, str] | None:
    """(category, name, api) for a Keras dotted path: category is layer, input, model,
    dropout_fn, guard or base; None when the path is not something we model."""
    api = keras_api(path)
    last = path.rpartition(".")[2]
    if api is None:
        if path.startswith("tensorflow."):
            if last == "dropout" and path.endswith("nn.dropout"):
                return ("dropout_fn", "tf." + path[len("tensorflow."):], "tf.keras")
            if last in ("cond", "smart_cond"):
                return ("guard", last, "tf.keras")
        return None
    if last in ALIASES:
        last = ALIASES[last]
    if last in LAYER_NAMES:
        return ("layer", last, api)
    if last in INPUT_NAMES:
        return ("input", "InputLayer", api)
    if last in MODEL_NAMES:
        return ("model", MODEL_NAMES[last], api)
    if last == "Layer":
        return ("base", "Layer", api)
    if last in MERGE_FUNCTIONS and ".layers" in path:
        return ("merge_fn", MERGE_FUNCTIONS[last], api)
    if last == "dropout" and (".backend." in path or ".random." in path):
        shown = "tf." + path[len("tensorflow."):] if path.startswith("tensorflow.") else path
        return ("dropout_fn", shown, api)
    if last in ("cond", "smart_cond", "in_train_phase", "switch"):
        return ("guard", last, api)
    if ".layers." in path and last[:1].isupper():
        return ("layer", last, api)
    return None
