"""Trains a small time-conditioned classifier on noisy images x_t, for classifier guidance, and exports
it for the browser in the style of training/export.py (float16 weights + card.json, sha256-checked).

  /usr/bin/python3 training/train_noisy_classifier.py --dataset mnist --threads 1
  /usr/bin/python3 training/train_noisy_classifier.py --dataset fashion-mnist --threads 1 --steps 3000

Training pairs: x0 from the training set, t uniform in [0, 999], x_t = sqrt(abar_t) x0 +
sqrt(1 - abar_t) eps with the models' cosine schedule (training/schedule.py); loss: cross-entropy
of the class. At large t the class is gone from x_t, so the accuracy falls towards 10% there; a
guidance method uses grad_x log p(y | x_t, t), which needs the smooth activations used here.

Network (NoisyClassifier, NCHW in PyTorch; the browser reads NHWC):
  emb = Linear(128,128)(SiLU(Linear(32,128)(timestep_features(t, 32))))   (unet.timestep_features)
  h = SiLU(conv3x3(1->32)(x_t))
  h = conv3x3 stride 2 pad 1 (32->64) -> 14x14; Block(64); conv3x3 stride 2 pad 1 (64->64) -> 7x7;
  Block(64); SiLU(GN(h)); mean over H, W; Linear(64->10) -> logits
  Block(c): h + conv2(SiLU(GN2(conv1(SiLU(GN1(h))) + emb_proj(SiLU(emb))[:, :, None, None])))

Writes
  training/checkpoints/<dataset>-classifier.pt          float32 weights and the training record
  public/models/<dataset>-classifier/card.json          config, tensor manifest, sha256, accuracy by t
  public/models/<dataset>-classifier/weights.bin        float16, little-endian, PyTorch layouts
  tests/fixtures/parity-<dataset>-classifier.json       fixed inputs and PyTorch logits of the
                                                        float16-rounded weights, for a future port
"""

import argparse
import datetime
import os
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from export import float16_weights, write_json, write_weights  # noqa: E402
from schedule import SCHEDULER_CONFIG, alphas_cumprod  # noqa: E402
from unet import count_parameters, timestep_features  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARD_FORMAT = "diffusion-playground/noisy-classifier-card@1"
EVAL_TIMESTEPS = [0, 250, 500, 750, 999]
PARITY_TIMESTEPS = [0.0, 250.0, 750.5]
PARITY_SEED = 4321

DEFAULT_CONFIG = {
    "model_type": "noisy-classifier-cnn",
    "image_size": 28,
    "in_channels": 1,
    "channels": [32, 64],
    "num_classes": 10,
    "groupnorm_groups": 8,
    "groupnorm_eps": 1e-05,
    "timestep_features": 32,
    "timestep_max_period": 10000,
    "embed_dim": 128,
    "downsample": "conv3x3-stride2-pad1",
}


class Block(nn.Module):
    def __init__(self, ch, embed_dim, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, ch, eps=eps)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.emb_proj = nn.Linear(embed_dim, ch)
        self.norm2 = nn.GroupNorm(groups, ch, eps=eps)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, h, emb):
        r = self.conv1(F.silu(self.norm1(h))) + self.emb_proj(F.silu(emb))[:, :, None, None]
        return h + self.conv2(F.silu(self.norm2(r)))


class NoisyClassifier(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        c1, c2 = c["channels"]
        g, eps, e = c["groupnorm_groups"], c["groupnorm_eps"], c["embed_dim"]
        self.time_mlp = nn.Sequential(nn.Linear(c["timestep_features"], e), nn.SiLU(), nn.Linear(e, e))
        self.conv_in = nn.Conv2d(c["in_channels"], c1, 3, padding=1)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.block2 = Block(c2, e, g, eps)
        self.down2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.block3 = Block(c2, e, g, eps)
        self.out_norm = nn.GroupNorm(g, c2, eps=eps)
        self.head = nn.Linear(c2, c["num_classes"])

    def forward(self, x, t):
        c = self.config
        emb = self.time_mlp(timestep_features(t, c["timestep_features"], c["timestep_max_period"]))
        h = self.block2(self.down1(F.silu(self.conv_in(x))), emb)
        h = self.block3(self.down2(h), emb)
        return self.head(F.silu(self.out_norm(h)).mean(dim=(2, 3)))


def noisy(x0, t, abar, gen):
    noise = torch.randn(x0.shape, generator=gen)
    a = abar[t.long()]
    return a.sqrt()[:, None, None, None] * x0 + (1 - a).sqrt()[:, None, None, None] * noise


@torch.no_grad()
def accuracy_by_timestep(model, x, y, abar, timesteps=EVAL_TIMESTEPS, seed=0, batch=1000):
    model.eval()
    out = {}
    for t in timesteps:
        gen = torch.Generator().manual_seed(seed + t)
        correct = 0
        for i in range(0, x.shape[0], batch):
            xb = x[i : i + batch]
            tb = torch.full((xb.shape[0],), float(t))
            correct += (model(noisy(xb, tb, abar, gen), tb).argmax(1) == y[i : i + batch]).sum().item()
        out[str(t)] = round(correct / x.shape[0], 4)
    model.train()
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-images", type=int, default=2000, help="test images per timestep in the report")
    p.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "public", "models"))
    p.add_argument("--fixtures-dir", default=os.path.join(REPO_ROOT, "tests", "fixtures"))
    p.add_argument("--log-every", type=int, default=100)
    return p.parse_args(argv)


def parity_fixture(model, x_test, abar, model_id):
    gen = torch.Generator().manual_seed(PARITY_SEED)
    t = torch.tensor(PARITY_TIMESTEPS)
    x_t = noisy(x_test[:3], t, abar, gen)
    with torch.no_grad():
        logits = model(x_t, t)

    def flat(v):
        return [float(a) for a in v.reshape(-1).tolist()]

    return {
        "model_id": model_id,
        "description": "PyTorch logits of training/train_noisy_classifier.py's NoisyClassifier with the "
        "shipped float16 weights (rounded to float16 and back to float32), eval mode.",
        "layout": "NHWC",
        "x_t_shape": list(x_t.permute(0, 2, 3, 1).shape),
        "x_t": flat(x_t.permute(0, 2, 3, 1).contiguous()),
        "timesteps": PARITY_TIMESTEPS,
        "logits_shape": list(logits.shape),
        "logits": flat(logits),
        "torch_version": torch.__version__,
    }


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    abar = alphas_cumprod()
    x_train, y_train = data.load(args.dataset, "train")
    x_test, y_test = data.load(args.dataset, "test")
    x_eval, y_eval = x_test[: args.eval_images], y_test[: args.eval_images]

    model = NoisyClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    start, step, seen = time.time(), 0, 0
    order = torch.randperm(x_train.shape[0], generator=gen)
    running = 0.0
    while step < args.steps:
        if seen + args.batch > x_train.shape[0]:
            order, seen = torch.randperm(x_train.shape[0], generator=gen), 0
        idx = order[seen : seen + args.batch]
        seen += args.batch
        t = torch.randint(0, abar.shape[0], (idx.shape[0],), generator=gen).float()
        loss = F.cross_entropy(model(noisy(x_train[idx], t, abar, gen), t), y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        running += loss.item()
        if step % args.log_every == 0:
            print(f"step {step}/{args.steps}: loss {running / args.log_every:.4f} ({time.time() - start:.0f} s)",
                  flush=True)
            running = 0.0
        if args.minutes and time.time() - start > args.minutes * 60:
            print(f"stopping at step {step}: --minutes {args.minutes} reached", flush=True)
            break
    wall = time.time() - start
    model.eval()
    model_id = f"{args.dataset}-classifier"
    ckpt_path = os.path.join(REPO_ROOT, "training", "checkpoints", f"{model_id}.pt")
    os.makedirs(os.path.dirname(ckpt_path), exist_ok=True)
    torch.save({"config": model.config, "state_dict": model.state_dict(), "step": step, "args": vars(args)},
               ckpt_path)

    # What ships: float16-rounded weights; the reported accuracy is measured on exactly those.
    weights = float16_weights(model.state_dict())
    model.load_state_dict({name: torch.from_numpy(half.astype("float32")) for name, half in weights})
    accuracy = accuracy_by_timestep(model, x_eval, y_eval, abar)
    model.eval()
    model_dir = os.path.join(args.out_dir, model_id)
    os.makedirs(model_dir, exist_ok=True)
    manifest, byte_length, sha = write_weights(os.path.join(model_dir, "weights.bin"), weights)
    info = data.DATASETS[args.dataset]
    cfg = model.config
    card = {
        "format": CARD_FORMAT,
        "id": model_id,
        "name": f"{info['name']} noisy-image classifier (for classifier guidance)",
        "for_model": args.dataset,
        "architecture": cfg,
        "layers": "emb = time_mlp.2(SiLU(time_mlp.0(timestep_features(t)))); h = SiLU(conv_in(x)); "
        "h = down1(h); h = block2(h); h = down2(h); h = block3(h); "
        "logits = head(mean_HW(SiLU(out_norm(h)))); "
        "block(h) = h + conv2(SiLU(norm2(conv1(SiLU(norm1(h))) + emb_proj(SiLU(emb))))); "
        "convs 3x3 padding 1, down1/down2 stride 2 (pad 1 on every side); timestep_features as in the "
        "U-Net card (cos half first)",
        "parameter_count": count_parameters(model),
        "io": {
            "layout": "NHWC",
            "input_shape": [None, cfg["image_size"], cfg["image_size"], cfg["in_channels"]],
            "pixel_range": [-1.0, 1.0],
            "inputs": "x_t = sqrt(alphas_cumprod[t]) x_0 + sqrt(1 - alphas_cumprod[t]) eps (the variance-"
            "preserving sample of the scheduler below), t in [0, num_train_timesteps), may be fractional",
            "output": f"class logits [N, {cfg['num_classes']}]",
        },
        "weights": {
            "file": "weights.bin",
            "dtype": "float16",
            "byte_order": "little",
            "byte_length": byte_length,
            "sha256": sha,
            "layout": "PyTorch: conv OIHW, linear [out, in], GroupNorm [C]",
        },
        "tensors": manifest,
        "dataset": {"id": args.dataset, "name": info["name"], "split": "train (all 60,000 images)",
                    "licence": info["licence"], "attribution": info["attribution"],
                    "obtained_from": info["obtained_from"]},
        "class_labels": info["class_labels"],
        "scheduler": SCHEDULER_CONFIG,
        "accuracy": {
            "split": f"test, first {x_eval.shape[0]} images, one noise draw per image and timestep",
            "by_timestep": accuracy,
            "weights": "the shipped float16 weights",
        },
        "training": {
            "script": "training/train_noisy_classifier.py",
            "steps": step,
            "batch": args.batch,
            "optimizer": f"AdamW, one-cycle lr up to {args.lr}, weight decay 1e-4",
            "loss": "cross-entropy, t uniform over all train timesteps",
            "seed": args.seed,
            "hardware": f"CPU {platform.machine()}, {args.threads} thread(s), torch {torch.__version__}",
            "wall_seconds": round(wall, 1),
            "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
        "licence": f"Weights trained by this repository's scripts on {info['name']} ({info['licence']}); "
        "attribute the data set as above.",
    }
    write_json(os.path.join(model_dir, "card.json"), card)
    fixture_path = os.path.join(args.fixtures_dir, f"parity-{model_id}.json")
    write_json(fixture_path, parity_fixture(model, x_test, abar, model_id), indent=None)
    print(f"{model_id}: {step} steps in {wall:.0f} s; test accuracy by t (float16 weights): "
          + ", ".join(f"t={t}: {a:.4f}" for t, a in accuracy.items()))
    print(f"wrote {model_dir}/card.json, weights.bin ({byte_length:,} bytes, sha256 {sha[:16]}...), {fixture_path}")


if __name__ == "__main__":
    main()
