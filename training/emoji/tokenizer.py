"""Word-level tokenizer for emoji prompts, built from the captions of the data set.

A prompt is lower-cased, accents are stripped (NFKD, combining marks dropped, so "piñata" is
"pinata"), and it is split on anything that is not a-z or 0-9. Each known word becomes one token;
unknown words are dropped and reported (the playground shows them as ignored). The sequence is
[BOS] words... [EOS] padded with [PAD] to max_length; longer prompts keep their first
max_length - 2 words (truncation is reported too). The empty prompt, [BOS][EOS][PAD]..., is the
unconditional input of classifier-free guidance, as in Stable Diffusion.

The TypeScript port (src/engine/text/tokenizer.ts) follows this file rule for rule; the vocabulary
travels as tokenizer/vocab.json.
"""

import re
import unicodedata

SPECIAL_TOKENS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"]
PAD, BOS, EOS, UNK = range(4)
MAX_LENGTH = 16


def words_of(text):
    text = unicodedata.normalize("NFKD", str(text).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return [w for w in re.split(r"[^a-z0-9]+", text) if w]


def build_vocab(texts):
    """Special tokens, then every word of the texts, sorted (deterministic for the same data)."""
    words = sorted({w for t in texts for w in words_of(t)})
    return SPECIAL_TOKENS + words


class Tokenizer:
    def __init__(self, vocab, max_length=MAX_LENGTH):
        self.vocab = list(vocab)
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        self.max_length = max_length

    def encode(self, text):
        """(ids of length max_length, unknown words, truncated?)"""
        known, unknown = [], []
        for w in words_of(text):
            (known if w in self.ids else unknown).append(w)
        room = self.max_length - 2
        truncated = len(known) > room
        ids = [BOS] + [self.ids[w] for w in known[:room]] + [EOS]
        return ids + [PAD] * (self.max_length - len(ids)), unknown, truncated

    def __call__(self, texts):
        return [self.encode(t)[0] for t in texts]
