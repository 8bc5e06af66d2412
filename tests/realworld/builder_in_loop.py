# Pattern: a builder function called once per ensemble member in a `for` loop over a known
# range, the model trained and discarded each time. From manifest: Hynn01/dslinter-experiments
# thousandvoices_simple-lstm (also christofhenkel_keras-baseline-lstm-attention-5-fold, 5 folds).
import numpy as np
from keras.layers import LSTM, Bidirectional, Dense, Embedding, GlobalMaxPooling1D, Input
from keras.layers import SpatialDropout1D
from keras.models import Model

NUM_MODELS = 2


def build_model(embedding_matrix):
    words = Input(shape=(None,))
    x = Embedding(1000, 300, weights=[embedding_matrix], trainable=False)(words)
    x = SpatialDropout1D(0.2)(x)
    x = Bidirectional(LSTM(64, return_sequences=True))(x)
    return Model(words, Dense(1, activation="sigmoid")(GlobalMaxPooling1D()(x)))


embedding_matrix = np.zeros((1000, 300))
for model_idx in range(NUM_MODELS):
    model = build_model(embedding_matrix)
