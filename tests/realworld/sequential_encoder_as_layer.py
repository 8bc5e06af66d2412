# Pattern: a Sequential encoder ending in Dropout, called on a tensor inside a functional model:
# its Dropout feeds the Dense head, it is not the model's output. From manifest:
# sujitpal/dl-models-for-qa src/qa-blstm-attn.py (encoders qenc/aenc), Keras 2 form.
from keras.layers import LSTM, Dense, Dropout, Embedding, Input
from keras.models import Model, Sequential

encoder = Sequential([Embedding(1000, 32), LSTM(32), Dropout(0.5)])
inp = Input(shape=(20,))
out = Dense(1, activation="sigmoid")(encoder(inp))
model = Model(inp, out)
