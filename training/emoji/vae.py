"""A small KL autoencoder laid out like diffusers' AutoencoderKL (same module names and order).

  /usr/bin/python3 training/emoji/vae.py        # prints parameters, MACs and the latent shape

32x32x3 in [-1, 1] <-> 8x8x4 latents. Encoder: conv_in, one DownEncoderBlock2D per entry of
block_out_channels (ResNet blocks with GroupNorm + SiLU; a stride-2 conv after all but the last,
padded (0, 1, 0, 1) exactly as diffusers' Downsample2D does, which is also what tfjs 'same' does),
mid block (ResNet, single-head self-attention, ResNet), GroupNorm, SiLU, conv_out to
2 * latent_channels (mean, logvar), quant_conv 1x1. Decoder: post_quant_conv 1x1, conv_in, mid
block, UpDecoderBlock2D mirrors with layers_per_block + 1 ResNets and nearest x2 + conv3x3
upsampling, GroupNorm, SiLU, conv_out. State-dict names follow diffusers (encoder.down_blocks.0.
resnets.0.conv1.weight, ...; attention as to_q/to_k/to_v/to_out.0, diffusers' current names), so a
later port can read them like a diffusers checkpoint.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "block_out_channels": [32, 64, 64],
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "sample_size": 32,
    "mid_block_add_attention": True,
}
GROUP_NORM_EPS = 1e-6  # diffusers' VAE value (its U-Nets use 1e-5)


class ResnetBlock2D(nn.Module):
    def __init__(self, in_ch, out_ch, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=GROUP_NORM_EPS)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=GROUP_NORM_EPS)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    """Single-head self-attention over all positions with a residual, as in diffusers' VAE mid block."""

    def __init__(self, ch, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, ch, eps=GROUP_NORM_EPS)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.ModuleList([nn.Linear(ch, ch)])

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
        out = self.to_out[0](weights @ v)
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class MidBlock(nn.Module):
    def __init__(self, ch, groups, add_attention):
        super().__init__()
        self.attentions = nn.ModuleList([Attention(ch, groups)] if add_attention else [])
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, groups), ResnetBlock2D(ch, ch, groups)])

    def forward(self, x):
        x = self.resnets[0](x)
        for attn in self.attentions:
            x = attn(x)
        return self.resnets[1](x)


class Downsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownEncoderBlock2D(nn.Module):
    def __init__(self, in_ch, out_ch, layers, groups, add_downsample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, groups) for i in range(layers)])
        self.downsamplers = nn.ModuleList([Downsample2D(out_ch)] if add_downsample else [])

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        for d in self.downsamplers:
            x = d(x)
        return x


class UpDecoderBlock2D(nn.Module):
    def __init__(self, in_ch, out_ch, layers, groups, add_upsample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, groups) for i in range(layers)])
        self.upsamplers = nn.ModuleList([Upsample2D(out_ch)] if add_upsample else [])

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        for u in self.upsamplers:
            x = u(x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        chs, groups, layers = cfg["block_out_channels"], cfg["norm_num_groups"], cfg["layers_per_block"]
        self.conv_in = nn.Conv2d(cfg["in_channels"], chs[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        prev = chs[0]
        for i, ch in enumerate(chs):
            self.down_blocks.append(DownEncoderBlock2D(prev, ch, layers, groups, add_downsample=i < len(chs) - 1))
            prev = ch
        self.mid_block = MidBlock(chs[-1], groups, cfg["mid_block_add_attention"])
        self.conv_norm_out = nn.GroupNorm(groups, chs[-1], eps=GROUP_NORM_EPS)
        self.conv_out = nn.Conv2d(chs[-1], 2 * cfg["latent_channels"], 3, padding=1)

    def forward(self, x):
        x = self.conv_in(x)
        for block in self.down_blocks:
            x = block(x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        chs, groups, layers = cfg["block_out_channels"], cfg["norm_num_groups"], cfg["layers_per_block"]
        rev = list(reversed(chs))
        self.conv_in = nn.Conv2d(cfg["latent_channels"], rev[0], 3, padding=1)
        self.mid_block = MidBlock(rev[0], groups, cfg["mid_block_add_attention"])
        self.up_blocks = nn.ModuleList()
        prev = rev[0]
        for i, ch in enumerate(rev):
            self.up_blocks.append(UpDecoderBlock2D(prev, ch, layers + 1, groups, add_upsample=i < len(rev) - 1))
            prev = ch
        self.conv_norm_out = nn.GroupNorm(groups, chs[0], eps=GROUP_NORM_EPS)
        self.conv_out = nn.Conv2d(chs[0], cfg["out_channels"], 3, padding=1)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for block in self.up_blocks:
            x = block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class EmojiAutoencoderKL(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        latent = self.config["latent_channels"]
        self.encoder = Encoder(self.config)
        self.decoder = Decoder(self.config)
        self.quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1)
        self.post_quant_conv = nn.Conv2d(latent, latent, 1)

    def encode(self, x):
        """(mean, logvar) of the diagonal Gaussian posterior; logvar clamped like diffusers does."""
        moments = self.quant_conv(self.encoder(x))
        mean, logvar = moments.chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))

    def forward(self, x, sample=True):
        mean, logvar = self.encode(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean) if sample else mean
        return self.decode(z), mean, logvar


def kl_divergence(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, 1)) summed over latent elements, per sample."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).flatten(1).sum(1)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, size):
    """Multiply-accumulates of convs and linears for one sample (what dominates the cost)."""
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total[0] += output[0].numel() * k
        elif isinstance(module, nn.Linear):
            total[0] += output[0].numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, model.config["in_channels"], size, size), sample=False)
    for h in handles:
        h.remove()
    return total[0]


if __name__ == "__main__":
    m = EmojiAutoencoderKL()
    enc = count_parameters(m.encoder) + count_parameters(m.quant_conv)
    print(f"{count_parameters(m):,} parameters (encoder {enc:,}, decoder {count_parameters(m) - enc:,}); "
          f"{count_macs(m, 32) / 1e6:.1f} M MACs per 32x32 image")
    with torch.no_grad():
        mean, _ = m.encode(torch.zeros(1, 3, 32, 32))
    print("latent shape", tuple(mean.shape[1:]))
