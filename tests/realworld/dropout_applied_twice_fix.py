# Pattern: one Dropout object of a subclassed Model applied twice, once to a sequence (3-D)
# and once to the last state (2-D); the unsafe fix to SpatialDropout1D breaks the 2-D call.
# From manifest: MiguelAngelLiera/Stock_Exchange_NN_PP src/modelos/recurrente/GRU/GRU.py.
from keras import Model
from keras.layers import GRU, Dense, Dropout


class Net(Model):
    def __init__(self):
        super().__init__()
        self.gru1 = GRU(50, return_sequences=True, input_shape=(30, 1))
        self.gru2 = GRU(50)
        self.drop = Dropout(0.2)
        self.out = Dense(1)

    def call(self, inputs):
        x = self.drop(self.gru1(inputs))
        x = self.drop(self.gru2(x))
        return self.out(x)
