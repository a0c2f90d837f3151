"""Trains the emoji judge (judge.py) on the real training images and ships it to training/emoji/judge/.

  nohup nice /usr/bin/python3 training/emoji/train_judge.py --threads 1 --minutes 15 \
    > training/checkpoints/emoji-judge/train.log 2>&1 &

Data: emoji32.npz, split "train" (6,737 images, both styles, all 1,581 emoji). Targets: emoji_id
(skin-tone variants are their base emoji) and subgroup. Loss: cross-entropy (label smoothing 0.1)
of the identity head + 0.5 x that of the subgroup head. Augmentation (judge.augment): small random
translation and scale on white, slight blur, pixel noise; never a colour change, never a flip
(left and right arrows are different emoji). AdamW (weight decay 5e-4), linear warm-up, cosine
decay over the run (its progress is the larger of step / --steps and elapsed / --minutes).

Its own accuracy is measured on the held-out split: the 175 images of 85 emoji whose OTHER style is
in training, so the numbers say how well it recognises an emoji drawn in a style it has not seen
for that emoji. Also measured: the same images after a round trip through the shipped VAE (what
generated pictures look like at best), and the training images. All from the float16 weights.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import safetensors_io  # noqa: E402
from judge import JUDGE_DIR, WEIGHTS_FILE, EmojiJudge, Judge, augment, topk_accuracy  # noqa: E402

CKPT_DIR = os.path.join(common.REPO_ROOT, "training", "checkpoints", "emoji-judge")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=15.0, help="wall-clock budget of the run")
    p.add_argument("--steps", type=int, default=100000, help="at most this many steps")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--out-dir", default=JUDGE_DIR)
    p.add_argument("--ckpt-dir", default=CKPT_DIR)
    p.add_argument("--init-from", default=None, help="continue from a judge checkpoint (judge-final.pt): weights "
                   "and run history; the optimizer and the learning-rate cycle start afresh")
    p.add_argument("--data-dir", default=common.DATA_DIR)
    return p.parse_args(argv)


def load_targets(data_dir):
    with np.load(os.path.join(data_dir, "emoji32.npz")) as d:
        table = {k: d[k] for k in ("emoji_id", "subgroup", "held_out", "style", "label")}
    id_names = sorted(set(table["emoji_id"].tolist()))
    sub_names = sorted(set(table["subgroup"].tolist()))
    id_index = {k: i for i, k in enumerate(id_names)}
    sub_index = {k: i for i, k in enumerate(sub_names)}
    ids = torch.tensor([id_index[k] for k in table["emoji_id"]])
    subs = torch.tensor([sub_index[k] for k in table["subgroup"]])
    labels = {}
    for k, lab in zip(table["emoji_id"], table["label"]):
        labels.setdefault(str(k), str(lab))
    return table, id_names, sub_names, ids, subs, labels


@torch.no_grad()
def measure(model, images, ids, subs):
    model.eval()
    a, b = [], []
    for i in range(0, images.shape[0], 256):
        x, y = model(images[i : i + 256])
        a.append(x)
        b.append(y)
    id_logits, sub_logits = torch.cat(a), torch.cat(b)
    acc = topk_accuracy(id_logits, ids)
    sub = topk_accuracy(sub_logits, subs)
    return {"images": int(images.shape[0]), "id_top1": round(acc[1], 4), "id_top5": round(acc[5], 4),
            "subgroup_top1": round(sub[1], 4), "subgroup_top5": round(sub[5], 4)}


@torch.no_grad()
def vae_round_trip(images):
    import latent_data

    vae = latent_data.load_vae()[0]
    out = []
    for i in range(0, images.shape[0], 128):
        mean, _ = vae.encode(images[i : i + 128])
        out.append(vae.decode(mean).clamp(-1, 1))
    return torch.cat(out)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.ckpt_dir, exist_ok=True)
    table, id_names, sub_names, ids, subs, labels = load_targets(args.data_dir)
    held = torch.from_numpy(table["held_out"])
    all_images = torch.cat([common.load_images("train", args.data_dir), common.load_images("held_out", args.data_dir)])
    # load_images returns the train rows then (separately) the held-out rows, each in table order
    order = torch.cat([torch.nonzero(~held).flatten(), torch.nonzero(held).flatten()])
    images = torch.empty_like(all_images)
    images[order] = all_images
    tr, ho = torch.nonzero(~held).flatten(), torch.nonzero(held).flatten()
    x_tr, id_tr, sub_tr = images[tr], ids[tr], subs[tr]
    x_ho, id_ho, sub_ho = images[ho], ids[ho], subs[ho]

    cfg = {"num_ids": len(id_names), "num_subgroups": len(sub_names)}
    model = EmojiJudge(cfg)
    runs = []
    if args.init_from:
        prev = common.load_checkpoint(args.init_from)
        model.load_state_dict(prev["model"])
        runs = prev.get("runs") or [{"steps": prev["step"], "batch": 64, "lr": 2e-3, "note": "first run (45 min budget)"}]
        print(f"continuing from {args.init_from} ({sum(r['steps'] for r in runs)} steps so far)", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    print(f"emoji judge: {x_tr.shape[0]} train / {x_ho.shape[0]} held-out images, {len(id_names)} ids, "
          f"{len(sub_names)} subgroups, {n_params:,} params, batch {args.batch}, {args.minutes} min, "
          f"{args.threads} thread(s)", flush=True)

    step, epoch, t0 = 0, 0, time.time()
    perm, pos = torch.randperm(x_tr.shape[0], generator=gen), 0
    sums, n, t_log = torch.zeros(3), 0, time.time()
    history = []
    while step < args.steps:
        progress = max(step / args.steps, (time.time() - t0) / (args.minutes * 60))
        if progress >= 1.0:
            break
        if pos + args.batch > perm.shape[0]:
            perm, pos, epoch = torch.randperm(x_tr.shape[0], generator=gen), 0, epoch + 1
        idx = perm[pos : pos + args.batch]
        pos += args.batch
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        x = augment(x_tr[idx], gen)
        id_logits, sub_logits = model(x)
        loss_id = F.cross_entropy(id_logits, id_tr[idx], label_smoothing=0.1)
        loss_sub = F.cross_entropy(sub_logits, sub_tr[idx], label_smoothing=0.1)
        loss = loss_id + 0.5 * loss_sub
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        sums += torch.tensor([loss.item(), loss_id.item(), (id_logits.argmax(1) == id_tr[idx]).float().mean().item()])
        n += 1
        if step % 25 == 0:
            l, li, a = (sums / n).tolist()
            print(f"step {step} epoch {epoch} loss {l:.3f} id-ce {li:.3f} train-batch-acc {a:.3f} lr {lr:.2e} "
                  f"{(time.time() - t_log) / n:.2f} s/step", flush=True)
            sums, n, t_log = torch.zeros(3), 0, time.time()
        if step % args.eval_every == 0:
            m = measure(model, x_ho, id_ho, sub_ho)
            history.append(dict(step=step, minutes=round((time.time() - t0) / 60, 2), **m))
            print(f"held-out at step {step}: {m}", flush=True)
    seconds = time.time() - t0
    runs = runs + [{"steps": step, "batch": args.batch, "lr": args.lr, "wall_seconds": round(seconds, 1),
                    "command": "nice /usr/bin/python3 training/emoji/train_judge.py " + " ".join(sys.argv[1:])}]
    total_steps = sum(r["steps"] for r in runs)
    torch.save({"model": model.state_dict(), "step": total_steps, "config": model.config, "runs": runs},
               os.path.join(args.ckpt_dir, "judge-final.pt"))

    # ship float16 weights, then measure what was shipped
    os.makedirs(args.out_dir, exist_ok=True)
    half = {k: v.detach().cpu().numpy().astype(np.float16) for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}
    weights_path = os.path.join(args.out_dir, WEIGHTS_FILE)
    safetensors_io.save(weights_path, half, {"format": "pt"})
    with open(weights_path, "rb") as f:
        blob = f.read()
    card = {
        "format": "diffusion-playground/judge-card@1",
        "id": "emoji-judge",
        "purpose": "evaluation only: names the emoji in a 32x32 RGB picture (identity and subgroup), to measure "
                   "the prompt fidelity of generated emoji (training/emoji/evaluate_pipeline.py)",
        "class_name": "EmojiJudge", "script": "training/emoji/judge.py", "config": model.config,
        "input": "float32 [N, 3, 32, 32], RGB in [-1, 1], emoji composited on white",
        "weights": {"file": WEIGHTS_FILE, "dtype": "float16", "byte_length": len(blob),
                    "sha256": hashlib.sha256(blob).hexdigest(), "parameter_count": n_params},
        "classes": {"emoji_id": id_names, "subgroup": sub_names},
        "labels": {k: labels[k] for k in id_names},
        "training": {
            "data": "training/data/emoji/emoji32.npz, split 'train' (real Twemoji and Noto images only)",
            "steps": total_steps, "epochs": round(sum(r["steps"] * r["batch"] for r in runs) / x_tr.shape[0], 2),
            "runs": runs, "hardware": common.hardware_description(torch.device("cpu")),
            "loss": "cross-entropy (label smoothing 0.1): identity + 0.5 x subgroup",
            "augmentation": "random translation +-2 px and scale 0.88-1.12 on white, Gaussian blur sigma 0.3-1.0 "
                            "(40%), pixel noise std <= 0.06 (50%); no colour change, no flips",
            "optimizer": "AdamW (weight decay 5e-4 on weights), warm-up 100 steps, cosine decay",
            "held_out_history": history,
        },
        "exported_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "torch_version": torch.__version__,
    }
    with open(os.path.join(args.out_dir, "card.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=1)
        f.write("\n")

    judge = Judge.load(args.out_dir)  # the float16 weights, as shipped
    quality = {"held_out": measure(judge.model, x_ho, id_ho, sub_ho)}
    for style in ("twitter", "google"):
        keep = torch.from_numpy(table["style"][ho.numpy()] == style)
        quality[f"held_out_{style}"] = measure(judge.model, x_ho[keep], id_ho[keep], sub_ho[keep])
    quality["held_out_vae_round_trip"] = measure(judge.model, vae_round_trip(x_ho), id_ho, sub_ho)
    sub_idx = torch.randperm(x_tr.shape[0], generator=torch.Generator().manual_seed(1))[:1000]
    quality["train_1000"] = measure(judge.model, x_tr[sub_idx], id_tr[sub_idx], sub_tr[sub_idx])
    quality["train_1000_vae_round_trip"] = measure(judge.model, vae_round_trip(x_tr[sub_idx]), id_tr[sub_idx], sub_tr[sub_idx])
    quality["definition"] = (
        "top-k: the true emoji_id (or subgroup) is among the judge's k most likely classes. held_out: the 175 held-out "
        "real images (85 emoji, each seen in training only in its other style); vae_round_trip: the same pictures "
        "encoded and decoded by the shipped VAE (posterior mean), the best a generated picture can look; "
        "train_1000: 1,000 random training images (seed 1), un-augmented")
    card["quality"] = quality
    with open(os.path.join(args.out_dir, "card.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=1)
        f.write("\n")
    print(json.dumps(quality, indent=1))
    print(f"shipped {weights_path} ({len(blob):,} bytes), {step} steps in {seconds / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
