# Pattern: a loop over a known list of sizes builds the same layer call on one source line
# twice. From manifest: UKPLab/emnlp2017-bilstm-cnn-crf neuralnets/BiLSTM.py (LSTM-Size).
from keras.layers import LSTM, Bidirectional, Dense, Input
from keras.models import Model

inp = Input(shape=(50, 32))
x = inp
for size in [100, 100]:
    x = Bidirectional(LSTM(size, return_sequences=True, dropout=0.25, recurrent_dropout=0.25))(x)
model = Model(inp, Dense(9)(x))
