"""Draws a labelled grid of samples from an exported model, to eyeball what the browser will show.

  /usr/bin/python3 training/sample.py --model-dir public/models/mnist --out /tmp/mnist-grid.png

Reads public/models/<id>/card.json + weights.bin (the shipped float16 weights, not a checkpoint),
so it checks the exported files themselves. Sampler: DDIM (eta 0, diffusers "leading" spacing,
x0 clipped to [-1, 1] as clip_sample=True) with classifier-free guidance
eps = eps_null + w * (eps_class - eps_null). One row per class.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schedule import alphas_cumprod  # noqa: E402
from unet import UNet  # noqa: E402


def load_exported(model_dir):
    with open(os.path.join(model_dir, "card.json")) as f:
        card = json.load(f)
    raw = open(os.path.join(model_dir, card["weights"]["file"]), "rb").read()
    state = {}
    for t in card["tensors"]:
        dtype = {"float16": "<f2", "float32": "<f4"}[t["dtype"]]
        values = np.frombuffer(raw, dtype=dtype, count=int(np.prod(t["shape"])), offset=t["offset"])
        state[t["name"]] = torch.from_numpy(values.astype(np.float32).reshape(t["shape"]))
    model = UNet(card["architecture"])
    model.load_state_dict(state)
    return card, model.eval()


@torch.no_grad()
def ddim_sample(model, card, classes, steps, guidance, generator):
    abar = alphas_cumprod(card["scheduler"]["num_train_timesteps"])
    n = len(classes)
    size, ch = card["architecture"]["image_size"], card["architecture"]["in_channels"]
    x = torch.randn(n, ch, size, size, generator=generator)
    y = torch.tensor(classes)
    null = torch.full_like(y, card["null_class_id"])
    ratio = abar.shape[0] // steps
    timesteps = list(range(0, steps * ratio, ratio))[::-1]
    for i, t in enumerate(timesteps):
        tt = torch.full((2 * n,), float(t))
        out = model(torch.cat([x, x]), tt, torch.cat([y, null]))
        cond, uncond = out[:n], out[n:]
        out = uncond + guidance * (cond - uncond)
        a_t = abar[t]
        a_prev = abar[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0)
        if card["prediction_type"] == "v_prediction":
            x0 = a_t.sqrt() * x - (1 - a_t).sqrt() * out
        else:
            x0 = (x - (1 - a_t).sqrt() * out) / a_t.sqrt()
        x0 = x0.clamp(-1, 1)
        eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--out", required=True, help="PNG path")
    p.add_argument("--per-class", type=int, default=8)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--guidance", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    card, model = load_exported(args.model_dir)
    num_classes = card["architecture"]["num_classes"]
    classes = [c for c in range(num_classes) for _ in range(args.per_class)]
    x = ddim_sample(model, card, classes, args.steps, args.guidance, torch.Generator().manual_seed(args.seed))
    pixels = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].numpy()
    size = pixels.shape[-1]
    grid = pixels.reshape(num_classes, args.per_class, size, size).transpose(0, 2, 1, 3)
    Image.fromarray(grid.reshape(num_classes * size, args.per_class * size)).save(args.out)
    print(f"{card['id']} step {card['training']['steps']}: {len(classes)} samples, {args.steps} DDIM steps, "
          f"guidance {args.guidance} -> {args.out} (rows: {', '.join(card['class_labels'])})")


if __name__ == "__main__":
    main()
