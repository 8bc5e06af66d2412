"""A stock-price style forecaster: 60 days of 5 features (open, high, low, close, volume)."""
from keras import Sequential
from keras import layers

WINDOW, FEATURES = 60, 5

model = Sequential()
model.add(layers.Input(shape=(WINDOW, FEATURES)))
model.add(layers.LSTM(50, return_sequences=True))
model.add(layers.Dropout(0.2))
model.add(layers.LSTM(50, return_sequences=True, dropout=0.1))
model.add(layers.Dropout(0.2, noise_shape=(1, WINDOW, 1)))
model.add(layers.LSTM(50))
model.add(layers.Dropout(0.8))
model.add(layers.Dense(1))
model.add(layers.Dropout(0.1))
model.compile(optimizer="adam", loss="mse")
