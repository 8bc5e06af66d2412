# Pattern: Embedding(*embedding_matrix.shape, weights=[...]) with the matrix a function
# parameter: the unpacked tuple is (input_dim, output_dim), nothing more. From manifest:
# Hynn01/dslinter-experiments thousandvoices_simple-lstm (Kaggle jigsaw kernels).
from keras.layers import LSTM, Bidirectional, Dense, Embedding, Input, SpatialDropout1D
from keras.models import Model


def build_model(embedding_matrix):
    words = Input(shape=(None,))
    x = Embedding(*embedding_matrix.shape, weights=[embedding_matrix], trainable=False)(words)
    x = SpatialDropout1D(0.2)(x)
    x = Bidirectional(LSTM(64))(x)
    return Model(words, Dense(1, activation="sigmoid")(x))
