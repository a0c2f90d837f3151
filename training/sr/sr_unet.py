"""The emoji super-resolution U-Net (cascade stage 2: 32x32 -> 64x64 RGB, pixel space).

  /usr/bin/python3 training/sr/sr_unet.py     # prints parameters and MACs per 64x64 sample

diffusers' UNet2DModel layout and tensor names, scaled down, fully convolutional (no attention, so
it trains on crops and runs at any even size), our own class name:

  input = concat(noisy high-res x_t [3 ch], nearest-x2 upsampled (noise-augmented) low-res [3 ch])
  conv_in 3x3 -> DownBlock2D x len(block_out_channels) (ResnetBlock2D x layers_per_block, then a
  stride-2 3x3 conv padded 1 on every side, except the last) -> UNetMidBlock2D without attention
  (2 ResnetBlock2D) -> UpBlock2D (layers_per_block + 1 ResnetBlock2D, each eating one skip, then
  nearest x2 + conv 3x3, except the last) -> GroupNorm, SiLU, conv_out 3x3 -> v (3 ch).

Conditioning: temb = time_embedding(sinusoid(t)) + class_embedding(sinusoid(s)), where s is the
noise-augmentation level of the low-res input (diffusers' class_embed_type="timestep": the same
Timesteps features through a second TimestepEmbedding). Skips as diffusers' UNet2DModel: conv_in's
output, every down ResnetBlock2D's and every downsampler's.

The low-res image is upsampled by pixel repetition ("nearest"): that is the exact back-projection of
the 2x2 area average that made the 32x32 data (downsample(nearest(y)) == y), needs no filter choice
and is one tfjs op with no rounding differences.
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "emoji"))
from latent_unet import Downsample2D, ResnetBlock2D, TimestepEmbedding, Upsample2D, timestep_features  # noqa: E402

DEFAULT_CONFIG = {
    "sample_size": 64,
    "low_res_size": 32,
    "in_channels": 6,
    "out_channels": 3,
    "block_out_channels": [24, 32, 64],
    "layers_per_block": 1,
    "down_block_types": ["DownBlock2D", "DownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "UpBlock2D", "UpBlock2D"],
    "mid_block_type": "UNetMidBlock2D",
    "add_attention": False,
    "class_embed_type": "timestep",
    "norm_num_groups": 8,
    "norm_eps": 1e-5,
    "dropout": 0.0,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "downsample_padding": 1,
    "time_embedding_dim": 128,
    "act_fn": "silu",
    "low_res_upsample": "nearest",
    "max_noise_level": 350,
}


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnets = nn.ModuleList()


class EmojiSRUNet2DModel(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG, **(config or {}))
        self.config = cfg
        chs, layers = cfg["block_out_channels"], cfg["layers_per_block"]
        groups, eps, drop, temb = cfg["norm_num_groups"], cfg["norm_eps"], cfg["dropout"], cfg["time_embedding_dim"]
        res = lambda i, o: ResnetBlock2D(i, o, temb, groups, eps, drop)  # noqa: E731
        self.conv_in = nn.Conv2d(cfg["in_channels"], chs[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(chs[0], temb)
        self.class_embedding = TimestepEmbedding(chs[0], temb)

        self.down_blocks = nn.ModuleList()
        skip_chs, prev = [chs[0]], chs[0]
        for i, ch in enumerate(chs):
            block = Block()
            for _ in range(layers):
                block.resnets.append(res(prev, ch))
                prev = ch
                skip_chs.append(ch)
            if i < len(chs) - 1:
                block.downsamplers = nn.ModuleList([Downsample2D(ch)])
                skip_chs.append(ch)
            self.down_blocks.append(block)

        self.mid_block = Block()
        self.mid_block.resnets.extend([res(chs[-1], chs[-1]), res(chs[-1], chs[-1])])

        self.up_blocks = nn.ModuleList()
        for i, ch in enumerate(reversed(chs)):
            block = Block()
            for _ in range(layers + 1):
                block.resnets.append(res(prev + skip_chs.pop(), ch))
                prev = ch
            if i < len(chs) - 1:
                block.upsamplers = nn.ModuleList([Upsample2D(ch)])
            self.up_blocks.append(block)

        self.conv_norm_out = nn.GroupNorm(groups, chs[0], eps=eps)
        self.conv_out = nn.Conv2d(chs[0], cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timestep, low_res, noise_level):
        """sample [B, 3, H, W] (x_t), timestep [B], low_res [B, 3, H/2, W/2] (already noise-augmented to
        noise_level), noise_level [B] -> model output [B, 3, H, W] (v)."""
        c0 = self.config["block_out_channels"][0]
        temb = self.time_embedding(timestep_features(timestep, c0))
        temb = temb + self.class_embedding(timestep_features(noise_level, c0))
        cond = F.interpolate(low_res, scale_factor=2.0, mode="nearest")
        h = self.conv_in(torch.cat([sample, cond], dim=1))
        skips = [h]
        for block in self.down_blocks:
            for resnet in block.resnets:
                h = resnet(h, temb)
                skips.append(h)
            for down in getattr(block, "downsamplers", []):
                h = down(h)
                skips.append(h)
        for resnet in self.mid_block.resnets:
            h = resnet(h, temb)
        for block in self.up_blocks:
            for resnet in block.resnets:
                h = resnet(torch.cat([h, skips.pop()], dim=1), temb)
            for up in getattr(block, "upsamplers", []):
                h = up(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, size=64):
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            total[0] += output[0].numel() * module.kernel_size[0] * module.kernel_size[1] * module.in_channels
        elif isinstance(module, nn.Linear):
            total[0] += output[0].numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size), torch.zeros(1), torch.zeros(1, 3, size // 2, size // 2), torch.zeros(1))
    for h in handles:
        h.remove()
    return total[0]


if __name__ == "__main__":
    import json

    overrides = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    m = EmojiSRUNet2DModel(overrides)
    print(f"{m.config['block_out_channels']} x{m.config['layers_per_block']}: {count_parameters(m):,} parameters; "
          f"{count_macs(m) / 1e6:.1f} M MACs per 64x64 sample")
