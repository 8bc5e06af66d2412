# Pattern: CuDNNGRU only ever used inside Bidirectional, in a builder function (Kaggle
# toxic-comment solutions). From manifest: PavelOstyakov/toxic toxic/model.py (also
# zake7749/DeepToxic model_zoo.py, Hynn01 kernels shujian_*, artgor_*, thousandvoices_*).
from keras.layers import Bidirectional, CuDNNGRU, Dense, Dropout, Embedding, Input
from keras.models import Model


def build(vocab, units):
    inp = Input(shape=(100,))
    x = Embedding(vocab, 64)(inp)
    x = Bidirectional(CuDNNGRU(units, return_sequences=True))(x)
    x = Dropout(0.2)(x)
    x = Bidirectional(CuDNNGRU(units))(x)
    return Model(inp, Dense(6, activation="sigmoid")(x))
