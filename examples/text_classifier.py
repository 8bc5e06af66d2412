"""A sentiment classifier over padded word sequences (tf.keras style)."""
import tensorflow as tf

L = tf.keras.layers

VOCAB = 20_000
MAXLEN = 200


def build_classifier(embed_dim=128, units=64):
    inputs = tf.keras.Input(shape=(MAXLEN,), dtype="int32")
    x = L.Embedding(VOCAB, embed_dim, mask_zero=True)(inputs)
    x = L.Dropout(0.25)(x)
    x = L.Bidirectional(L.LSTM(units, dropout=0.2, recurrent_dropout=0.2))(x)
    x = L.Dense(64, activation="relu")(x)
    x = L.Dropout(0.5)(x)
    x = L.BatchNormalization()(x)
    outputs = L.Dense(1, activation="sigmoid")(x)
    return tf.keras.Model(inputs, outputs)


model = build_classifier()
