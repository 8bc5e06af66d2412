"""TensorFlow 1 idioms in a file's text: `keep_prob` names, `tf.compat.v1`, `tf.contrib`,
`tf.placeholder`. Read from the tokens (comments and strings do not count), only when one of
the words occurs in the text at all. DL405 uses them: a rate of 0.8 or more in a file that
shows TF1 code was likely a keep probability ported as it was."""
from __future__ import annotations

import io
import re
import tokenize

WORDS = re.compile(r"keep_prob|compat|contrib|placeholder", re.IGNORECASE)
# What the tokens below can find, as text: `keep_prob` in any case, `compat . v1` and
# `. contrib` / `. placeholder` with anything the tokenizer skips between them (spaces, line
# breaks, backslash continuations, comments). A text without a match has no idiom: it is
# not tokenized (keras/src: 2 of 20 files with one of the WORDS).
_MAYBE = re.compile(r"(?i:keep_prob)|compat(?:\s|\\|#[^\n]*)*\.(?:\s|\\|#[^\n]*)*v1"
                    r"|\.(?:\s|\\|#[^\n]*)*(?:contrib|placeholder)")


def tf1_idioms(text: str) -> frozenset[str]:
    """Which idioms the code uses: a subset of {'keep_prob', 'tf.compat.v1', 'tf.contrib',
    'tf.placeholder'}."""
    if not WORDS.search(text) or not _MAYBE.search(text):
        return frozenset()
    found: set[str] = set()
    names: list[str] = []  # the NAME/OP tokens so far, to read `compat . v1`
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type not in (tokenize.NAME, tokenize.OP):
                continue
            word = tok.string
            if tok.type == tokenize.NAME:
                if "keep_prob" in word.lower():  # keep_prob, input_keep_prob, KEEP_PROB
                    found.add("keep_prob")
                elif word == "v1" and names[-2:] == ["compat", "."]:
                    found.add("tf.compat.v1")
                elif word in ("contrib", "placeholder") and names[-1:] == ["."]:
                    found.add(f"tf.{word}")
            names = names[-2:] + [word]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # what was read so far counts
    return frozenset(found)
