# Pattern: keras.layers.CuDNNLSTM reached through a module attribute, added in a loop of a
# builder method. From manifest: Zenasj/HBTGen-artifact data/tensorflow-issue/issue_19967.py.
from tensorflow import keras


class Net:
    def __init__(self, sizes):
        self.sizes = sizes

    def build(self):
        model = keras.Sequential()
        model.add(keras.layers.InputLayer(input_shape=(20, 4)))
        for i, n in enumerate(self.sizes):
            model.add(keras.layers.CuDNNLSTM(n, return_sequences=i < len(self.sizes) - 1))
            model.add(keras.layers.Dropout(0.3))
        return model
