# Pattern: a plain class whose create_model() builds a Sequential on self.model and whose fit()
# calls create_model(). From manifest: chen0040/keras-english-resume-parser-and-analyzer
# keras_en_parser_and_analyzer/library/classifiers/lstm.py (three such classes).
from keras.layers import LSTM, Dense, Embedding, SpatialDropout1D
from keras.models import Sequential


class Classifier(object):
    def __init__(self):
        self.model = None
        self.vocab_size = 5000
        self.max_len = 100

    def create_model(self):
        self.model = Sequential()
        self.model.add(Embedding(input_dim=self.vocab_size, output_dim=100,
                                 input_length=self.max_len))
        self.model.add(SpatialDropout1D(0.2))
        self.model.add(LSTM(units=64, dropout=0.2, recurrent_dropout=0.2))
        self.model.add(Dense(1, activation="sigmoid"))

    def fit(self, x, y):
        self.create_model()
        self.model.fit(x, y)
