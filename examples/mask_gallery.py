"""Four ways to drop from the same (batch, 30 timesteps, 8 features) input, and a Dropout after
the LSTM: run `droplint explain examples/mask_gallery.py` to see what each one masks."""
import keras
from keras import layers

inputs = keras.Input(shape=(30, 8))
a = layers.Dropout(0.3)(inputs)
b = layers.SpatialDropout1D(0.3)(inputs)
c = layers.Dropout(0.3, noise_shape=(None, 30, 1))(inputs)
d = layers.LSTM(10, dropout=0.3)(inputs)
e = layers.Dropout(0.3)(d)

pool = layers.GlobalAveragePooling1D
model = keras.Model(inputs, [pool()(a), pool()(b), pool()(c), layers.Dense(1)(e)])
