# Pattern: the input shape is only partly known ((None,) + X.shape[2:]); after Conv1D(48)
# the tensor is (batch, None, 48). From manifest: Hynn01/dslinter-experiments
# kmader_quickdraw-baseline-lstm-reading-and-submission.
from keras.layers import LSTM, BatchNormalization, Conv1D, Dense, Dropout
from keras.models import Sequential


def build(X):
    model = Sequential()
    model.add(BatchNormalization(input_shape=(None,) + X.shape[2:]))
    model.add(Conv1D(48, (5,)))
    model.add(Dropout(0.3))
    model.add(LSTM(128, return_sequences=True))
    model.add(Dropout(0.3))
    model.add(LSTM(128))
    model.add(Dense(10, activation="softmax"))
    return model
