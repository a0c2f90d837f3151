"""Trains the emoji KL autoencoder (vae.py) on training/data/emoji/emoji32.npz, with resume.

  /usr/bin/python3 training/emoji/train_vae.py --steps 20000 --threads 1            # CPU, here
  python3 training/emoji/train_vae.py --steps 20000 --batch 128 --lr 4e-4 --device cuda
  torchrun --nproc_per_node 8 training/emoji/train_vae.py --steps 20000 --device cuda   # DDP

Loss: L1 between image and reconstruction (mean over pixels, images in [-1, 1]) plus
kl_weight * KL(q(z|x) || N(0, I)) summed over latent elements / pixel count: Stable Diffusion's
normalisation, where the KL sum is weighed against a per-pixel *sum* (its VAE used 1e-6 next to
LPIPS and a GAN loss). No perceptual loss: LPIPS needs pretrained VGG/AlexNet weights, which
cannot be had offline here. The default 1e-5 keeps the KL term a small fraction of the loss (both
are logged) while holding the latents near zero with a non-vanishing posterior noise, so the
decoder learns to tolerate the small latent errors a diffusion model makes.

Resume order: newest checkpoint in --ckpt-dir (model, EMA, optimizer, step, data order, RNG), else
the shipped weights in public/models/emoji/vae/ (the EMA becomes both the model and the EMA; the
step count and wall time continue from its card), else a fresh model. --steps is the total to
reach. Checkpoints every --ckpt-minutes, at the end and on SIGTERM/SIGINT. With WORLD_SIZE set
(torchrun) the model runs under DistributedDataParallel; --batch is per process.
"""

import argparse
import contextlib
import copy
import json
import os
import signal
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from vae import DEFAULT_CONFIG, EmojiAutoencoderKL, count_parameters, kl_divergence  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20000, help="total optimizer steps to reach")
    p.add_argument("--minutes", type=float, default=None, help="stop (with a checkpoint) after this wall time")
    p.add_argument("--batch", type=int, default=32, help="images per step per process")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--kl-weight", type=float, default=1e-5)
    p.add_argument("--ema-decay", type=float, default=0.999, help="max EMA decay; warms up as (1+s)/(10+s)")
    p.add_argument("--no-hflip", action="store_true", help="hflip is on by default (no hue or colour changes)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    p.add_argument("--ckpt-dir", default=common.CHECKPOINT_DIR)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--init-from", default=common.SHIPPED_VAE_DIR, help="shipped weights to start from without a checkpoint")
    p.add_argument("--config", default="{}", help="JSON overrides of vae.DEFAULT_CONFIG (fresh runs only)")
    p.add_argument("--data-dir", default=common.DATA_DIR)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


@torch.no_grad()
def ema_update(ema_model, model, decay):
    ema_params, params = list(ema_model.parameters()), [p.detach() for p in model.parameters()]
    torch._foreach_mul_(ema_params, decay)
    torch._foreach_add_(ema_params, params, alpha=1 - decay)


def vae_loss(model, x, kl_weight):
    rec, mean, logvar = model(x)
    rec_loss = F.l1_loss(rec.float(), x)
    kl = kl_divergence(mean.float(), logvar.float()).mean()
    return rec_loss + kl_weight * kl / x[0].numel(), rec_loss.detach(), kl.detach()


def should_stop(local_stop, step, world, device):
    """Every process must leave the loop at the same step, or the others hang in an all-reduce."""
    if world == 1:
        return local_stop
    if step % 10:
        return False
    flag = torch.tensor([1.0 if local_stop else 0.0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def init_distributed():
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), world, int(os.environ.get("LOCAL_RANK", "0"))
    return 0, 1, 0


def initial_state(args, ckpt_dir, is_main):
    """(config, checkpoint or None, shipped (config, state, card) or None)."""
    path = common.latest_checkpoint(ckpt_dir)
    if path:
        if is_main:
            print(f"resuming from {path}")
        ckpt = common.load_checkpoint(path)
        return ckpt["config"], ckpt, None
    shipped = common.load_shipped(args.init_from)
    if shipped:
        if is_main:
            print(f"no checkpoint: starting from the shipped weights in {args.init_from} (EMA as model and EMA)")
        config = {k: shipped[0][k] for k in DEFAULT_CONFIG}
        return config, None, shipped
    return dict(DEFAULT_CONFIG, **json.loads(args.config)), None, None


def main(argv=None):
    args = parse_args(argv)
    rank, world, local_rank = init_distributed()
    is_main = rank == 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = common.pick_device(args.device, local_rank)
    use_amp = args.amp and device.type == "cuda"
    os.makedirs(args.ckpt_dir, exist_ok=True)

    config, ckpt, shipped = initial_state(args, args.ckpt_dir, is_main)
    torch.manual_seed(args.seed)
    model = EmojiAutoencoderKL(config).to(device)
    step, wall_seconds, history = 0, 0.0, []
    if shipped:
        model.load_state_dict(shipped[1])
        training = shipped[2].get("training", {})
        step, wall_seconds = int(training.get("steps", 0)), float(training.get("wall_seconds", 0.0))
        history = list(training.get("runs", []))
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    # Every process draws the same data order from its own generator and takes its slice of it.
    order_gen = torch.Generator().manual_seed(args.seed)
    images = common.load_images("train", args.data_dir).to(device)
    held_out = common.load_images("held_out", args.data_dir).to(device)
    perm, perm_pos = torch.randperm(images.shape[0], generator=order_gen), 0
    if ckpt:
        model.load_state_dict(ckpt["model"])
        ema.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["optimizer"])
        step, wall_seconds, history = ckpt["step"], ckpt["wall_seconds"], ckpt.get("history", [])
        perm, perm_pos = ckpt["perm"], ckpt["perm_pos"]
        order_gen.set_state(ckpt["rng_order"])
        torch.set_rng_state(ckpt["rng_cpu"])
        if device.type == "cuda" and ckpt.get("rng_cuda") is not None and world == 1:
            torch.cuda.set_rng_state(ckpt["rng_cuda"], device)
    if world > 1:  # noise and flips differ per process; resumed runs stay reproducible per rank
        torch.manual_seed(args.seed + 1000003 * rank + step)
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)

    hardware = common.hardware_description(device, world)
    run = {"hardware": hardware, "from_step": step, "batch": args.batch * world, "lr": args.lr, "kl_weight": args.kl_weight}
    if is_main:
        print(f"emoji VAE: {images.shape[0]} training / {held_out.shape[0]} held-out images; "
              f"{count_parameters(model):,} params; {hardware}; steps {step} -> {args.steps}, "
              f"batch {args.batch} x {world}, lr {args.lr}, kl_weight {args.kl_weight}", flush=True)

    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def checkpoint():
        if not is_main:
            return
        run_now = dict(run, to_step=step, seconds=round(time.time() - run_started, 1))
        state = {
            "step": step,
            "config": model.config,
            "model": model.state_dict(),
            "ema": ema.state_dict(),
            "optimizer": opt.state_dict(),
            "perm": perm,
            "perm_pos": perm_pos,
            "rng_order": order_gen.get_state(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            "wall_seconds": wall_seconds + (time.time() - t_wall),
            "history": history + [run_now],
            "hardware": hardware,
            "train_args": vars(args),
        }
        ema_psnr = common.psnr_per_image(ema, held_out).mean().item() if held_out.shape[0] else float("nan")
        print(f"checkpoint {common.save_checkpoint(args.ckpt_dir, state)} (EMA held-out PSNR {ema_psnr:.2f} dB)", flush=True)

    model.train()
    run_started = t_wall = t_log = t_ckpt = time.time()
    sums = torch.zeros(3, device=device)
    n = 0
    span = args.batch * world
    while step < args.steps:
        if should_stop(stop["signal"] is not None or (
                args.minutes is not None and time.time() - run_started > args.minutes * 60), step, world, device):
            break
        if perm_pos + span > perm.shape[0]:  # new epoch: reshuffle, drop the ragged tail
            perm, perm_pos = torch.randperm(images.shape[0], generator=order_gen), 0
        idx = perm[perm_pos + rank * args.batch : perm_pos + (rank + 1) * args.batch].to(device)
        perm_pos += span
        x = images[idx]
        if not args.no_hflip:
            flip = torch.rand(x.shape[0], device=device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        lr = args.lr * min(1.0, (step + 1) / max(1, args.warmup))
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else contextlib.nullcontext():
            loss, rec_loss, kl = vae_loss(train_model, x, args.kl_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema_update(ema, model, min(args.ema_decay, (1 + step) / (10 + step)))
        sums += torch.stack([loss.detach().float(), rec_loss.float(), kl.float()])
        n += 1
        if is_main and (step % args.log_every == 0 or step == args.steps):
            now = time.time()
            s_per_step = (now - t_log) / n
            loss_v, rec_v, kl_v = (sums / n).tolist()
            print(f"step {step}/{args.steps} loss {loss_v:.5f} l1 {rec_v:.5f} kl {kl_v:.1f} "
                  f"(x weight {args.kl_weight * kl_v / x[0].numel():.2e}) lr {lr:.2e} {s_per_step:.3f} s/step "
                  f"eta {(args.steps - step) * s_per_step / 60:.1f} min", flush=True)
            t_log, sums, n = now, torch.zeros(3, device=device), 0
        if time.time() - t_ckpt > args.ckpt_minutes * 60:
            checkpoint()
            t_ckpt = time.time()
    checkpoint()
    if stop["signal"] is not None and is_main:
        print(f"stopped by signal {stop['signal']} at step {step}", flush=True)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
