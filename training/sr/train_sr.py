"""Trains the emoji super-resolution U-Net (sr_unet.py): 32x32 -> 64x64 RGB, on random crops.

  /usr/bin/python3 training/sr/train_sr.py --minutes 110 --threads 1               # CPU, here
  python3 training/sr/train_sr.py --steps 60000 --batch 128 --crop 64 --lr 4e-4 --device cuda
  torchrun --nproc_per_node 8 training/sr/train_sr.py --steps 60000 --crop 64 --device cuda   # DDP

Objective: DDPM with the cosine ("squaredcos_cap_v2") schedule, 1000 steps, v-prediction (as the
emoji latent model: at the schedule's noisy end epsilon-prediction's x_0 = (x_t - sigma eps) / alpha
amplifies any error by 1 / alpha, while v stays a bounded target at both ends; for a super-resolution
model, whose x_0 is mostly determined by the low-res input, that noisy end is where most of the
output is decided in a few-step sampler). Loss: MSE on v weighted by min-SNR-5
(min(SNR, 5) / (SNR + 1)), t uniform.

Conditioning (SR3 / CDM): the 32x32 image, noise-augmented to a level s (CDM / Imagen: the forward
process's x_s at integer timestep s, s = 0 with probability --clean-prob, else uniform in
[0, max_noise_level]) and upsampled by pixel repetition, is concatenated to x_t; s goes in through a
second timestep embedding. Crops: a random --crop x --crop window of the 64x64 image at even
coordinates and the matching --crop/2 window of the 32x32 image, so the network (fully
convolutional) trains cheaply and runs on the whole 64x64 picture. Horizontal flips only (no hue or
colour changes: colour tells emoji apart).

Resume order: newest checkpoint in --ckpt-dir (model, EMA, optimizer, step, RNG), else the shipped
weights in public/models/emoji-sr/unet/ (the EMA becomes model and EMA; steps and wall time continue
from its card), else fresh. --steps is the total to reach; --minutes stops earlier with a
checkpoint. Checkpoints every --ckpt-minutes, at the end and on SIGTERM/SIGINT; each logs the EMA's
held-out v-loss at full 64x64 and a 10-step DDIM PSNR on 8 held-out images against bicubic's.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sr_common  # noqa: E402  (puts training/ and training/emoji/ on the path)
import common  # noqa: E402
from sr_unet import DEFAULT_CONFIG, EmojiSRUNet2DModel, count_parameters  # noqa: E402
from train_vae import ema_update, init_distributed, should_stop  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=200000, help="total optimizer steps to reach")
    p.add_argument("--minutes", type=float, default=None, help="stop (with a checkpoint) after this wall time")
    p.add_argument("--batch", type=int, default=24, help="crops per step per process")
    p.add_argument("--crop", type=int, default=32, help="high-res crop side (even, <= 64; 64 = whole images)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--min-snr", type=float, default=5.0, help="min-SNR-gamma loss weight (0: plain MSE)")
    p.add_argument("--clean-prob", type=float, default=0.25, help="share of samples with noise level 0")
    p.add_argument("--ema-decay", type=float, default=0.999, help="max EMA decay; warms up as (1+s)/(10+s)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    p.add_argument("--ckpt-dir", default=sr_common.CHECKPOINT_DIR)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--init-from", default=sr_common.SHIPPED_UNET_DIR, help="shipped weights to start from without a checkpoint")
    p.add_argument("--config", default="{}", help="JSON overrides of sr_unet.DEFAULT_CONFIG (fresh runs only)")
    p.add_argument("--data-dir", default=sr_common.DATA_DIR)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def random_crops(high, low, crop, gen=None):
    """Aligned crops: high [B, 3, crop, crop] at even (y, x), low [B, 3, crop/2, crop/2] at (y/2, x/2)."""
    b, half = high.shape[0], crop // 2
    if crop >= high.shape[-1]:
        return high, low
    n = low.shape[-1] - half + 1
    ys = torch.randint(0, n, (b,), generator=gen, device=high.device)
    xs = torch.randint(0, n, (b,), generator=gen, device=high.device)
    ar = torch.arange(half, device=high.device)
    ly, lx = (ys[:, None] + ar)[:, :, None], (xs[:, None] + ar)[:, None, :]
    bi = torch.arange(b, device=high.device)[:, None, None]
    low_c = low.permute(0, 2, 3, 1)[bi, ly, lx].permute(0, 3, 1, 2)
    ar2 = torch.arange(crop, device=high.device)
    hy, hx = (2 * ys[:, None] + ar2)[:, :, None], (2 * xs[:, None] + ar2)[:, None, :]
    high_c = high.permute(0, 2, 3, 1)[bi, hy, hx].permute(0, 3, 1, 2)
    return high_c.contiguous(), low_c.contiguous()


def draw_levels(n, max_level, clean_prob, device, gen=None):
    lvl = torch.randint(0, max_level + 1, (n,), generator=gen, device=device)
    clean = torch.rand(n, generator=gen, device=device) < clean_prob
    return torch.where(clean, torch.zeros_like(lvl), lvl)


def v_loss(model, x0, low, abar, min_snr, max_level, clean_prob, gen=None):
    n, dev = x0.shape[0], x0.device
    t = torch.randint(0, abar.shape[0], (n,), generator=gen, device=dev)
    noise = torch.randn(x0.shape, generator=gen, device=dev)
    a = abar[t][:, None, None, None]
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    v = a.sqrt() * noise - (1 - a).sqrt() * x0
    lvl = draw_levels(n, max_level, clean_prob, dev, gen)
    low_aug = sr_common.augment_low_res(low, lvl, abar, torch.randn(low.shape, generator=gen, device=dev))
    pred = model(x_t, t.float(), low_aug, lvl.float())
    mse = (pred.float() - v).pow(2).flatten(1).mean(1)
    snr = abar[t] / (1 - abar[t])
    w = torch.clamp(snr, max=min_snr) / (snr + 1) if min_snr > 0 else torch.ones_like(snr)
    return (w * mse).mean(), mse.mean().detach()


@torch.no_grad()
def held_out_metrics(ema, high, low, abar, max_level):
    """EMA's v-MSE at full size on fixed (t, noise, level), and a 10-step DDIM PSNR on 8 images."""
    gen = torch.Generator().manual_seed(1234)
    n = min(64, high.shape[0])
    x0, y = high[:n].cpu(), low[:n].cpu()
    dev = next(ema.parameters()).device
    t = torch.randint(0, 1000, (n,), generator=gen)
    noise = torch.randn(x0.shape, generator=gen)
    lvl = draw_levels(n, max_level, 0.25, "cpu", gen)
    a = abar.cpu()[t][:, None, None, None]
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    v = a.sqrt() * noise - (1 - a).sqrt() * x0
    y_aug = sr_common.augment_low_res(y, lvl, abar.cpu(), torch.randn(y.shape, generator=gen))
    pred = ema(x_t.to(dev), t.float().to(dev), y_aug.to(dev), lvl.float().to(dev)).cpu()
    v_mse = (pred - v).pow(2).mean().item()
    cpu_ema = ema if dev.type == "cpu" else copy.deepcopy(ema).cpu()
    out = sr_common.sample_ddim(cpu_ema, y[:8], steps=10, noise_level=0, seed=0, abar=abar.cpu())
    return v_mse, sr_common.psnr(out, x0[:8]).mean().item(), sr_common.psnr(sr_common.bicubic(y[:8]), x0[:8]).mean().item()


def initial_state(args, is_main):
    path = common.latest_checkpoint(args.ckpt_dir)
    if path:
        if is_main:
            print(f"resuming from {path}")
        ckpt = common.load_checkpoint(path)
        return ckpt["config"], ckpt, None
    shipped = sr_common.load_shipped(args.init_from)
    if shipped:
        if is_main:
            print(f"no checkpoint: starting from the shipped weights in {args.init_from} (EMA as model and EMA)")
        config = {k: shipped[0][k] for k in DEFAULT_CONFIG}
        return config, None, shipped
    return dict(DEFAULT_CONFIG, **json.loads(args.config)), None, None


def main(argv=None):
    args = parse_args(argv)
    if args.crop % 2 or not 2 <= args.crop <= 64 or args.crop % 8:
        raise SystemExit("--crop must be a multiple of 8 in [8, 64] (three levels of stride-2 downsampling)")
    rank, world, local_rank = init_distributed()
    is_main = rank == 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = common.pick_device(args.device, local_rank)
    use_amp = args.amp and device.type == "cuda"
    os.makedirs(args.ckpt_dir, exist_ok=True)

    config, ckpt, shipped = initial_state(args, is_main)
    torch.manual_seed(args.seed)
    model = EmojiSRUNet2DModel(config).to(device)
    step, wall_seconds, history = 0, 0.0, []
    if shipped:
        model.load_state_dict(shipped[1])
        training = shipped[2].get("training", {})
        step, wall_seconds = int(training.get("steps", 0)), float(training.get("wall_seconds", 0.0))
        history = list(training.get("runs", []))
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    order_gen = torch.Generator().manual_seed(args.seed)
    high, low, _ = sr_common.load_pairs("train", args.data_dir)
    high_ho, low_ho, _ = sr_common.load_pairs("held_out", args.data_dir)
    high, low = high.to(device), low.to(device)
    abar = sr_common.abar_table(device)
    max_level = int(config["max_noise_level"])
    perm, perm_pos = torch.randperm(high.shape[0], generator=order_gen), 0
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
    if world > 1:
        torch.manual_seed(args.seed + 1000003 * rank + step)
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)

    hardware = common.hardware_description(device, world)
    run = {"hardware": hardware, "from_step": step, "batch": args.batch * world, "crop": args.crop, "lr": args.lr,
           "min_snr": args.min_snr, "clean_prob": args.clean_prob}
    if is_main:
        print(f"emoji SR: {high.shape[0]} training / {high_ho.shape[0]} held-out pairs; {count_parameters(model):,} params; "
              f"{hardware}; steps {step} -> {args.steps}, batch {args.batch} x {world} crops of {args.crop}, lr {args.lr}",
              flush=True)

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
        path = common.save_checkpoint(args.ckpt_dir, state)
        v_mse, p_ours, p_bic = held_out_metrics(ema, high_ho, low_ho, abar, max_level)
        print(f"checkpoint {path} (EMA held-out: v-MSE {v_mse:.5f}; 10-step DDIM PSNR {p_ours:.2f} dB "
              f"vs bicubic {p_bic:.2f} dB on 8 images)", flush=True)

    model.train()
    run_started = t_wall = t_log = t_ckpt = time.time()
    sums = torch.zeros(2, device=device)
    n = 0
    span = args.batch * world
    while step < args.steps:
        if should_stop(stop["signal"] is not None or (
                args.minutes is not None and time.time() - run_started > args.minutes * 60), step, world, device):
            break
        if perm_pos + span > perm.shape[0]:
            perm, perm_pos = torch.randperm(high.shape[0], generator=order_gen), 0
        idx = perm[perm_pos + rank * args.batch : perm_pos + (rank + 1) * args.batch].to(device)
        perm_pos += span
        x0, y = random_crops(high[idx], low[idx], args.crop)
        flip = torch.rand(x0.shape[0], device=device) < 0.5
        x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        y = torch.where(flip[:, None, None, None], y.flip(3), y)
        lr = args.lr * min(1.0, (step + 1) / max(1, args.warmup))
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else contextlib.nullcontext():
            loss, mse = v_loss(train_model, x0, y, abar, args.min_snr, max_level, args.clean_prob)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema_update(ema, model, min(args.ema_decay, (1 + step) / (10 + step)))
        sums += torch.stack([loss.detach().float(), mse.float()])
        n += 1
        if is_main and (step % args.log_every == 0 or step == args.steps):
            now = time.time()
            s_per_step = (now - t_log) / n
            loss_v, mse_v = (sums / n).tolist()
            print(f"step {step}/{args.steps} loss {loss_v:.5f} v-mse {mse_v:.5f} lr {lr:.2e} {s_per_step:.3f} s/step",
                  flush=True)
            t_log, sums, n = now, torch.zeros(2, device=device), 0
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
