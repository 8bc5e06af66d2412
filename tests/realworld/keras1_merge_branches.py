# Pattern: Keras 1 encoders built as small Sequentials ending in Dropout, merged into the real
# model with Merge([...]): the encoders' Dropout is not the model's output. From manifest:
# keras-team/keras 1.2.2 examples/babi_rnn.py (also sujitpal/dl-models-for-qa src/babi-lstm.py
# and src/qa-blstm-attn.py).
from keras.layers import LSTM, Dense, Dropout, Embedding, Merge, RepeatVector
from keras.models import Sequential

story_len = 68
sentrnn = Sequential()
sentrnn.add(Embedding(1000, 50, input_length=story_len))
sentrnn.add(Dropout(0.3))

qrnn = Sequential()
qrnn.add(Embedding(1000, 50, input_length=4))
qrnn.add(LSTM(50))
qrnn.add(RepeatVector(story_len))

model = Sequential()
model.add(Merge([sentrnn, qrnn], mode="sum"))
model.add(LSTM(50))
model.add(Dropout(0.3))
model.add(Dense(1000, activation="softmax"))
