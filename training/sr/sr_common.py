"""Shared by the super-resolution trainer and exporter: paths, data, noise augmentation, DDIM
sampling, metrics (PSNR, SSIM, consistency)."""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emoji"))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402  (training/emoji/common.py)
import safetensors_io  # noqa: E402
from schedule import alphas_cumprod  # noqa: E402

REPO_ROOT = common.REPO_ROOT
DATA_DIR = common.DATA_DIR
CHECKPOINT_DIR = os.path.join(REPO_ROOT, "training", "checkpoints", "emoji-sr")
PIPELINE_DIR = os.path.join(REPO_ROOT, "public", "models", "emoji-sr")
SHIPPED_UNET_DIR = os.path.join(PIPELINE_DIR, "unet")
WEIGHTS_NAME = common.WEIGHTS_NAME


def load_pairs(split, data_dir=DATA_DIR):
    """(high [N, 3, 64, 64], low [N, 3, 32, 32]) float32 in [-1, 1] of the 'train' or 'held_out'
    images. low is emoji32.npz itself (the uint8 2x2 area average), what a user's 32x32 PNG is."""
    p64, p32 = os.path.join(data_dir, "emoji64.npz"), os.path.join(data_dir, "emoji32.npz")
    for p in (p64, p32):
        if not os.path.isfile(p):
            raise SystemExit(f"{p} is missing: run /usr/bin/python3 training/emoji/build_data.py first")
    with np.load(p32) as d32, np.load(p64) as d64:
        if not (d32["hexcode"] == d64["hexcode"]).all() or not (d32["style"] == d64["style"]).all():
            raise SystemExit("emoji32.npz and emoji64.npz are not in the same order")
        keep = d32["held_out"] if split == "held_out" else ~d32["held_out"]
        high, low = d64["images"][keep], d32["images"][keep]
        meta = {"hexcode": d32["hexcode"][keep], "style": d32["style"][keep], "caption": d32["caption"][keep],
                "emoji_id": d32["emoji_id"][keep], "subgroup": d32["subgroup"][keep]}
    to_t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()  # noqa: E731
    return to_t(high), to_t(low), meta


def load_shipped(unet_dir=SHIPPED_UNET_DIR):
    """(config, float32 state dict, pipeline card) of the exported U-Net, or None when nothing is shipped."""
    weights_path = os.path.join(unet_dir, WEIGHTS_NAME)
    if not os.path.isfile(weights_path):
        return None
    config = json.load(open(os.path.join(unet_dir, "config.json"), encoding="utf-8"))
    card_path = os.path.join(os.path.dirname(unet_dir), "card.json")
    card = json.load(open(card_path, encoding="utf-8")) if os.path.isfile(card_path) else {}
    tensors, _ = safetensors_io.load(weights_path)
    state = {name: torch.from_numpy(array.astype(np.float32)) for name, array in tensors.items()}
    return config, state, card


def abar_table(device="cpu"):
    return alphas_cumprod(1000, "squaredcos_cap_v2").to(device)


def augment_low_res(low, level, abar, noise=None):
    """CDM / Imagen noise-conditioning augmentation: the low-res image at the forward process's
    level s (an integer training timestep): sqrt(abar_s) y + sqrt(1 - abar_s) eps."""
    a = abar[level.long()][:, None, None, None]
    noise = torch.randn_like(low) if noise is None else noise
    return a.sqrt() * low + (1 - a).sqrt() * noise


def area_down2(x):
    """2x2 area average (how emoji32 was made from emoji64)."""
    return F.avg_pool2d(x, 2)


def ddim_timesteps(steps, train_steps=1000):
    """diffusers' 'trailing' spacing (the shipped scheduler_config's): round(arange(1000, 0, -1000 / steps)) - 1,
    so the first step is at t = 999 where x_T is pure noise."""
    return [int(v) - 1 for v in np.round(np.arange(train_steps, 0, -train_steps / steps))]


@torch.no_grad()
def sample_ddim(model, low, steps=20, noise_level=0, seed=0, abar=None, batch=64):
    """Deterministic DDIM (eta 0) with v-prediction, clip_sample to [-1, 1] on the predicted x_0 as
    the playground's DDIM does. low: clean [N, 3, 32, 32] in [-1, 1]; the augmentation noise and the
    initial x_T come from one generator seeded with `seed`."""
    abar = abar_table(low.device) if abar is None else abar
    gen = torch.Generator().manual_seed(seed)
    ts = ddim_timesteps(steps)
    outs = []
    for i in range(0, low.shape[0], batch):
        y = low[i : i + batch]
        n = y.shape[0]
        size = y.shape[-1] * 2
        lvl = torch.full((n,), float(noise_level))
        y_aug = augment_low_res(y, lvl, abar, torch.randn(y.shape, generator=gen)) if noise_level > 0 else y
        x = torch.randn((n, 3, size, size), generator=gen)
        for j, t in enumerate(ts):
            a_t = abar[t]
            a_prev = abar[ts[j + 1]] if j + 1 < len(ts) else torch.tensor(1.0)
            v = model(x, torch.full((n,), float(t)), y_aug, lvl)
            x0 = (a_t.sqrt() * x - (1 - a_t).sqrt() * v).clamp(-1, 1)
            eps = ((x - a_t.sqrt() * x0) / (1 - a_t).sqrt())
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        outs.append(x.clamp(-1, 1))
    return torch.cat(outs)


def to_u8(x):
    return x.clamp(-1, 1).add(1).mul(127.5).round()


def psnr(a, b):
    """Per-image PSNR in dB of two [-1, 1] batches, both rounded to uint8 first."""
    mse = (to_u8(a) - to_u8(b)).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(255.0**2 / mse.clamp_min(1e-10))


def _gaussian_window(size=11, sigma=1.5):
    g = torch.exp(-((torch.arange(size, dtype=torch.float64) - size // 2) ** 2) / (2 * sigma**2))
    g = (g / g.sum()).float()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a, b):
    """Per-image SSIM (Wang et al. 2004: 11x11 Gaussian window sigma 1.5, K1 0.01, K2 0.03, 'valid'
    windows) on uint8-rounded values, computed per RGB channel and averaged."""
    x, y = to_u8(a).double(), to_u8(b).double()
    c = x.shape[1]
    w = _gaussian_window().double().repeat(c, 1, 1, 1)
    f = lambda z: F.conv2d(z, w, groups=c)  # noqa: E731
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return m.flatten(1).mean(1).float()


def consistency(out_high, low):
    """PSNR in dB of the output's 2x2 area average (as uint8) against the 32x32 input."""
    return psnr(area_down2(to_u8(out_high).div(127.5).sub(1)), low)


def bicubic(low):
    return F.interpolate(low, scale_factor=2.0, mode="bicubic", align_corners=False).clamp(-1, 1)


def nearest(low):
    return F.interpolate(low, scale_factor=2.0, mode="nearest")
