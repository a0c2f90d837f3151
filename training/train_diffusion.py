"""Trains the class-conditional diffusion U-Net (training/unet.py) on MNIST or Fashion-MNIST.

  /usr/bin/python3 training/train_diffusion.py --dataset mnist --steps 4000 --threads 1
  python3 training/train_diffusion.py --dataset mnist --steps 20000 --batch 256 --device cuda

Objective: DDPM with the cosine ("squaredcos_cap_v2") schedule, 1000 steps, epsilon (or v)
prediction, MSE loss, t uniform in [0, 999]; classes dropped to the NULL id with p=0.15 so the one
network serves classifier-free guidance. AdamW with linear warm-up, EMA of the weights (what we ship).

Checkpoints go to training/checkpoints/<dataset>/ckpt-<step>.pt every --ckpt-every steps (the last
three are kept) and the run resumes from the newest one automatically, including optimizer, EMA,
data order and RNG state, so a killed run loses at most --ckpt-every steps.
"""

import argparse
import contextlib
import copy
import glob
import json
import os
import platform
import re
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from schedule import BETA_SCHEDULES, SCHEDULER_CONFIG, alphas_cumprod, scheduler_config  # noqa: E402
from unet import UNet, count_parameters  # noqa: E402

CHECKPOINT_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkpoints")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--steps", type=int, default=4000, help="total optimizer steps (resume continues to this)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--warmup", type=int, default=200, help="linear lr warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--ema-decay", type=float, default=0.999, help="max EMA decay; warms up as (1+s)/(10+s)")
    p.add_argument("--class-dropout", type=float, default=0.15, help="p(class -> NULL) for CFG")
    p.add_argument("--prediction", choices=["epsilon", "v_prediction"], default="epsilon")
    p.add_argument("--hflip", action="store_true", help="random horizontal flips (off: digits are not symmetric)")
    p.add_argument("--config", default="{}", help="JSON overrides of unet.DEFAULT_CONFIG, fresh runs only")
    p.add_argument("--dropout", type=float, default=None, help="shortcut for --config '{\"dropout\": x}'")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast (CUDA only; weights stay float32)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--ckpt-every", type=int, default=100)
    p.add_argument("--ckpt-dir", default=None, help="default training/checkpoints/<dataset>")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beta-schedule", choices=BETA_SCHEDULES, default="squaredcos_cap_v2",
                   help="noise schedule (fresh runs only; a resumed run keeps its checkpoint's)")
    return p.parse_args(argv)


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
    old = sorted(glob.glob(os.path.join(ckpt_dir, "ckpt-*.pt")))[:-keep]
    for p in old:
        os.remove(p)
    return path


def pick_device(choice):
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
    return torch.device(choice)


def hardware_description(device):
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA), torch {torch.__version__}"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} thread(s), torch {torch.__version__}"


@torch.no_grad()
def ema_update(ema_model, model, decay):
    # One fused call per op over all tensors instead of ~170 tiny kernels each step on a GPU.
    ema_params, params = list(ema_model.parameters()), [p.detach() for p in model.parameters()]
    torch._foreach_mul_(ema_params, decay)
    torch._foreach_add_(ema_params, params, alpha=1 - decay)


def diffusion_loss(model, x0, y, abar, args):
    b = x0.shape[0]
    t = torch.randint(0, abar.shape[0], (b,), device=x0.device)
    noise = torch.randn_like(x0)
    a = abar[t].sqrt()[:, None, None, None]
    s = (1 - abar[t]).sqrt()[:, None, None, None]
    x_t = a * x0 + s * noise
    drop = torch.rand(b, device=x0.device) < args.class_dropout
    y = torch.where(drop, torch.full_like(y, model.config["null_class_id"]), y)
    target = noise if args.prediction == "epsilon" else a * noise - s * x0
    return F.mse_loss(model(x_t, t.float(), y), target)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    use_amp = args.amp and device.type == "cuda"
    # A linear-schedule model is another model (id "<dataset>-linear"), so it gets its own folder.
    default_dir = args.dataset if args.beta_schedule == "squaredcos_cap_v2" else f"{args.dataset}-{args.beta_schedule}"
    ckpt_dir = args.ckpt_dir or os.path.join(CHECKPOINT_ROOT, default_dir)
    os.makedirs(ckpt_dir, exist_ok=True)

    resume_path = latest_checkpoint(ckpt_dir)
    resumed = load_checkpoint(resume_path) if resume_path else None
    if resumed:
        config = resumed["config"]
        args.beta_schedule = resumed["scheduler_config"]["beta_schedule"]
        for key in ("prediction", "class_dropout", "hflip", "batch"):
            if resumed["train_args"][key] != getattr(args, key):
                print(f"note: --{key} differs from the checkpoint's ({resumed['train_args'][key]}); using the new value")
    else:
        config = json.loads(args.config)
        if args.dropout is not None:
            config["dropout"] = args.dropout

    torch.manual_seed(args.seed)
    model = UNet(config).to(device)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, wall_seconds = 0, 0.0
    # The whole data set fits in memory (60k x 784 floats = 188 MB), on the GPU too: no DataLoader.
    images, labels = data.load(args.dataset, "train")
    images, labels = images.to(device), labels.to(device)
    abar = alphas_cumprod(SCHEDULER_CONFIG["num_train_timesteps"], args.beta_schedule).to(device)
    perm, perm_pos = torch.randperm(images.shape[0], device=device), 0
    if resumed:
        model.load_state_dict(resumed["model"])
        ema.load_state_dict(resumed["ema"])
        opt.load_state_dict(resumed["optimizer"])
        step, wall_seconds = resumed["step"], resumed["wall_seconds"]
        perm, perm_pos = resumed["perm"].to(device), resumed["perm_pos"]
        torch.set_rng_state(resumed["rng_cpu"])
        if device.type == "cuda" and resumed.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(resumed["rng_cuda"])
        print(f"resumed from {resume_path} at step {step}")

    print(f"{args.dataset}: {images.shape[0]} images; model {count_parameters(model):,} params; "
          f"device {hardware_description(device)}; steps {step} -> {args.steps}, batch {args.batch}", flush=True)
    model.train()
    t_last, loss_sum, loss_n = time.time(), 0.0, 0
    while step < args.steps:
        if perm_pos + args.batch > perm.shape[0]:  # new epoch: reshuffle, drop the ragged tail
            perm, perm_pos = torch.randperm(images.shape[0], device=device), 0
        idx = perm[perm_pos : perm_pos + args.batch]
        perm_pos += args.batch
        x0, y = images[idx], labels[idx]
        if args.hflip:
            flip = torch.rand(x0.shape[0], device=device) < 0.5
            x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)

        lr = args.lr * min(1.0, (step + 1) / max(1, args.warmup))
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else contextlib.nullcontext():
            loss = diffusion_loss(model, x0, y, abar, args)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema_update(ema, model, min(args.ema_decay, (1 + step) / (10 + step)))
        # Summed on the device and read at log time: .item() every step would stall a GPU.
        loss_sum, loss_n = loss_sum + loss.detach().float(), loss_n + 1

        if step % args.log_every == 0 or step == args.steps:
            now = time.time()
            wall_seconds += now - t_last
            sec_per_step = (now - t_last) / loss_n
            eta_min = (args.steps - step) * sec_per_step / 60
            print(f"step {step}/{args.steps} loss {float(loss_sum) / loss_n:.4f} lr {lr:.2e} "
                  f"{sec_per_step:.3f} s/step eta {eta_min:.1f} min", flush=True)
            t_last, loss_sum, loss_n = now, 0.0, 0
        if step % args.ckpt_every == 0 or step == args.steps:
            state = {
                "step": step,
                "config": model.config,
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "optimizer": opt.state_dict(),
                "perm": perm.cpu(),
                "perm_pos": perm_pos,
                "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state() if device.type == "cuda" else None,
                "wall_seconds": wall_seconds + (time.time() - t_last),
                "hardware": hardware_description(device),
                "train_args": vars(args),
                "scheduler_config": dict(scheduler_config(args.beta_schedule), prediction_type=args.prediction),
            }
            print("checkpoint", save_checkpoint(ckpt_dir, state), flush=True)


if __name__ == "__main__":
    main()
