"""Shared by the emoji training and export scripts: paths, data loading, checkpoints, shipped weights."""

import glob
import json
import os
import platform
import re

import numpy as np
import torch

import safetensors_io

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.path.join(REPO_ROOT, "training", "data", "emoji")
CHECKPOINT_DIR = os.path.join(REPO_ROOT, "training", "checkpoints", "emoji-vae")
SHIPPED_VAE_DIR = os.path.join(REPO_ROOT, "public", "models", "emoji", "vae")
WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"


def load_images(split, data_dir=DATA_DIR):
    """float32 [N, 3, 32, 32] in [-1, 1] of the 'train' or 'held_out' images of emoji32.npz."""
    path = os.path.join(data_dir, "emoji32.npz")
    if not os.path.isfile(path):
        raise SystemExit(f"{path} is missing: run /usr/bin/python3 training/emoji/build_data.py first")
    with np.load(path) as d:
        keep = d["held_out"] if split == "held_out" else ~d["held_out"]
        images = d["images"][keep]
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()


def latest_checkpoint(ckpt_dir):
    paths = glob.glob(os.path.join(ckpt_dir, "ckpt-*.pt"))
    steps = [(int(re.search(r"ckpt-(\d+)\.pt$", p).group(1)), p) for p in paths]
    return max(steps)[1] if steps else None


def load_checkpoint(path):
    """Our own files (optimizer state, RNG, argparse values), so not restricted to weights_only."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch older than 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def save_checkpoint(ckpt_dir, state, keep=3):
    path = os.path.join(ckpt_dir, f"ckpt-{state['step']:07d}.pt")
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a run killed mid-save never leaves a torn newest checkpoint
    for old in sorted(glob.glob(os.path.join(ckpt_dir, "ckpt-*.pt")))[:-keep]:
        os.remove(old)
    return path


def load_shipped(model_dir=SHIPPED_VAE_DIR):
    """(config, float32 state dict, card) of the exported weights, or None when nothing is shipped."""
    weights_path = os.path.join(model_dir, WEIGHTS_NAME)
    if not os.path.isfile(weights_path):
        return None
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    card_path = os.path.join(model_dir, "card.json")
    card = json.load(open(card_path, encoding="utf-8")) if os.path.isfile(card_path) else {}
    tensors, _ = safetensors_io.load(weights_path)
    state = {name: torch.from_numpy(array.astype(np.float32)) for name, array in tensors.items()}
    return config, state, card


def pick_device(choice, local_rank=0):
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
        return torch.device("cuda", local_rank)
    return torch.device(choice)


def hardware_description(device, world_size=1):
    if device.type == "cuda":
        what = f"{torch.cuda.get_device_name(device)} (CUDA)"
    else:
        what = f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} thread(s)"
    return f"{world_size} x {what}, torch {torch.__version__}" if world_size > 1 else f"{what}, torch {torch.__version__}"


@torch.no_grad()
def psnr_per_image(model, images, batch=256):
    """PSNR in dB of each image against its reconstruction from the posterior mean, both as uint8."""
    out = []
    for i in range(0, images.shape[0], batch):
        x = images[i : i + batch]
        mean, _ = model.encode(x)
        rec = model.decode(mean)
        to_u8 = lambda t: t.clamp(-1, 1).add(1).mul(127.5).round()  # noqa: E731
        mse = (to_u8(rec) - to_u8(x)).pow(2).flatten(1).mean(1)
        out.append(10 * torch.log10(255.0**2 / mse.clamp_min(1e-10)))
    return torch.cat(out)
