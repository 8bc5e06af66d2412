# Pattern: layers imported from TensorFlow's private tensorflow.python.keras package; a fix
# that needs a new layer must not import it from there. From manifest: philipperemy/keras-tcn
# tasks/word_ptb/train.py (also Zenasj/HBTGen-artifact issue_19967.py).
from tensorflow.python.keras.layers import LSTM, Dense, Dropout, Embedding
from tensorflow.python.keras.models import Sequential

model = Sequential([
    Embedding(5000, 64),
    Dropout(rate=0.2),
    LSTM(64),
    Dense(5000, activation="softmax"),
])
