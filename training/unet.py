"""Class-conditional U-Net for 28x28 single-channel diffusion (MNIST, Fashion-MNIST).

The TypeScript port in src/engine/model/ mirrors this file op for op, reading the same
architecture config (saved into the model card) and the same parameter names, so keep the two in
step: any change here needs the same change there, and a fresh parity fixture (training/export.py).

Layout (resolutions for 28x28, default config base 32, mult (1, 2, 2), 1 res block per level):
  conv_in 3x3                                       28x28x32
  down.0: ResBlock x N                              28x28x32  -> downsample (stride-2 conv, pad 1)
  down.1: ResBlock x N                              14x14x64  -> downsample
  down.2: ResBlock x N (+ attention at 7x7)          7x7x64
  mid:    ResBlock, Attention, ResBlock              7x7x64
  up.2:   ResBlock x (N+1) (+ attention), each eats one skip  -> upsample (nearest x2 + conv3x3)
  up.1:   ResBlock x (N+1)                          14x14x64  -> upsample
  up.0:   ResBlock x (N+1)                          28x28x32
  out:    GroupNorm -> SiLU -> conv3x3              28x28x1
Skips follow DDPM (Ho et al. 2020): the output of conv_in, of every down ResBlock and of every
downsample is pushed; every up ResBlock pops one and concatenates it on the channel axis.

Conditioning: emb = MLP(sinusoidal(t)) + class_embed(y), where class id `num_classes` is the NULL
class used for classifier-free guidance.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "model_type": "unet2d-ddpm-classcond",
    "image_size": 28,
    "in_channels": 1,
    "out_channels": 1,
    "base_channels": 32,
    "channel_mult": [1, 2, 2],
    "num_res_blocks": 1,
    # Resolutions (in pixels of the feature map side) whose ResBlocks are followed by attention.
    "attention_resolutions": [7],
    "attention_heads": 1,
    "mid_attention": True,
    "dropout": 0.1,
    "num_classes": 10,
    # Class id num_classes (the last row of class_embed) means "no class" for classifier-free guidance.
    "null_class_id": 10,
    "groupnorm_groups": 8,
    "groupnorm_eps": 1e-5,
    # Sinusoidal timestep features: [cos(t * f_i), sin(t * f_i)], f_i = max_period^(-i / half).
    "timestep_features": 32,
    "timestep_max_period": 10000,
    "embed_dim": 128,
    "downsample": "conv3x3-stride2-pad1",
    "upsample": "nearest2x-conv3x3",
}


def timestep_features(t, dim, max_period=10000):
    """Sinusoidal features of (possibly fractional) timesteps t [B] -> [B, dim], cos half first.

    Computed in float64 and rounded to float32 once, so the TypeScript port (which uses JS doubles)
    gets the same numbers to the last float32 bit instead of accumulating float32 error on t*f ~ 1e3.
    """
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float64, device=t.device) / half
    args = t.to(torch.float64)[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1).float()


class ResBlock(nn.Module):
    """Wide ResNet block: GN -> SiLU -> conv, + embedding, GN -> SiLU -> dropout -> conv, + skip."""

    def __init__(self, in_ch, out_ch, embed_dim, groups, eps, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb_proj = nn.Linear(embed_dim, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        # Zero-init the residual branch's last conv so every block starts as the identity.
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb_proj(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + (self.skip(x) if self.skip is not None else x)


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions: GN -> qkv -> softmax(qk^T/sqrt(d))v -> proj, residual."""

    def __init__(self, ch, heads, groups, eps):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, ch, eps=eps)
        self.qkv = nn.Linear(ch, 3 * ch)
        self.proj = nn.Linear(ch, ch)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x):
        b, c, h, w = x.shape
        d = c // self.heads
        tokens = self.norm(x).reshape(b, c, h * w).transpose(1, 2)  # [B, HW, C]
        q, k, v = self.qkv(tokens).chunk(3, dim=2)  # each [B, HW, C]; heads are d-wide slices
        q, k, v = (z.reshape(b, h * w, self.heads, d).transpose(1, 2) for z in (q, k, v))
        weights = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d), dim=-1)  # [B, heads, HW, HW]
        out = (weights @ v).transpose(1, 2).reshape(b, h * w, c)
        out = self.proj(out).transpose(1, 2).reshape(b, c, h, w)
        return x + out


class Downsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        # padding=1 on every side; tfjs 'same' would pad only bottom/right, so the port pads explicitly.
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Level(nn.Module):
    """One resolution of the encoder or decoder: ResBlocks, optional attention after each, resampler."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.attns = nn.ModuleList()  # one per block when this resolution has attention, else empty
        self.resample = None


class UNet(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG, **(config or {}))
        self.config = cfg
        groups, eps, dropout = cfg["groupnorm_groups"], cfg["groupnorm_eps"], cfg["dropout"]
        embed_dim = cfg["embed_dim"]
        chans = [cfg["base_channels"] * m for m in cfg["channel_mult"]]
        n_blocks = cfg["num_res_blocks"]

        self.time_mlp = nn.Sequential(
            nn.Linear(cfg["timestep_features"], embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim)
        )
        self.class_embed = nn.Embedding(cfg["num_classes"] + 1, embed_dim)
        self.conv_in = nn.Conv2d(cfg["in_channels"], chans[0], 3, padding=1)

        def make_block(cin, cout):
            return ResBlock(cin, cout, embed_dim, groups, eps, dropout)

        def make_attn(ch):
            return Attention(ch, cfg["attention_heads"], groups, eps)

        # Encoder. skip_chans records the channel count of every pushed skip, in push order.
        self.down = nn.ModuleList()
        skip_chans = [chans[0]]
        ch, res = chans[0], cfg["image_size"]
        for i, out_ch in enumerate(chans):
            level = Level()
            for _ in range(n_blocks):
                level.blocks.append(make_block(ch, out_ch))
                ch = out_ch
                if res in cfg["attention_resolutions"]:
                    level.attns.append(make_attn(ch))
                skip_chans.append(ch)
            if i < len(chans) - 1:
                level.resample = Downsample(ch)
                res //= 2
                skip_chans.append(ch)
            self.down.append(level)

        self.mid_block1 = make_block(ch, ch)
        self.mid_attn = make_attn(ch) if cfg["mid_attention"] else None
        self.mid_block2 = make_block(ch, ch)

        # Decoder, stored in forward order (lowest resolution first) under names up.0, up.1, ...
        self.up = nn.ModuleList()
        for i, out_ch in reversed(list(enumerate(chans))):
            level = Level()
            for _ in range(n_blocks + 1):
                level.blocks.append(make_block(ch + skip_chans.pop(), out_ch))
                ch = out_ch
                if res in cfg["attention_resolutions"]:
                    level.attns.append(make_attn(ch))
            if i > 0:
                level.resample = Upsample(ch)
                res *= 2
            self.up.append(level)
        assert not skip_chans

        self.out_norm = nn.GroupNorm(groups, ch, eps=eps)
        self.conv_out = nn.Conv2d(ch, cfg["out_channels"], 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def embed(self, t, y):
        cfg = self.config
        feats = timestep_features(t, cfg["timestep_features"], cfg["timestep_max_period"])
        return self.time_mlp(feats) + self.class_embed(y)

    def forward(self, x, t, y):
        """x [B, C, H, W] noisy image, t [B] timesteps (float or int), y [B] class ids (null = num_classes)."""
        emb = self.embed(t, y)
        h = self.conv_in(x)
        skips = [h]
        for level in self.down:
            for j, block in enumerate(level.blocks):
                h = block(h, emb)
                if len(level.attns):
                    h = level.attns[j](h)
                skips.append(h)
            if level.resample is not None:
                h = level.resample(h)
                skips.append(h)
        h = self.mid_block1(h, emb)
        if self.mid_attn is not None:
            h = self.mid_attn(h)
        h = self.mid_block2(h, emb)
        for level in self.up:
            for j, block in enumerate(level.blocks):
                h = block(torch.cat([h, skips.pop()], dim=1), emb)
                if len(level.attns):
                    h = level.attns[j](h)
            if level.resample is not None:
                h = level.resample(h)
        return self.conv_out(F.silu(self.out_norm(h)))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def estimate_flops_per_sample(model):
    """Multiply-adds x 2 of convs, linears and attention matmuls for one 28x28 sample (norms ignored)."""
    flops = [0]

    def conv_hook(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        flops[0] += 2 * output[0].numel() * k

    def linear_hook(module, inputs, output):
        flops[0] += 2 * output[0].numel() * module.in_features

    def attn_hook(module, inputs, output):
        _, c, h, w = inputs[0].shape
        flops[0] += 2 * 2 * (h * w) * (h * w) * c  # q k^T and weights @ v

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, Attention):
            handles.append(m.register_forward_hook(attn_hook))
    cfg = model.config
    size = cfg["image_size"]
    with torch.no_grad():
        model.eval()(
            torch.zeros(1, cfg["in_channels"], size, size), torch.zeros(1), torch.zeros(1, dtype=torch.long)
        )
    for h in handles:
        h.remove()
    return flops[0]


if __name__ == "__main__":
    import sys, json

    overrides = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    net = UNet(overrides)
    print(f"parameters {count_parameters(net):,}; GFLOP/sample {estimate_flops_per_sample(net) / 1e9:.3f}")
