"""Training inputs of the latent model: VAE posteriors of every image, and captions drawn per step.

The VAE is frozen (the shipped public/models/emoji/vae/), so each image is encoded once; a training
step samples z = mean + std * noise from the stored posterior, as Stable Diffusion's training does
with latent_dist.sample(), then normalises per channel with the VAE config's latents_mean /
latents_std (diffusers' convention for VAEs with off-centre latents, e.g. Playground v2.5).
"""

import os
import random

import numpy as np
import torch

import common
from tokenizer import Tokenizer, build_vocab, words_of
from vae import EmojiAutoencoderKL

TONE_WORDS = {"1": "light skin tone", "2": "medium-light skin tone", "3": "medium skin tone",
              "4": "medium-dark skin tone", "5": "dark skin tone"}
STYLE_WORDS = {"twitter": "twemoji style", "google": "noto style"}


def load_table(data_dir=common.DATA_DIR):
    with np.load(os.path.join(data_dir, "emoji32.npz")) as d:
        return {k: d[k] for k in d.files}


def vocab_texts(table):
    """Every text a caption can be drawn from, so the vocabulary covers every emoji name and tag."""
    texts = list(table["caption"]) + list(table["label"]) + list(table["group"]) + list(table["subgroup"])
    texts += [t.replace("|", " ") for t in table["tags"]] + list(STYLE_WORDS.values()) + list(TONE_WORDS.values())
    return texts


def make_tokenizer(table):
    return Tokenizer(build_vocab(vocab_texts(table)))


def caption_choices(row):
    """The texts one image may be captioned with (its exact name is the most likely)."""
    caption, label = str(row["caption"]), str(row["label"])
    tags = [t for t in str(row["tags"]).split("|") if t]
    return caption, label, tags, str(row["subgroup"]).replace("-", " ")


def draw_caption(rng, row, dropout):
    """A caption for one training image; "" (the unconditional prompt) with probability dropout."""
    if rng.random() < dropout:
        return ""
    caption, label, tags, subgroup = caption_choices(row)
    r = rng.random()
    if r < 0.55 or not tags:
        text = caption
    elif r < 0.75:
        text = caption + ", " + ", ".join(rng.sample(tags, min(len(tags), rng.randint(1, 3))))
    elif r < 0.87:
        text = " ".join(rng.sample(tags, min(len(tags), rng.randint(1, 3))))
        tone = str(row["tone"])
        if tone in TONE_WORDS:
            text += ", " + TONE_WORDS[tone]
    else:
        text = subgroup + ", " + caption
    if rng.random() < 0.2:
        text += ", " + STYLE_WORDS.get(str(row["style"]), "")
    return text


@torch.no_grad()
def encode_posteriors(vae, images, batch=512):
    means, stds = [], []
    for i in range(0, images.shape[0], batch):
        mean, logvar = vae.encode(images[i : i + batch])
        means.append(mean)
        stds.append(torch.exp(0.5 * logvar))
    return torch.cat(means), torch.cat(stds)


def load_vae(model_dir=common.SHIPPED_VAE_DIR):
    shipped = common.load_shipped(model_dir)
    if shipped is None:
        raise SystemExit(f"no VAE in {model_dir}: train and export it first (train_vae.py, export_vae.py)")
    config, state, card = shipped
    vae = EmojiAutoencoderKL({k: config[k] for k in config if k in EmojiAutoencoderKL().config})
    vae.load_state_dict(state)
    return vae.eval().requires_grad_(False), config, card


def latent_stats(means, stds):
    """Per-channel mean and std of sampled latents (posterior mean plus its noise), over the train set."""
    g = torch.Generator().manual_seed(0)
    z = means + stds * torch.randn(means.shape, generator=g)
    return z.mean(dim=(0, 2, 3)), z.std(dim=(0, 2, 3))


class CaptionSampler:
    def __init__(self, table, indices, tokenizer, dropout, seed):
        self.rows = [{k: table[k][i] for k in ("caption", "label", "tags", "subgroup", "tone", "style")} for i in indices]
        self.tokenizer = tokenizer
        self.dropout = dropout
        self.rng = random.Random(seed)

    def ids(self, positions):
        texts = [draw_caption(self.rng, self.rows[p], self.dropout) for p in positions]
        return torch.tensor(self.tokenizer(texts), dtype=torch.long), texts


__all__ = ["words_of"]
