"""Measures the claim that latent diffusion cuts training and sampling cost: the latent model against a
pixel-space model of the same U-Net width, on the same images, with the same trainer.

  nice /usr/bin/python3 training/emoji/latent_vs_pixel.py --threads 1 --train-cpu-seconds 300

- latent: EmojiUNet2DConditionModel with the shipped config (public/models/emoji/unet/config.json),
  on normalised 8x8x4 VAE latents (latents sampled from each image's posterior, as train_latent.py).
- pixel: the same class and config with in/out_channels 3 and sample_size 32, on the 32x32x3 images
  in [-1, 1]. Same widths, blocks and attention; its top-level transformer blocks see 1,024 tokens
  (8x8 latents: 64).
Both with a fresh text encoder (text_encoder.py), trained from the same random init seed with
train_latent.py's objective (v-prediction, cosine schedule, min-SNR-5, caption dropout 0.1, same
caption draws), batch --batch, AdamW lr 3e-4 with --warmup steps, 1 thread.

Time is CPU time of this process (time.process_time; 1 thread), so the numbers hold on a shared
machine where wall time depends on what else runs; wall time is recorded too.
Measured: CPU seconds per training step; per sampling step (a batch of 4 with classifier-free
guidance: 8 U-Net evaluations; plus the VAE decode once per generation for the latent model);
the quality each reached after the SAME CPU budget (and the latent model after the same number of
steps as the pixel model managed): x0 prediction error in PIXEL space on held-out images (RMS,
pixels in [0, 1]) at t in EVAL_T, fixed noise, exact captions; the latent model's x0 prediction is
decoded by the VAE, so its floor is the VAE's own round-trip error (reported).
Results: printed table, training/checkpoints/emoji-eval/latent_vs_pixel.json, and the pipeline card
(public/models/emoji/card.json) key "latent_vs_pixel" only, re-read right before writing.
"""

import argparse
import copy
import datetime
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
import latent_data  # noqa: E402
from evaluate_pipeline import EVAL_DIR, update_card  # noqa: E402
from latent_unet import count_macs, count_parameters  # noqa: E402
from pipeline_io import PIPELINE_DIR  # noqa: E402
from schedule import alphas_cumprod  # noqa: E402
from text_encoder import DEFAULT_CONFIG as TEXT_DEFAULTS  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from train_latent import Denoiser, ema_update, v_loss  # noqa: E402

EVAL_T = [100, 300, 500, 700, 900]


def cpu():
    return time.process_time()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-cpu-seconds", type=float, default=300.0, help="CPU budget of each model's training run")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--eval-images", type=int, default=48, help="held-out images in the quality measure")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-card", action="store_true")
    p.add_argument("--only", choices=["pixel", "latent"], default=None,
                   help="run one model only and write its part to --out (to run the two in parallel processes)")
    p.add_argument("--latent-eval-steps", type=int, nargs="*", default=[8, 9, 10, 11],
                   help="with --only latent: also measure the latent model after these steps (the pixel model's count)")
    p.add_argument("--combine", nargs=2, metavar=("PIXEL_JSON", "LATENT_JSON"), default=None,
                   help="combine the two parts into --out, the table and the card")
    p.add_argument("--out", default=os.path.join(EVAL_DIR, "latent_vs_pixel.json"))
    p.add_argument("--data-dir", default=common.DATA_DIR)
    return p.parse_args(argv)


class Space:
    """One of the two spaces: how to draw a training x0 and how to turn a predicted x0 into pixels."""

    def __init__(self, name, unet_cfg, draw, to_pixels):
        self.name, self.unet_cfg, self.draw, self.to_pixels = name, unet_cfg, draw, to_pixels


@torch.no_grad()
def x0_error(model, space, x0_eval, pixels_eval, ids, abar):
    """RMS (pixels in [0, 1]) between the decoded x0 prediction and the real held-out picture, per t."""
    model.eval()
    gen = torch.Generator().manual_seed(7)
    out = {}
    for t in EVAL_T:
        noise = torch.randn(x0_eval.shape, generator=gen)
        a = abar[t]
        x_t = a.sqrt() * x0_eval + (1 - a).sqrt() * noise
        v = model(x_t, torch.full((x0_eval.shape[0],), float(t)), ids)
        x0_hat = a.sqrt() * x_t - (1 - a).sqrt() * v
        pix = space.to_pixels(x0_hat).clamp(-1, 1)
        out[str(t)] = round(float(((pix - pixels_eval) / 2).pow(2).mean().sqrt()), 4)
    model.train()
    return {"rms_by_t": out, "rms_mean": round(float(np.mean(list(out.values()))), 4)}


def train(space, text_cfg, captions_seed, args, table, train_idx, tokenizer, abar, eval_inputs, eval_at_steps=()):
    torch.manual_seed(args.seed)
    model = Denoiser(space.unet_cfg, text_cfg)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    captions = latent_data.CaptionSampler(table, train_idx, tokenizer, 0.1, captions_seed)
    order = torch.Generator().manual_seed(args.seed)
    perm, pos = torch.randperm(len(train_idx), generator=order), 0
    step, step_cpu, step_wall, losses, evals = 0, [], [], [], {}
    c0 = cpu()
    model.train()
    while cpu() - c0 < args.train_cpu_seconds:
        if pos + args.batch > perm.shape[0]:
            perm, pos = torch.randperm(len(train_idx), generator=order), 0
        idx = perm[pos : pos + args.batch]
        pos += args.batch
        c, w = cpu(), time.time()
        x0 = space.draw(idx)
        ids, _ = captions.ids(idx.tolist())
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
        loss, mse = v_loss(model, x0, ids, abar, 5.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema_update(ema, model, min(0.999, (1 + step) / (10 + step)))
        step_cpu.append(cpu() - c)
        step_wall.append(time.time() - w)
        losses.append(float(mse))
        if step % 10 == 0 or step < 5:
            print(f"  {space.name} step {step} v-mse {np.mean(losses[-10:]):.4f} {step_cpu[-1]:.2f} CPU s/step "
                  f"({cpu() - c0:.0f}/{args.train_cpu_seconds:.0f} CPU s)", flush=True)
        if step in eval_at_steps:
            c_e = cpu()
            evals[f"after_{step}_steps"] = dict(x0_error(model, space, *eval_inputs, abar), step=step)
            c0 += cpu() - c_e  # evaluation time does not count against the training budget
    cpu_used = cpu() - c0
    first = 1 if len(step_cpu) > 1 else 0  # the first step pays one-off allocation costs
    result = {
        "steps": step, "train_cpu_seconds": round(cpu_used, 1), "images_seen": step * args.batch,
        "cpu_seconds_per_train_step": round(float(np.mean(step_cpu[first:])), 3),
        "wall_seconds_per_train_step": round(float(np.mean(step_wall[first:])), 3),
        "last_v_mse_mean_of_10": round(float(np.mean(losses[-10:])), 4),
        "unet_parameters": count_parameters(model.unet),
        "unet_mmac_per_sample_linear_and_conv": round(count_macs(model.unet) / 1e6, 1),
    }
    evals["after_budget"] = dict(x0_error(model, space, *eval_inputs, abar), step=step)
    result["quality_model"] = evals
    result["quality_ema_after_budget"] = x0_error(ema, space, *eval_inputs, abar)
    return model, result


@torch.no_grad()
def sampling_step_cost(model, space, shape, reps=3, decode=None):
    """CPU seconds of one guided denoising step for a batch of 4 (8 U-Net evaluations) and of the decode."""
    model.eval()
    x = torch.randn((4,) + shape)
    ctx = model.text_encoder(torch.zeros(8, 16, dtype=torch.long))
    t = torch.full((8,), 500.0)
    model.unet(torch.cat([x, x]), t, ctx)  # warm-up
    times = []
    for _ in range(reps):
        c = cpu()
        v_u, v_c = model.unet(torch.cat([x, x]), t, ctx).chunk(2)
        _ = v_u + 5.0 * (v_c - v_u)
        times.append(cpu() - c)
    out = {"cpu_seconds_per_step_batch4_cfg": round(float(np.median(times)), 4)}
    if decode is not None:
        decode(x)
        c = cpu()
        for _ in range(reps):
            decode(x)
        out["cpu_seconds_vae_decode_batch4"] = round((cpu() - c) / reps, 4)
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.combine:
        parts = []
        for path in args.combine:
            with open(path, encoding="utf-8") as f:
                parts.append(json.load(f))
        results = dict(parts[0])
        results["latent"] = parts[1]["latent"]
        results["protocol"]["command"] = {"pixel": parts[0]["protocol"]["command"], "latent": parts[1]["protocol"]["command"],
                                          "combine": "/usr/bin/python3 training/emoji/latent_vs_pixel.py " + " ".join(sys.argv[1:])}
        for key in ("budget", "batch", "lr", "warmup_steps", "quality_measure", "vae_round_trip_floor_rms"):
            if parts[0]["protocol"][key] != parts[1]["protocol"][key]:
                raise SystemExit(f"the two parts differ in {key}: {parts[0]['protocol'][key]} vs {parts[1]['protocol'][key]}")
        finish(results, args)
        return
    torch.set_num_threads(args.threads)
    t_start, c_start = time.time(), cpu()
    table = latent_data.load_table(args.data_dir)
    train_idx = [i for i in range(len(table["caption"])) if not table["held_out"][i]]
    held_idx = np.flatnonzero(table["held_out"])
    tokenizer = latent_data.make_tokenizer(table)
    text_cfg = dict(TEXT_DEFAULTS, vocab_size=len(tokenizer.vocab))
    tokenizer = Tokenizer(tokenizer.vocab, text_cfg["max_position_embeddings"])
    with open(os.path.join(PIPELINE_DIR, "unet", "config.json"), encoding="utf-8") as f:
        unet_cfg = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    pixel_cfg = dict(unet_cfg, in_channels=3, out_channels=3, sample_size=32)

    vae = latent_data.load_vae()[0]
    images = common.load_images("train", args.data_dir)
    held = common.load_images("held_out", args.data_dir)
    means, stds = latent_data.encode_posteriors(vae, images)
    lat_mean, lat_std = latent_data.latent_stats(means, stds)
    shape = (1, -1, 1, 1)
    n_means, n_stds = (means - lat_mean.view(shape)) / lat_std.view(shape), stds / lat_std.view(shape)

    def decode(z):
        return vae.decode(z * lat_std.view(shape) + lat_mean.view(shape))

    latent = Space("latent", unet_cfg, lambda idx: n_means[idx] + n_stds[idx] * torch.randn_like(n_means[idx]), decode)
    pixel = Space("pixel", pixel_cfg, lambda idx: images[idx], lambda x: x)

    pick = held_idx[np.linspace(0, len(held_idx) - 1, args.eval_images).round().astype(int)]
    pix_eval = held[np.searchsorted(held_idx, pick)]
    ids_eval = torch.tensor(tokenizer([str(c) for c in table["caption"][pick]]))
    with torch.no_grad():
        mean_eval, _ = vae.encode(pix_eval)
        lat_eval = (mean_eval - lat_mean.view(shape)) / lat_std.view(shape)
        vae_floor = float(((decode(lat_eval).clamp(-1, 1) - pix_eval) / 2).pow(2).mean().sqrt())
    white = float(((torch.ones_like(pix_eval) - pix_eval) / 2).pow(2).mean().sqrt())
    abar = torch.tensor(alphas_cumprod(1000, "squaredcos_cap_v2"), dtype=torch.float32)

    results = {"protocol": {
        "script": "training/emoji/latent_vs_pixel.py",
        "command": "nice /usr/bin/python3 training/emoji/latent_vs_pixel.py " + " ".join(sys.argv[1:]),
        "hardware": common.hardware_description(torch.device("cpu")),
        "budget": f"{args.train_cpu_seconds:.0f} CPU seconds of training for each model (1 thread, process CPU time)",
        "batch": args.batch, "lr": args.lr, "warmup_steps": args.warmup,
        "objective": "v-prediction, cosine schedule, min-SNR-5, caption dropout 0.1 (train_latent.py's v_loss)",
        "latent_unet_config": unet_cfg, "pixel_unet_config_changes": {"in_channels": 3, "out_channels": 3, "sample_size": 32},
        "quality_measure": f"RMS (pixels in [0, 1]) of the x0 prediction against the real picture, {args.eval_images} held-out "
                           f"images (exact captions), t in {EVAL_T}, fixed noise; the latent prediction decoded by the VAE",
        "vae_round_trip_floor_rms": round(vae_floor, 4),
        "all_white_prediction_rms": round(white, 4),
    }}

    def save():
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
            f.write("\n")

    if args.only in (None, "pixel"):
        print(f"pixel model: training for {args.train_cpu_seconds:.0f} CPU s", flush=True)
        pix_model, results["pixel"] = train(pixel, text_cfg, 1, args, table, train_idx, tokenizer, abar,
                                            (pix_eval, pix_eval, ids_eval))
        results["pixel"]["sampling"] = sampling_step_cost(pix_model, pixel, (3, 32, 32))
        save()
        del pix_model
        if args.only == "pixel":
            return
        at = (results["pixel"]["steps"],)
    else:
        at = tuple(args.latent_eval_steps)
    print(f"latent model: training for {args.train_cpu_seconds:.0f} CPU s (evaluated after {at} steps too)", flush=True)
    lat_model, results["latent"] = train(latent, text_cfg, 1, args, table, train_idx, tokenizer, abar,
                                         (lat_eval, pix_eval, ids_eval), eval_at_steps=at)
    results["latent"]["sampling"] = sampling_step_cost(lat_model, latent, (4, 8, 8), decode=decode)
    results["seconds_latent_process"] = {"cpu": round(cpu() - c_start, 1), "wall": round(time.time() - t_start, 1)}
    save()
    if args.only == "latent":
        return
    finish(results, args)


def finish(results, args):
    L, P = results["latent"], results["pixel"]
    k = P["steps"]
    measured = [int(key.split("_")[1]) for key in L["quality_model"] if key.startswith("after_") and key != "after_budget"]
    k_lat = min(measured, key=lambda n: (abs(n - k), n)) if measured else None  # the latent model's step nearest to k
    batch, budget = results["protocol"]["batch"], results["protocol"]["budget"].split(" CPU")[0]
    vae_floor = results["protocol"]["vae_round_trip_floor_rms"]
    white = results["protocol"]["all_white_prediction_rms"]
    gen20 = lambda r: 20 * r["sampling"]["cpu_seconds_per_step_batch4_cfg"] + r["sampling"].get("cpu_seconds_vae_decode_batch4", 0)  # noqa: E731
    results["summary"] = {
        "train_step_speedup": round(P["cpu_seconds_per_train_step"] / L["cpu_seconds_per_train_step"], 1),
        "sampling_step_speedup": round(P["sampling"]["cpu_seconds_per_step_batch4_cfg"] / L["sampling"]["cpu_seconds_per_step_batch4_cfg"], 1),
        "generation_20_steps_batch4_cpu_seconds": {"latent_incl_vae_decode": round(gen20(L), 2), "pixel": round(gen20(P), 2)},
        "steps_in_equal_cpu_budget": {"latent": L["steps"], "pixel": P["steps"]},
        "x0_rms_after_equal_cpu": {"latent": L["quality_model"]["after_budget"]["rms_mean"],
                                   "pixel": P["quality_model"]["after_budget"]["rms_mean"]},
        "x0_rms_after_equal_steps": {"pixel_steps": k, "latent_steps": k_lat,
                                     "latent": L["quality_model"].get(f"after_{k_lat}_steps", {}).get("rms_mean"),
                                     "pixel": P["quality_model"]["after_budget"]["rms_mean"]},
    }
    results["measured_at"] = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")

    s = results["summary"]
    print("\n| | latent (8x8x4) | pixel (32x32x3) | ratio |\n|---|---|---|---|")
    print(f"| U-Net parameters | {L['unet_parameters']:,} | {P['unet_parameters']:,} | |")
    print(f"| U-Net M MACs / sample (conv + linear only) | {L['unet_mmac_per_sample_linear_and_conv']} | "
          f"{P['unet_mmac_per_sample_linear_and_conv']} | |")
    print(f"| CPU s / training step (batch {batch}) | {L['cpu_seconds_per_train_step']} | {P['cpu_seconds_per_train_step']} | "
          f"{s['train_step_speedup']}x |")
    print(f"| CPU s / sampling step (batch 4, CFG) | {L['sampling']['cpu_seconds_per_step_batch4_cfg']} | "
          f"{P['sampling']['cpu_seconds_per_step_batch4_cfg']} | {s['sampling_step_speedup']}x |")
    print(f"| 20-step generation of 4, CPU s | {s['generation_20_steps_batch4_cpu_seconds']['latent_incl_vae_decode']} "
          f"(incl. VAE decode) | {s['generation_20_steps_batch4_cpu_seconds']['pixel']} | |")
    print(f"| steps in {budget} CPU s | {L['steps']} | {P['steps']} | |")
    print(f"| x0 RMS after equal CPU (lower is better) | {s['x0_rms_after_equal_cpu']['latent']} | "
          f"{s['x0_rms_after_equal_cpu']['pixel']} | |")
    print(f"| x0 RMS after {k_lat} / {k} steps | {s['x0_rms_after_equal_steps']['latent']} | {s['x0_rms_after_equal_steps']['pixel']} | |")
    print(f"| reference: VAE round-trip floor / all-white guess | {vae_floor:.4f} | {white:.4f} | |")
    print(f"wrote {args.out}")
    if not args.no_card:
        update_card(os.path.join(PIPELINE_DIR, "card.json"), "latent_vs_pixel", results)
        print("wrote public/models/emoji/card.json 'latent_vs_pixel'")


if __name__ == "__main__":
    main()
