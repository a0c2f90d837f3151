"""Exports the EMA weights of a training checkpoint for the browser, plus a parity fixture.

  /usr/bin/python3 training/export.py --dataset mnist            # newest checkpoint of the data set
  /usr/bin/python3 training/export.py --dataset mnist --checkpoint path/to/ckpt-0004000.pt

Writes
  public/models/<id>/weights.bin   every parameter of the EMA model as little-endian float16, in the
                                   order of `tensors` in the card, PyTorch layouts (conv OIHW,
                                   linear [out, in], embedding [rows, dim])
  public/models/<id>/card.json     architecture config, tensor manifest, sha256, data set, labels,
                                   scheduler config (diffusers keys), training record, quality: null
  public/models/index.json         the list of shipped models (this one added or replaced)
  tests/fixtures/parity-<id>.json  fixed inputs and the PyTorch outputs of the *float16-rounded*
                                   weights, which is what the browser runs, so the parity test
                                   measures the port, not the float16 rounding.
Re-running it after more training refreshes all of these together; `quality` is kept from the
previous card only if the weights did not change.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from train_diffusion import CHECKPOINT_ROOT, latest_checkpoint, load_checkpoint  # noqa: E402
from unet import UNet, count_parameters, estimate_flops_per_sample, timestep_features  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARD_FORMAT = "diffusion-playground/unet-card@1"

# Fixed parity inputs: one early, one fractional (schedulers with Karras sigmas ask for those) and
# the last timestep; a digit class, another class and the NULL class (unconditional branch of CFG).
PARITY_TIMESTEPS = [7.0, 500.5, 999.0]
PARITY_CLASSES = [3, 7, None]  # None -> null_class_id
PARITY_SEED = 1234

MODEL_NAMES = {
    "mnist": "MNIST digits, class-conditional DDPM U-Net",
    "fashion-mnist": "Fashion-MNIST clothing, class-conditional DDPM U-Net",
    # Identical to "mnist" but for the noise schedule: the linear-vs-cosine comparison (README).
    "mnist-linear": "MNIST, linear schedule",
}


def model_id_for(dataset, beta_schedule):
    """The cosine model carries the data set's name; another schedule's model says which."""
    return dataset if beta_schedule == "squaredcos_cap_v2" else f"{dataset}-{beta_schedule}"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--checkpoint", default=None, help="a ckpt-*.pt file or a directory of them")
    p.add_argument("--beta-schedule", default="squaredcos_cap_v2", help="which run to export when "
                   "--checkpoint is not given: linear reads training/checkpoints/<dataset>-linear")
    p.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "public", "models"))
    p.add_argument("--fixtures-dir", default=os.path.join(REPO_ROOT, "tests", "fixtures"))
    return p.parse_args(argv)


def resolve_checkpoint(dataset, checkpoint, beta_schedule="squaredcos_cap_v2"):
    path = checkpoint or os.path.join(CHECKPOINT_ROOT, model_id_for(dataset, beta_schedule))
    if os.path.isdir(path):
        path = latest_checkpoint(path)
    if not path or not os.path.isfile(path):
        raise SystemExit(f"no checkpoint found for {dataset} (looked at {checkpoint or CHECKPOINT_ROOT})")
    return path


def float16_weights(state_dict):
    """(name, float16 numpy array) for every tensor, in state_dict order, refusing non-finite ones."""
    out = []
    for name, tensor in state_dict.items():
        half = tensor.detach().cpu().to(torch.float16).numpy()
        if not np.isfinite(half).all():
            raise SystemExit(f"{name}: non-finite values after float16 rounding (overflow?)")
        out.append((name, half))
    return out


def write_weights(path, weights):
    manifest, offset = [], 0
    with open(path, "wb") as f:
        for name, half in weights:
            raw = half.astype("<f2").tobytes()
            f.write(raw)
            manifest.append({"name": name, "shape": list(half.shape), "dtype": "float16",
                             "offset": offset, "length": len(raw)})
            offset += len(raw)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return manifest, offset, sha


def parity_fixture(model, dataset, model_id, beta_schedule="squaredcos_cap_v2"):
    """Noisy test-set images at fixed t, and the model's outputs; tensors stored flat, NHWC order."""
    cfg = model.config
    images, _ = data.load(dataset, "test")
    gen = torch.Generator().manual_seed(PARITY_SEED)
    x0 = images[:3]
    noise = torch.randn(x0.shape, generator=gen)
    from schedule import alphas_cumprod

    abar = alphas_cumprod(1000, beta_schedule)
    t = torch.tensor(PARITY_TIMESTEPS)
    a = abar[t.long()]  # the fraction only matters to the model's embedding, not to making x_t
    x_t = a.sqrt()[:, None, None, None] * x0 + (1 - a).sqrt()[:, None, None, None] * noise
    classes = [cfg["null_class_id"] if c is None else c for c in PARITY_CLASSES]
    with torch.no_grad():
        out = model(x_t, t, torch.tensor(classes))
        features = timestep_features(t, cfg["timestep_features"], cfg["timestep_max_period"])

    def nhwc(x):
        return x.permute(0, 2, 3, 1).contiguous()

    def flat(x):
        return [float(v) for v in x.reshape(-1).tolist()]

    return {
        "model_id": model_id,
        "description": "PyTorch outputs of training/unet.py with the shipped float16 weights "
        "(rounded to float16 and back to float32), eval mode. Written by training/export.py.",
        "layout": "NHWC",
        "x_t_shape": list(nhwc(x_t).shape),
        "x_t": flat(nhwc(x_t)),
        "timesteps": PARITY_TIMESTEPS,
        "class_ids": classes,
        "timestep_features_shape": list(features.shape),
        "timestep_features": flat(features),
        "output_shape": list(nhwc(out).shape),
        "output": flat(nhwc(out)),
        "output_std": float(out.std()),
        "output_max_abs": float(out.abs().max()),
        "torch_version": torch.__version__,
    }


def update_index(out_dir, model_id, card):
    path = os.path.join(out_dir, "index.json")
    index = {"models": []}
    if os.path.isfile(path):
        with open(path) as f:
            index = json.load(f)
    entry = {"id": model_id, "name": card["name"], "card": f"{model_id}/card.json",
             "dataset": card["dataset"]["name"], "parameter_count": card["parameter_count"]}
    # Keep the listed order (the first model is the app's default): replace in place, or append.
    ids = [m["id"] for m in index["models"]]
    if model_id in ids:
        index["models"][ids.index(model_id)] = entry
    else:
        index["models"].append(entry)
    write_json(path, index)


def write_json(path, obj, indent=2):
    """Pretty JSON, except that lists of plain numbers/strings and flat objects stay on one line."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(obj, indent=indent)
    if indent is not None:
        one_line = lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)).replace("[ ", "[").replace(" ]", "]")
        text = re.sub(r"\[[^\[\]{}]*\]", one_line, text)
        text = re.sub(r"\{[^\[\]{}]*(\[[^\[\]{}]*\][^\[\]{}]*)*\}", lambda m: one_line(m).replace("{ ", "{").replace(" }", "}"), text)
    with open(path, "w") as f:
        f.write(text + "\n")


def main(argv=None):
    args = parse_args(argv)
    ckpt_path = resolve_checkpoint(args.dataset, args.checkpoint, args.beta_schedule)
    ckpt = load_checkpoint(ckpt_path)
    beta_schedule = ckpt["scheduler_config"]["beta_schedule"]
    model_id = model_id_for(args.dataset, beta_schedule)
    model_dir = os.path.join(args.out_dir, model_id)
    os.makedirs(model_dir, exist_ok=True)

    weights = float16_weights(ckpt["ema"])
    manifest, byte_length, sha = write_weights(os.path.join(model_dir, "weights.bin"), weights)

    # The fixture runs exactly the weights we ship: float16-rounded, back in float32.
    model = UNet(ckpt["config"])
    model.load_state_dict({name: torch.from_numpy(half.astype(np.float32)) for name, half in weights})
    model.eval()

    old_card_path = os.path.join(model_dir, "card.json")
    quality = None
    if os.path.isfile(old_card_path):
        with open(old_card_path) as f:
            old = json.load(f)
        if old.get("weights", {}).get("sha256") == sha:
            quality = old.get("quality")

    info = data.DATASETS[args.dataset]
    train_args = ckpt["train_args"]
    cfg = model.config
    card = {
        "format": CARD_FORMAT,
        "id": model_id,
        "name": MODEL_NAMES[model_id],
        "architecture": cfg,
        "parameter_count": count_parameters(model),
        "gflop_per_sample": round(estimate_flops_per_sample(model) / 1e9, 4),
        "io": {
            "layout": "NHWC",
            "input_shape": [None, cfg["image_size"], cfg["image_size"], cfg["in_channels"]],
            "pixel_range": [-1.0, 1.0],
            "inputs": "x_t (noisy image), t (timestep in [0, num_train_timesteps), may be fractional), "
            "class id (null_class_id for the unconditional branch)",
            "output": ckpt["scheduler_config"]["prediction_type"],
        },
        "weights": {
            "file": "weights.bin",
            "dtype": "float16",
            "byte_order": "little",
            "byte_length": byte_length,
            "sha256": sha,
            "layout": "PyTorch: conv OIHW, linear [out, in], embedding [rows, dim]",
            "source": "EMA of the training weights",
        },
        "tensors": manifest,
        "dataset": {
            "id": args.dataset,
            "name": info["name"],
            "split": "train (all 60,000 images)",
            "licence": info["licence"],
            "attribution": info["attribution"],
            "obtained_from": info["obtained_from"],
        },
        "class_labels": info["class_labels"],
        "null_class_id": cfg["null_class_id"],
        # The training schedule, plus one inference choice: dynamic thresholding of x_0, as diffusers
        # advises for pixel-space models. Without it, x_0-predicting solvers (DPM++, UniPC, DEIS)
        # blow up near t = 999 where the cosine schedule's alpha is ~5e-5 (measured: DPM++ 2M
        # trailing, 20 steps, guidance 2: 0.14 class accuracy without, 0.84 with).
        "scheduler": {**ckpt["scheduler_config"], "thresholding": True},
        "prediction_type": ckpt["scheduler_config"]["prediction_type"],
        "training": {
            "script": "training/train_diffusion.py",
            "steps": ckpt["step"],
            "batch": train_args["batch"],
            "optimizer": f"AdamW lr {train_args['lr']} (linear warm-up {train_args['warmup']} steps, "
            f"then constant), weight decay {train_args['weight_decay']}, grad-norm clip 1.0",
            "ema_decay": train_args["ema_decay"],
            "ema_warmup": "min(decay, (1 + step) / (10 + step))",
            "class_dropout": train_args["class_dropout"],
            "random_hflip": train_args["hflip"],
            "loss": "MSE on the prediction target, t uniform over all train timesteps",
            "seed": train_args["seed"],
            "hardware": ckpt["hardware"],
            "wall_seconds": round(ckpt["wall_seconds"], 1),
            "checkpoint": os.path.basename(ckpt_path),
            "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
        "licence": f"Weights trained by this repository's scripts on {info['name']} ({info['licence']}); "
        "attribute the data set as above.",
        "quality": quality,
    }
    write_json(os.path.join(model_dir, "card.json"), card)
    update_index(args.out_dir, model_id, card)
    fixture_path = os.path.join(args.fixtures_dir, f"parity-{model_id}.json")
    write_json(fixture_path, parity_fixture(model, args.dataset, model_id, beta_schedule), indent=None)
    print(f"exported {ckpt_path} (step {ckpt['step']}) -> {model_dir}: {len(manifest)} tensors, "
          f"{byte_length:,} bytes, sha256 {sha[:16]}...; fixture {fixture_path}")


if __name__ == "__main__":
    main()
