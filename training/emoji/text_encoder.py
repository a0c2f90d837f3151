"""A small text transformer trained together with the latent U-Net (CLIP's text-model layout).

token_embedding + position_embedding -> N pre-LayerNorm transformer layers (bidirectional
multi-head self-attention, MLP with quick_gelu as CLIP's) -> final_layer_norm. The output is the
whole token sequence [B, L, hidden_size]: the U-Net cross-attends to every token (Stable Diffusion
uses CLIP's last hidden state the same way). No attention mask: padding tokens are real tokens, so
the empty prompt has a fixed, learned encoding that serves as the unconditional branch.

Parameter names follow transformers' CLIPTextModel (text_model.embeddings.token_embedding.weight,
text_model.encoder.layers.0.self_attn.q_proj.weight, ...), so people who know it can read them.
"""

import math

import torch
import torch.nn as nn

DEFAULT_CONFIG = {
    "vocab_size": 0,  # set from the tokenizer vocabulary
    "hidden_size": 128,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 16,
    "layer_norm_eps": 1e-5,
    "hidden_act": "quick_gelu",
}


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        d = c // self.heads
        q, k, v = (p(x).reshape(b, n, self.heads, d).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        w = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d), dim=-1)
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, n, c))


class MLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(quick_gelu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.layer_norm1 = nn.LayerNorm(dim, eps=eps)
        self.self_attn = SelfAttention(dim, cfg["num_attention_heads"])
        self.layer_norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLP(dim, cfg["intermediate_size"])

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.position_embedding = nn.Embedding(cfg["max_position_embeddings"], cfg["hidden_size"])
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.01)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        return self.token_embedding(ids) + self.position_embedding(positions)[None]


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg["num_hidden_layers"])])


class TextModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])

    def forward(self, ids):
        x = self.embeddings(ids)
        for layer in self.encoder.layers:
            x = layer(x)
        return self.final_layer_norm(x)


class EmojiTextEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **config)
        if self.config["vocab_size"] <= 0:
            raise ValueError("vocab_size must be set from the tokenizer")
        self.text_model = TextModel(self.config)

    def forward(self, ids):
        """ids [B, L] int64 -> last hidden state [B, L, hidden_size]."""
        return self.text_model(ids)
