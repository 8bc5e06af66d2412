# Pattern: TimeDistributed(Dropout(r), name=...) on a sequence; the wrapper adds nothing (DL105)
# but carries the layer's name, which later code may look up. From manifest:
# UKPLab/emnlp2017-bilstm-cnn-crf neuralnets/BiLSTM.py (name='shared_dropout_...').
from keras.layers import LSTM, Dense, Dropout, Input, TimeDistributed
from keras.models import Model

inp = Input(shape=(20, 8))
x = LSTM(16, return_sequences=True)(inp)
x = TimeDistributed(Dropout(0.5), name="shared_dropout")(x)
model = Model(inp, TimeDistributed(Dense(3))(x))
