"""Trains the emoji text encoder and latent U-Net together on VAE latents (latent diffusion).

  /usr/bin/python3 training/emoji/train_latent.py --minutes 120 --threads 2          # CPU, here
  python3 training/emoji/train_latent.py --steps 60000 --batch 256 --lr 4e-4 --device cuda
  torchrun --nproc_per_node 8 training/emoji/train_latent.py --steps 60000 --device cuda   # DDP

Objective: DDPM with the cosine ("squaredcos_cap_v2") schedule, 1000 steps, v-prediction (stable at
the schedule's ends, where epsilon-prediction's x_0 blows up), loss MSE weighted by min-SNR-5
(Hang et al. 2023: min(SNR, 5) / (SNR + 1) for v), t uniform. Captions are drawn per step
(latent_data.draw_caption): the exact CLDR name most often, else name + tags, tags alone, subgroup
+ name, sometimes a style word; 10% are the empty prompt (caption dropout) so one network serves
classifier-free guidance. The VAE is frozen: latents are sampled from each image's stored posterior
and normalised per channel (the VAE's latents_mean / latents_std, measured here on the train set).

Resume order: newest checkpoint in --ckpt-dir (both networks, EMA, optimizer, step, RNG), else the
shipped pipeline in public/models/emoji/ (the EMA becomes model and EMA; the step count and wall time
continue from its card), else fresh. --steps is the total to reach; --minutes stops earlier with a
checkpoint. Checkpoints every --ckpt-minutes, at the end and on SIGTERM/SIGINT.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
import latent_data  # noqa: E402
import pipeline_io  # noqa: E402
from latent_unet import DEFAULT_CONFIG as UNET_DEFAULTS, EmojiUNet2DConditionModel, count_parameters  # noqa: E402
from schedule import alphas_cumprod  # noqa: E402
from text_encoder import DEFAULT_CONFIG as TEXT_DEFAULTS, EmojiTextEncoder  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from train_vae import init_distributed, should_stop  # noqa: E402

CHECKPOINT_DIR = os.path.join(common.REPO_ROOT, "training", "checkpoints", "emoji-latent")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=100000, help="total optimizer steps to reach")
    p.add_argument("--minutes", type=float, default=None, help="stop (with a checkpoint) after this wall time")
    p.add_argument("--batch", type=int, default=64, help="images per step per process")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--caption-dropout", type=float, default=0.1)
    p.add_argument("--min-snr", type=float, default=5.0, help="min-SNR-gamma loss weight (0: plain MSE)")
    p.add_argument("--ema-decay", type=float, default=0.999, help="max EMA decay; warms up as (1+s)/(10+s)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    p.add_argument("--ckpt-dir", default=CHECKPOINT_DIR)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--init-from", default=pipeline_io.PIPELINE_DIR, help="shipped pipeline to start from without a checkpoint")
    p.add_argument("--unet-config", default="{}", help="JSON overrides of latent_unet.DEFAULT_CONFIG (fresh runs only)")
    p.add_argument("--text-config", default="{}", help="JSON overrides of text_encoder.DEFAULT_CONFIG (fresh runs only)")
    p.add_argument("--data-dir", default=common.DATA_DIR)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


class Denoiser(torch.nn.Module):
    """Both trained networks in one module, so DDP, the optimizer and the EMA see one parameter list."""

    def __init__(self, unet_config, text_config):
        super().__init__()
        self.unet = EmojiUNet2DConditionModel(unet_config)
        self.text_encoder = EmojiTextEncoder(text_config)

    def forward(self, z_t, t, ids):
        return self.unet(z_t, t, self.text_encoder(ids))


@torch.no_grad()
def ema_update(ema_model, model, decay):
    ema_params, params = list(ema_model.parameters()), [p.detach() for p in model.parameters()]
    torch._foreach_mul_(ema_params, decay)
    torch._foreach_add_(ema_params, params, alpha=1 - decay)


def v_loss(model, z0, ids, abar, min_snr, gen=None):
    b = z0.shape[0]
    t = torch.randint(0, abar.shape[0], (b,), device=z0.device)
    a = abar[t][:, None, None, None]
    noise = torch.randn_like(z0)
    z_t = a.sqrt() * z0 + (1 - a).sqrt() * noise
    v = a.sqrt() * noise - (1 - a).sqrt() * z0
    pred = model(z_t, t.float(), ids)
    per = (pred.float() - v).pow(2).mean(dim=(1, 2, 3))
    snr = abar[t] / (1 - abar[t])
    w = torch.clamp(snr, max=min_snr) / (snr + 1) if min_snr > 0 else torch.ones_like(snr)
    return (w * per).mean(), per.mean().detach()


def main(argv=None):
    args = parse_args(argv)
    rank, world, local_rank = init_distributed()
    is_main = rank == 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = common.pick_device(args.device, local_rank)
    use_amp = args.amp and device.type == "cuda"
    os.makedirs(args.ckpt_dir, exist_ok=True)

    table = latent_data.load_table(args.data_dir)
    train_idx = [i for i in range(len(table["caption"])) if not table["held_out"][i]]
    vae, vae_config, _ = latent_data.load_vae()
    images = common.load_images("train", args.data_dir)
    means, stds = latent_data.encode_posteriors(vae, images)

    ckpt_path = common.latest_checkpoint(args.ckpt_dir)
    ckpt = common.load_checkpoint(ckpt_path) if ckpt_path else None
    shipped = None if ckpt else pipeline_io.load_pipeline(args.init_from)
    if ckpt:
        vocab, unet_cfg, text_cfg = ckpt["vocab"], ckpt["unet_config"], ckpt["text_config"]
        lat_mean, lat_std = torch.tensor(ckpt["latents_mean"]), torch.tensor(ckpt["latents_std"])
    elif shipped:
        vocab, unet_cfg, text_cfg = shipped["vocab"], shipped["unet_config"], shipped["text_config"]
        lat_mean, lat_std = torch.tensor(shipped["latents_mean"]), torch.tensor(shipped["latents_std"])
    else:
        vocab = latent_data.make_tokenizer(table).vocab
        unet_cfg = dict(UNET_DEFAULTS, **json.loads(args.unet_config))
        text_cfg = dict(TEXT_DEFAULTS, **json.loads(args.text_config), vocab_size=len(vocab))
        lat_mean, lat_std = latent_data.latent_stats(means, stds)
    tokenizer = Tokenizer(vocab, text_cfg["max_position_embeddings"])
    shape = (1, -1, 1, 1)
    means = ((means - lat_mean.view(shape)) / lat_std.view(shape)).to(device)
    stds = (stds / lat_std.view(shape)).to(device)

    torch.manual_seed(args.seed)
    model = Denoiser(unet_cfg, text_cfg).to(device)
    step, wall_seconds, history = 0, 0.0, []
    if shipped:
        model.unet.load_state_dict(shipped["unet"])
        model.text_encoder.load_state_dict(shipped["text_encoder"])
        training = shipped["card"].get("training", {})
        step, wall_seconds = int(training.get("steps", 0)), float(training.get("wall_seconds", 0.0))
        history = list(training.get("runs", []))
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    order_gen = torch.Generator().manual_seed(args.seed)
    captions = latent_data.CaptionSampler(table, train_idx, tokenizer, args.caption_dropout, args.seed + rank)
    perm, perm_pos = torch.randperm(means.shape[0], generator=order_gen), 0
    if ckpt:
        model.load_state_dict(ckpt["model"])
        ema.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["optimizer"])
        step, wall_seconds, history = ckpt["step"], ckpt["wall_seconds"], ckpt.get("history", [])
        perm, perm_pos = ckpt["perm"], ckpt["perm_pos"]
        order_gen.set_state(ckpt["rng_order"])
        torch.set_rng_state(ckpt["rng_cpu"])
        if world == 1 and ckpt.get("rng_captions") is not None:
            captions.rng.setstate(ckpt["rng_captions"])
    if world > 1:
        torch.manual_seed(args.seed + 1000003 * rank + step)
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
    abar = torch.as_tensor(alphas_cumprod(1000, "squaredcos_cap_v2"), dtype=torch.float32).to(device)

    hardware = common.hardware_description(device, world)
    run = {"hardware": hardware, "from_step": step, "batch": args.batch * world, "lr": args.lr}
    if is_main:
        print(f"emoji latent diffusion: {means.shape[0]} latents, vocab {len(vocab)}; U-Net "
              f"{count_parameters(model.unet):,} + text encoder {count_parameters(model.text_encoder):,} params; "
              f"{hardware}; steps {step} -> {args.steps}, batch {args.batch} x {world}, lr {args.lr}", flush=True)

    stop = {"signal": None}
    signal.signal(signal.SIGTERM, lambda s, f: stop.update(signal=s))
    signal.signal(signal.SIGINT, lambda s, f: stop.update(signal=s))

    def checkpoint():
        if not is_main:
            return
        run_now = dict(run, to_step=step, seconds=round(time.time() - run_started, 1))
        state = {
            "step": step, "vocab": vocab, "unet_config": unet_cfg, "text_config": text_cfg,
            "latents_mean": lat_mean.tolist(), "latents_std": lat_std.tolist(),
            "vae_sha256": vae_config.get("_sha256"),
            "model": model.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(),
            "perm": perm, "perm_pos": perm_pos, "rng_order": order_gen.get_state(),
            "rng_cpu": torch.get_rng_state(), "rng_captions": captions.rng.getstate(),
            "wall_seconds": wall_seconds + (time.time() - t_wall),
            "history": history + [run_now], "hardware": hardware, "train_args": vars(args),
        }
        print(f"checkpoint {common.save_checkpoint(args.ckpt_dir, state)}", flush=True)

    model.train()
    run_started = t_wall = t_log = t_ckpt = time.time()
    sums, n = torch.zeros(2), 0
    span = args.batch * world
    while step < args.steps:
        if should_stop(stop["signal"] is not None or (
                args.minutes is not None and time.time() - run_started > args.minutes * 60), step, world, device):
            break
        if perm_pos + span > perm.shape[0]:
            perm, perm_pos = torch.randperm(means.shape[0], generator=order_gen), 0
        positions = perm[perm_pos + rank * args.batch : perm_pos + (rank + 1) * args.batch]
        perm_pos += span
        idx = positions.to(device)
        z0 = means[idx] + stds[idx] * torch.randn_like(means[idx])
        ids, _ = captions.ids(positions.tolist())
        lr = args.lr * min(1.0, (step + 1) / max(1, args.warmup))
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else contextlib.nullcontext():
            loss, mse = v_loss(train_model, z0, ids.to(device), abar, args.min_snr)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema_update(ema, model, min(args.ema_decay, (1 + step) / (10 + step)))
        sums += torch.tensor([loss.item(), mse.item()])
        n += 1
        if is_main and (step % args.log_every == 0 or step == args.steps):
            now = time.time()
            s_per_step = (now - t_log) / n
            lv, mv = (sums / n).tolist()
            print(f"step {step}/{args.steps} loss {lv:.5f} v-mse {mv:.5f} lr {lr:.2e} {s_per_step:.3f} s/step", flush=True)
            t_log, sums, n = now, torch.zeros(2), 0
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
