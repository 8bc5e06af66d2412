# Pattern: Keras 1 dropout arguments (dropout_W/dropout_U on LSTM, dropout= on Embedding).
# From manifest: keras-team/keras 1.2.2 examples/imdb_lstm.py (also kootenpv/neural_complete
# stephenhky QFinRNNModels.py).
from keras.layers import LSTM, Dense, Embedding
from keras.models import Sequential

model = Sequential()
model.add(Embedding(20000, 128, input_length=80, dropout=0.2))
model.add(LSTM(128, dropout_W=0.2, dropout_U=0.2))
model.add(Dense(1, activation="sigmoid"))
