"""The model from the question droplint grew from ("Dropout layer before or after LSTM?"):
a multivariate time-series forecaster, 30 timesteps of 8 features, written in 2019 style."""
from keras.layers import CuDNNLSTM, Dense, Dropout, Input
from keras.models import Model

shape = (30, 8)  # (timesteps, features)

ipt = Input(shape=(shape[0], shape[1]))
x = Dropout(0.3)(ipt)  # Dropout before LSTM: what does it drop?
x = CuDNNLSTM(10, return_sequences=False)(x)
out = Dense(1, activation="relu")(x)
model = Model(ipt, out)
