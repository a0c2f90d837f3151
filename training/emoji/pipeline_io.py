"""Reading the shipped emoji pipeline (public/models/emoji/, diffusers' folder layout) back in."""

import json
import os

import numpy as np
import torch

import common
import safetensors_io

PIPELINE_DIR = os.path.join(common.REPO_ROOT, "public", "models", "emoji")


def _weights(path):
    tensors, _ = safetensors_io.load(path)
    return {name: torch.from_numpy(array.astype(np.float32)) for name, array in tensors.items()}


def _json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_pipeline(root=PIPELINE_DIR):
    """The trained parts of a shipped pipeline, or None when no U-Net has been shipped yet."""
    unet_path = os.path.join(root, "unet", "diffusion_pytorch_model.safetensors")
    if not os.path.isfile(unet_path):
        return None
    unet_config = _json(os.path.join(root, "unet", "config.json"))
    text_config = _json(os.path.join(root, "text_encoder", "config.json"))
    vae_config = _json(os.path.join(root, "vae", "config.json"))
    card_path = os.path.join(root, "card.json")
    return {
        "unet_config": {k: v for k, v in unet_config.items() if not k.startswith("_")},
        "text_config": {k: v for k, v in text_config.items() if not k.startswith("_")},
        "unet": _weights(unet_path),
        "text_encoder": _weights(os.path.join(root, "text_encoder", "model.safetensors")),
        "vocab": _json(os.path.join(root, "tokenizer", "vocab.json")),
        "latents_mean": vae_config["latents_mean"],
        "latents_std": vae_config["latents_std"],
        "card": _json(card_path) if os.path.isfile(card_path) else {},
    }
