# Pattern: the dropout rate is a function parameter; the tensor's rank is known. What is
# dropped does not depend on the rate. From manifest: PavelOstyakov/toxic toxic/model.py
# (also GoogleCloudPlatform/professional-services trainer/model.py, Hynn01 lystdo kernel).
from keras.layers import GRU, LSTM, Dense, Dropout, Input
from keras.models import Model


def build(dropout_rate, lstm_rate):
    inp = Input(shape=(40, 16))
    x = GRU(32, return_sequences=True)(inp)
    x = Dropout(dropout_rate)(x)
    x = LSTM(16, dropout=lstm_rate)(x)
    return Model(inp, Dense(1)(x))
