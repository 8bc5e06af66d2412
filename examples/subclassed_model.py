"""A subclassed sequence regressor with Monte Carlo dropout ideas and a few slips."""
import keras
import tensorflow as tf
from keras import layers


class SequenceRegressor(keras.Model):
    def __init__(self, units=32, rate=0.3):
        super().__init__()
        self.input_drop = layers.SpatialDropout1D(rate)
        self.encoder = layers.Bidirectional(
            layers.GRU(units, return_sequences=True, dropout=0.2, seed=42))
        self.mid_drop = layers.Dropout(rate)
        self.decoder = layers.LSTM(units, activation="relu")
        self.head = layers.Dense(1)

    def call(self, inputs, training=None):
        x = self.input_drop(inputs, training=training)
        x = self.encoder(x, training=training)
        x = self.mid_drop(x, training=True)  # always on: MC dropout
        x = self.decoder(x, training=None)
        x = tf.nn.dropout(x, rate=0.1)
        return self.head(x)


model = SequenceRegressor()
model.build((None, 48, 6))
