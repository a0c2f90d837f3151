"""The emoji latent U-Net: text-conditioned, on 8x8x4 VAE latents (diffusers' UNet2DConditionModel
layout, scaled down; our own class name).

  /usr/bin/python3 training/emoji/latent_unet.py     # prints parameters and MACs per sample

conv_in 3x3 -> down blocks -> mid block -> up blocks (each eats one skip per ResNet) ->
GroupNorm, SiLU, conv_out 3x3. Blocks follow diffusers' CrossAttnDownBlock2D / UNetMidBlock2DCrossAttn
/ CrossAttnUpBlock2D: a ResnetBlock2D (GroupNorm, SiLU, conv, + time embedding, GroupNorm, SiLU,
dropout, conv, + shortcut) followed by a Transformer2DModel (GroupNorm, proj_in, one
BasicTransformerBlock: LayerNorm -> self-attention, LayerNorm -> cross-attention to the text tokens,
LayerNorm -> feed-forward; proj_out, residual). The time embedding is diffusers' Timesteps
(flip_sin_to_cos=True, freq_shift=0: [cos, sin]) -> linear_1 -> SiLU -> linear_2. Down- and
upsampling are a stride-2 3x3 conv padded 1 on every side and nearest x2 + conv 3x3, as in diffusers'
U-Net (a port must pad explicitly; tfjs 'same' pads only bottom/right). State-dict names are
diffusers' (down_blocks.0.resnets.0.conv1.weight, down_blocks.0.attentions.0.transformer_blocks.0.
attn2.to_k.weight, time_embedding.linear_1.weight, ...).

Differences from diffusers, all to keep the port small: the feed-forward is Linear -> quick_gelu ->
Linear (no GEGLU), and attention heads are dim // attention_head_dim wide as there.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [48, 96],
    "layers_per_block": 1,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "cross_attention_dim": 128,
    "attention_head_dim": 24,
    "norm_num_groups": 16,
    "norm_eps": 1e-5,
    "ff_mult": 2,
    "dropout": 0.0,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "time_embedding_dim": 256,
    "act_fn": "silu",
}


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def timestep_features(t, dim):
    """diffusers' get_timestep_embedding with flip_sin_to_cos=True, downscale_freq_shift=0:
    [cos(t f_i), sin(t f_i)], f_i = 10000^(-i / half). In float64 then float32, so a port in JS
    doubles gets the same numbers."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float64, device=t.device) / half
    args = t.to(torch.float64)[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1).float()


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, in_ch, out_ch, temb_dim, groups, eps, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_dim, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)  # every block starts as the identity
        nn.init.zeros_(self.conv2.bias)
        self.conv_shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    """Multi-head attention of queries [B, N, dim] over a context [B, M, context_dim] (itself when None)."""

    def __init__(self, dim, context_dim, head_dim):
        super().__init__()
        self.heads = dim // head_dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, c = x.shape
        d = c // self.heads
        q = self.to_q(x).reshape(b, n, self.heads, d).transpose(1, 2)
        k = self.to_k(context).reshape(b, context.shape[1], self.heads, d).transpose(1, 2)
        v = self.to_v(context).reshape(b, context.shape[1], self.heads, d).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d), dim=-1)
        return self.to_out[0]((w @ v).transpose(1, 2).reshape(b, n, c))


class FeedForward(nn.Module):
    def __init__(self, dim, mult):
        super().__init__()
        self.net = nn.ModuleList([nn.Linear(dim, dim * mult), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        return self.net[1](quick_gelu(self.net[0](x)))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, context_dim, head_dim, ff_mult):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, dim, head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, head_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, ff_mult)

    def forward(self, x, context):
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class Transformer2DModel(nn.Module):
    def __init__(self, ch, cfg):
        super().__init__()
        self.norm = nn.GroupNorm(cfg["norm_num_groups"], ch, eps=1e-6)
        self.proj_in = nn.Linear(ch, ch)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(ch, cfg["cross_attention_dim"], cfg["attention_head_dim"], cfg["ff_mult"])])
        self.proj_out = nn.Linear(ch, ch)
        nn.init.zeros_(self.proj_out.weight)  # starts as the identity
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x).reshape(b, c, h * w).transpose(1, 2))
        for block in self.transformer_blocks:
            t = block(t, context)
        return x + self.proj_out(t).transpose(1, 2).reshape(b, c, h, w)


class Downsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    """A down, up or mid block: resnets, one transformer after each, and an optional resampler."""

    def __init__(self):
        super().__init__()
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()


class EmojiUNet2DConditionModel(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG, **(config or {}))
        self.config = cfg
        chs, layers = cfg["block_out_channels"], cfg["layers_per_block"]
        groups, eps, drop, temb = cfg["norm_num_groups"], cfg["norm_eps"], cfg["dropout"], cfg["time_embedding_dim"]
        res = lambda i, o: ResnetBlock2D(i, o, temb, groups, eps, drop)  # noqa: E731
        self.conv_in = nn.Conv2d(cfg["in_channels"], chs[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(chs[0], temb)

        self.down_blocks = nn.ModuleList()
        skip_chs, prev = [chs[0]], chs[0]
        for i, ch in enumerate(chs):
            block = Block()
            for _ in range(layers):
                block.resnets.append(res(prev, ch))
                block.attentions.append(Transformer2DModel(ch, cfg))
                prev = ch
                skip_chs.append(ch)
            if i < len(chs) - 1:
                block.downsamplers = nn.ModuleList([Downsample2D(ch)])
                skip_chs.append(ch)
            self.down_blocks.append(block)

        self.mid_block = Block()
        self.mid_block.resnets.extend([res(chs[-1], chs[-1]), res(chs[-1], chs[-1])])
        self.mid_block.attentions.append(Transformer2DModel(chs[-1], cfg))

        self.up_blocks = nn.ModuleList()
        for i, ch in enumerate(reversed(chs)):
            block = Block()
            for _ in range(layers + 1):
                block.resnets.append(res(prev + skip_chs.pop(), ch))
                block.attentions.append(Transformer2DModel(ch, cfg))
                prev = ch
            if i < len(chs) - 1:
                block.upsamplers = nn.ModuleList([Upsample2D(ch)])
            self.up_blocks.append(block)

        self.conv_norm_out = nn.GroupNorm(groups, chs[0], eps=eps)
        self.conv_out = nn.Conv2d(chs[0], cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        """sample [B, 4, 8, 8], timestep [B] (float ok), encoder_hidden_states [B, L, D] -> [B, 4, 8, 8]."""
        temb = self.time_embedding(timestep_features(timestep, self.config["block_out_channels"][0]))
        ctx = encoder_hidden_states
        h = self.conv_in(sample)
        skips = [h]
        for block in self.down_blocks:
            for resnet, attn in zip(block.resnets, block.attentions):
                h = attn(resnet(h, temb), ctx)
                skips.append(h)
            for down in getattr(block, "downsamplers", []):
                h = down(h)
                skips.append(h)
        h = self.mid_block.resnets[0](h, temb)
        h = self.mid_block.attentions[0](h, ctx)
        h = self.mid_block.resnets[1](h, temb)
        for block in self.up_blocks:
            for resnet, attn in zip(block.resnets, block.attentions):
                h = attn(resnet(torch.cat([h, skips.pop()], dim=1), temb), ctx)
            for up in getattr(block, "upsamplers", []):
                h = up(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, context_len=16):
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            total[0] += output[0].numel() * module.kernel_size[0] * module.kernel_size[1] * module.in_channels
        elif isinstance(module, nn.Linear):
            total[0] += output[0].numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    cfg = model.config
    with torch.no_grad():
        model(torch.zeros(1, cfg["in_channels"], cfg["sample_size"], cfg["sample_size"]), torch.zeros(1),
              torch.zeros(1, context_len, cfg["cross_attention_dim"]))
    for h in handles:
        h.remove()
    return total[0]


if __name__ == "__main__":
    m = EmojiUNet2DConditionModel()
    print(f"{count_parameters(m):,} parameters; {count_macs(m) / 1e6:.1f} M MACs per sample")
