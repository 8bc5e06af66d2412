# Pattern: a Keras 1 helper stacks Bidirectional LSTMs with dropout_W/dropout_U in a loop over
# rnn_layers (default 3 in the caller), the first layer reading the input, the others the
# previous layer; the caller is never called in the file. From manifest:
# kootenpv/neural_complete emanjavacas eme-tagging rnn_tagger.py (also
# cbaziotis/datastories-semeval2017-task4 models/nn_models.py, get_RNN in a layer loop).
from keras.layers import LSTM, Bidirectional, Dense, Input, TimeDistributed
from keras.models import Model


def bilstm_layer(input_layer, lstm_dims, rnn_layers, dropout):
    lstm = None
    for i in range(rnn_layers):
        if i == 0:
            nested = input_layer
        else:
            nested = lstm
        wrapped = LSTM(output_dim=lstm_dims, return_sequences=True,
                       dropout_W=dropout, dropout_U=dropout, name="bilstm_%d" % i)
        lstm = Bidirectional(wrapped, merge_mode="sum")(nested)
    return lstm


def bilstm_tagger(n_tags, maxlen, lstm_dims=150, rnn_layers=3, dropout=0.2):
    inp = Input(shape=(maxlen, 100))
    x = bilstm_layer(inp, lstm_dims, rnn_layers, dropout)
    return Model(inp, TimeDistributed(Dense(n_tags, activation="softmax"))(x))
