# Pattern: Concatenate of a tensor of unknown rank (a Dense on a TF-Hub layer's output) with a
# 2-D Bidirectional(LSTM) output: both inputs then have rank 2, so the Dropout after it is on
# (batch, 178). From manifest: mrdbourke/tensorflow-deep-learning
# docs/09_SkimLit_nlp_milestone_project_2.ipynb (cells 138, 172).
import tensorflow as tf
from tensorflow.keras import layers


def build(hub_layer, char_vectorizer, char_embed):
    token_inputs = layers.Input(shape=[], dtype=tf.string)
    token_out = layers.Dense(128, activation="relu")(hub_layer(token_inputs))
    char_inputs = layers.Input(shape=(1,), dtype=tf.string)
    char_out = layers.Bidirectional(layers.LSTM(25))(char_embed(char_vectorizer(char_inputs)))
    x = layers.Concatenate()([token_out, char_out])
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(200, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return tf.keras.Model([token_inputs, char_inputs], layers.Dense(5, activation="softmax")(x))
