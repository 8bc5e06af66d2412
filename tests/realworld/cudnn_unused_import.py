# Pattern: CuDNNLSTM imported next to LSTM but no longer used (its call was commented out in
# favour of LSTM). From manifest: jcoquerygithub/python-tutorial tensorflow_tutorial/rnn_keras.py
# (also titu1994/LSTM-FCN all_datasets_training.py).
from tensorflow.keras.layers import LSTM, CuDNNLSTM, Dense, Dropout
from tensorflow.keras.models import Sequential

model = Sequential()
# model.add(CuDNNLSTM(128, input_shape=(28, 28), return_sequences=True))
model.add(LSTM(128, input_shape=(28, 28), return_sequences=True))
model.add(Dropout(0.2))
model.add(LSTM(128))
model.add(Dense(10, activation="softmax"))
