# Pattern: the dropout setting is a tuple in a known dict; the `else:` branch of
# isinstance(rate, (list, tuple)) cannot run, yet it holds TimeDistributed(Dropout(rate)).
# From manifest: UKPLab/emnlp2017-bilstm-cnn-crf neuralnets/BiLSTM.py.
from keras.layers import LSTM, Bidirectional, Dense, Dropout, Input, TimeDistributed
from keras.models import Model

params = {"dropout": (0.5, 0.5), "sizes": (100,)}
inp = Input(shape=(50, 32))
x = inp
for size in params["sizes"]:
    if isinstance(params["dropout"], (list, tuple)):
        x = Bidirectional(LSTM(size, return_sequences=True, dropout=params["dropout"][0],
                               recurrent_dropout=params["dropout"][1]))(x)
    else:
        x = Bidirectional(LSTM(size, return_sequences=True))(x)
        x = TimeDistributed(Dropout(params["dropout"]))(x)
model = Model(inp, Dense(9)(x))
