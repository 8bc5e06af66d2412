# Pattern: Bidirectional(GRU(activation='relu', dropout=p, recurrent_dropout=p)): cuDNN is
# already ruled out by recurrent_dropout, so advice about the activation cannot bring it back.
# From manifest: Hynn01/dslinter-experiments chongjiujjin_capsule-net-with-gru (line 216).
from keras.layers import GRU, Bidirectional, Dense, Embedding, Input, SpatialDropout1D
from keras.models import Model

inp = Input(shape=(150,))
x = SpatialDropout1D(0.28)(Embedding(20000, 300)(inp))
x = Bidirectional(GRU(128, activation="relu", dropout=0.25, recurrent_dropout=0.25,
                      return_sequences=True))(x)
model = Model(inp, Dense(6, activation="sigmoid")(GRU(32)(x)))
