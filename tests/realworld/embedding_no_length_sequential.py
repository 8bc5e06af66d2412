# Pattern: Embedding first in a Sequential list without input_length, then Dropout: the
# tensor is (batch, None, emb) although the length is unknown. From manifest:
# philipperemy/keras-tcn tasks/word_ptb/train.py (also keras 1.2.2 examples/babi_rnn.py).
from keras.layers import LSTM, Dense, Dropout, Embedding
from keras.models import Sequential

model = Sequential([
    Embedding(10000, 64),
    Dropout(0.2),
    LSTM(32),
    Dense(1),
])
