# Pattern: one model-building function called several times with the same arguments (per
# dataset / per fold). From manifest: titu1994/LSTM-FCN all_datasets_training.py (also
# Hynn01 christofhenkel 5-fold kernel, chen0040 resume classifiers).
from keras.layers import LSTM, Dense, Dropout, Input
from keras.models import Model


def generate_model():
    ip = Input(shape=(1, 64))
    x = LSTM(8)(ip)
    x = Dropout(0.8)(x)
    return Model(ip, Dense(3, activation="softmax")(x))


models = [generate_model() for _ in range(4)]
