"""Exports the EMA weights of an emoji-SR checkpoint for the browser, measured, plus a parity fixture.

  /usr/bin/python3 training/sr/export_sr.py --threads 1            # newest checkpoint
  /usr/bin/python3 training/sr/export_sr.py --checkpoint training/checkpoints/emoji-sr/ckpt-0004000.pt

Writes public/models/emoji-sr/ (diffusers' folder layout)
  model_index.json                          the components: unet, scheduler
  unet/config.json                          diffusers UNet2DModel keys, "_class_name": "EmojiSRUNet2DModel"
  unet/diffusion_pytorch_model.safetensors  every tensor as F16, diffusers' names, PyTorch layouts
  scheduler/scheduler_config.json           DDPMScheduler, cosine, v_prediction, trailing spacing
  card.json                                 the pipeline card: components, checksums, conditioning (low-res
                                            image + noise augmentation), quality, training record
plus docs/emoji-sr-contact-sheet.png (held-out input / bicubic / ours / real) and
tests/fixtures/parity-emoji-sr.json (fixed inputs and the PyTorch outputs of the float16-rounded
weights, which is what the browser runs).

Quality, measured on the float16 weights over every held-out image (175): a 20-step DDIM (eta 0,
trailing spacing, x_0 clipped to [-1, 1], as the playground's DDIM with this scheduler config) from a
fixed seed at noise-augmentation levels 0 and --aug-level; PSNR and SSIM against the real 64x64,
consistency (the output's 2x2 area average against the 32x32 input, PSNR in dB), next to bicubic and
nearest upsampling. The export is refused unless the held-out PSNR at level 0 is higher than the
shipped card's (--force overrides). Speed in the browser is measured separately (the card keeps it).
"""

import argparse
import datetime
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sr_common  # noqa: E402
import common  # noqa: E402
import safetensors_io  # noqa: E402
from export_vae import ATTRIBUTION, float16_state  # noqa: E402
from sr_unet import EmojiSRUNet2DModel, count_macs, count_parameters  # noqa: E402

CARD_FORMAT = "diffusion-playground/pipeline-card@1"
FIXTURE_PATH = os.path.join(sr_common.REPO_ROOT, "tests", "fixtures", "parity-emoji-sr.json")
SHEET_PATH = os.path.join(sr_common.REPO_ROOT, "docs", "emoji-sr-contact-sheet.png")
PARITY_SEED = 1234
SAMPLE_SEED = 0
SCHEDULER_CONFIG = {
    "_class_name": "DDPMScheduler",
    "num_train_timesteps": 1000,
    "beta_schedule": "squaredcos_cap_v2",
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "trained_betas": None,
    "clip_sample": True,
    "clip_sample_range": 1.0,
    "thresholding": False,
    "variance_type": "fixed_small",
    "timestep_spacing": "trailing",
    "steps_offset": 0,
    "rescale_betas_zero_snr": False,
    "prediction_type": "v_prediction",
}
DEFAULT_NOISE_LEVEL = 0  # what the playground starts with for the augmentation level


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=sr_common.CHECKPOINT_DIR, help="a ckpt-*.pt file or a folder of them")
    p.add_argument("--out-dir", default=sr_common.PIPELINE_DIR)
    p.add_argument("--fixture", default=FIXTURE_PATH)
    p.add_argument("--sheet", default=SHEET_PATH)
    p.add_argument("--data-dir", default=sr_common.DATA_DIR)
    p.add_argument("--steps", type=int, default=20, help="DDIM steps for the quality measurement")
    p.add_argument("--aug-level", type=int, default=100, help="second noise-augmentation level measured")
    p.add_argument("--limit", type=int, default=None, help="measure on the first N held-out images only (tests)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--force", action="store_true", help="export even if not better than the shipped card")
    return p.parse_args(argv)


def summary(values, styles=None):
    out = {"mean": round(values.mean().item(), 3)}
    if styles is not None:
        out["by_style"] = {s: round(values[torch.from_numpy(styles == s)].mean().item(), 3) for s in sorted(set(styles))}
    return out


@torch.no_grad()
def measure(model, high, low, styles, steps, aug_level):
    t0 = time.time()
    ours0 = sr_common.sample_ddim(model, low, steps=steps, noise_level=0, seed=SAMPLE_SEED)
    seconds = time.time() - t0
    ours_aug = sr_common.sample_ddim(model, low, steps=steps, noise_level=aug_level, seed=SAMPLE_SEED)
    rows = {"ours": ours0, f"ours_noise_level_{aug_level}": ours_aug,
            "bicubic": sr_common.bicubic(low), "nearest": sr_common.nearest(low)}
    table = {}
    for name, out in rows.items():
        table[name] = {
            "psnr_db": summary(sr_common.psnr(out, high), styles),
            "ssim": round(sr_common.ssim(out, high).mean().item(), 4),
            "consistency_db": round(sr_common.consistency(out, low).mean().item(), 3),
        }
    quality = {
        "psnr_held_out_db": table["ours"]["psnr_db"]["mean"],
        "ssim_held_out": table["ours"]["ssim"],
        "consistency_held_out_db": table["ours"]["consistency_db"],
        "bicubic_psnr_held_out_db": table["bicubic"]["psnr_db"]["mean"],
        "bicubic_ssim_held_out": table["bicubic"]["ssim"],
        "table": table,
        "held_out_images": int(high.shape[0]),
        "sampler": f"DDIM, {steps} steps, eta 0, trailing spacing, x_0 clipped to [-1, 1], seed {SAMPLE_SEED} "
                   "(torch.Generator: augmentation noise then x_T)",
        "noise_levels": [0, aug_level],
        "definitions": {
            "psnr_db": "10 log10(255^2 / MSE) per image on uint8 RGB against the real 64x64 composite, averaged over images",
            "ssim": "Wang et al. 2004, 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03, valid windows, per RGB "
                    "channel on uint8 values, averaged",
            "consistency_db": "PSNR of the output's 2x2 area average (uint8) against the 32x32 input",
            "bicubic": "torch F.interpolate(mode='bicubic', align_corners=False, a = -0.75), clamped",
            "nearest": "pixel repetition (what the network sees as its conditioning)",
        },
        "torch_seconds_for_level_0": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    quality["_rows"] = rows
    return quality, ours0


@torch.no_grad()
def judge_evaluation(rows, low, meta):
    """The emoji judge (training/emoji/judge.py, a 32x32 classifier trained on the real training
    images) on each row, shrunk 2x2 to the 32x32 the judge reads: does the upscale keep what the
    picture is? None when no judge has been shipped yet."""
    try:
        from judge import Judge, topk_accuracy
        judge = Judge.load()
    except (ImportError, SystemExit, OSError) as err:
        return {"available": False, "why": str(err)}
    ids = torch.tensor([judge.id_index.get(str(e), -1) for e in meta["emoji_id"]])
    subs = torch.tensor([judge.subgroup_index.get(str(g), -1) for g in meta["subgroup"]])
    out = {"available": True, "judge_card": "training/emoji/judge/card.json",
           "judge_trained_steps": judge.card.get("training", {}).get("steps"),
           "definition": "judge top-1 / top-5 emoji identity and top-1 subgroup on the held-out images; 64x64 "
                         "outputs are shrunk by 2x2 area averaging to the judge's 32x32 first", "rows": {}}
    for name, images in dict({"input_32x32": low}, **rows).items():
        x = images if images.shape[-1] == low.shape[-1] else sr_common.area_down2(sr_common.to_u8(images).div(127.5).sub(1))
        id_logits, sub_logits = judge.logits(x)
        acc = topk_accuracy(id_logits, ids)
        out["rows"][name] = {"id_top1": round(acc[1], 4), "id_top5": round(acc[5], 4),
                             "subgroup_top1": round(float((sub_logits.argmax(1) == subs).float().mean()), 4)}
    return out


def contact_sheet(path, low, bic, ours, high, n=8):
    """Rows: input (pixel-repeated to 64x64), bicubic, ours, real; n held-out images as columns, 2 px gaps."""
    from PIL import Image

    n = min(n, low.shape[0])
    rows = [sr_common.nearest(low[:n]), bic[:n], ours[:n], high[:n]]
    gap, size = 2, 64
    sheet = np.full((4 * size + 5 * gap, n * size + (n + 1) * gap, 3), 255, np.uint8)
    for r, imgs in enumerate(rows):
        u8 = sr_common.to_u8(imgs).permute(0, 2, 3, 1).numpy().astype(np.uint8)
        for c in range(n):
            y, x = gap + r * (size + gap), gap + c * (size + gap)
            sheet[y : y + size, x : x + size] = u8[c]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(path, optimize=True)


@torch.no_grad()
def parity_fixture(model, low_held):
    """Two cases: a batch of 2 at 32x32 (16x16 low-res; the network is fully convolutional) with
    different t and noise levels, and one held-out image at the full 64x64."""
    gen = torch.Generator().manual_seed(PARITY_SEED)
    nhwc = lambda t: [round(float(v), 6) for v in t.permute(0, 2, 3, 1).reshape(-1).tolist()]  # noqa: E731
    shape = lambda t: list(t.permute(0, 2, 3, 1).shape)  # noqa: E731
    cases = []
    specs = [
        (torch.rand((2, 3, 16, 16), generator=gen) * 2 - 1, [999.0, 321.0], [0.0, 250.0]),
        (low_held[:1], [500.0], [60.0]),
    ]
    for low, ts, levels in specs:
        n, s = low.shape[0], low.shape[-1] * 2
        x_t = torch.randn((n, 3, s, s), generator=gen)
        out = model(x_t, torch.tensor(ts), low, torch.tensor(levels))
        cases.append({"sample_shape": shape(x_t), "sample": nhwc(x_t), "timesteps": ts,
                      "low_res_shape": shape(low), "low_res": nhwc(low), "noise_levels": levels,
                      "output_shape": shape(out), "output": nhwc(out)})
    return {
        "model_id": "emoji-sr/unet",
        "description": "PyTorch outputs (v) of training/sr/sr_unet.py with the shipped float16 weights (rounded to "
                       "float16 and back to float32). low_res is the model input as given (already noise-augmented "
                       "if at all); the network repeats its pixels 2x2 itself. Written by training/sr/export_sr.py.",
        "layout": "NHWC",
        "cases": cases,
        "torch_version": torch.__version__,
    }


def write_examples(out_dir, low, meta, n=8):
    """examples.png (n held-out 32x32 pictures in a row, never seen in training) and examples.json,
    the Upscale panel's examples: the first held-out picture of each of the first n emoji, so both
    styles appear as the split has them."""
    from PIL import Image

    picks, seen = [], set()
    for i, hexcode in enumerate(meta["hexcode"]):
        if hexcode.split("-")[0] not in seen:
            seen.add(hexcode.split("-")[0])
            picks.append(i)
        if len(picks) == n:
            break
    cells = sr_common.to_u8(low[picks]).permute(0, 2, 3, 1).numpy().astype(np.uint8)
    Image.fromarray(np.concatenate(list(cells), axis=1)).save(os.path.join(out_dir, "examples.png"), optimize=True)
    labels = [f"{meta['caption'][i]} ({'Twemoji' if meta['style'][i] == 'twitter' else 'Noto'})" for i in picks]
    write_json(os.path.join(out_dir, "examples.json"), {
        "sprite": "examples.png", "cell": int(low.shape[-1]), "labels": labels,
        "note": "held-out 32x32 emoji (2x2 area average of the 64x64 composite on white), not seen in training",
    })


def write_json(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    path = args.checkpoint
    if os.path.isdir(path):
        path = common.latest_checkpoint(path)
    if not path or not os.path.isfile(path):
        raise SystemExit(f"no checkpoint found at {args.checkpoint}")
    ckpt = common.load_checkpoint(path)
    half = float16_state(ckpt["ema"])
    model = EmojiSRUNet2DModel(ckpt["config"]).eval()
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in half.items()})

    high, low, meta = sr_common.load_pairs("held_out", args.data_dir)
    all_low, all_meta = low, meta
    styles = meta["style"]
    if args.limit:
        high, low, styles = high[: args.limit], low[: args.limit], styles[: args.limit]
    quality, ours = measure(model, high, low, styles, args.steps, args.aug_level)
    rows = quality.pop("_rows")
    evaluation = judge_evaluation(dict(rows, real_64x64=high), low, {k: v[: high.shape[0]] for k, v in meta.items()})
    print(json.dumps(evaluation, indent=1))
    print(json.dumps({k: v for k, v in quality.items() if k != "definitions"}, indent=1))

    out = args.out_dir
    card_path = os.path.join(out, "card.json")
    old_card = json.load(open(card_path, encoding="utf-8")) if os.path.isfile(card_path) else {}
    old = old_card.get("quality", {}).get("psnr_held_out_db")
    if old is not None and not args.force and quality["psnr_held_out_db"] <= old:
        raise SystemExit(f"not exported: held-out PSNR {quality['psnr_held_out_db']} dB is not higher than the "
                         f"shipped {old} dB (--force to export anyway)")

    config = dict({"_class_name": "EmojiSRUNet2DModel", "_diffusers_version": "layout only (our own class)"}, **model.config)
    write_json(os.path.join(out, "unet", "config.json"), config)
    weights_path = os.path.join(out, "unet", sr_common.WEIGHTS_NAME)
    safetensors_io.save(weights_path, half, {"format": "pt"})
    blob = open(weights_path, "rb").read()
    reread, _ = safetensors_io.decode(blob)
    if any(not np.array_equal(reread[k], v) for k, v in half.items()):
        raise SystemExit("safetensors round trip changed a tensor")
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), SCHEDULER_CONFIG)
    write_json(os.path.join(out, "model_index.json"), {
        "_class_name": "EmojiSuperResolutionPipeline",
        "_diffusers_version": "layout only (our own classes)",
        "scheduler": ["diffusers", "DDPMScheduler"],
        "unet": ["diffusion-playground", "EmojiSRUNet2DModel"],
    })

    history = ckpt.get("history", [])
    a = ckpt["train_args"]
    vae_card_path = os.path.join(sr_common.REPO_ROOT, "public", "models", "emoji", "vae", "card.json")
    vae_card = json.load(open(vae_card_path, encoding="utf-8")) if os.path.isfile(vae_card_path) else {}
    cfg = model.config
    card = {
        "format": CARD_FORMAT,
        "id": "emoji-sr",
        "name": "Emoji super-resolution, 32x32 -> 64x64 (cascade stage)",
        "pipeline": "EmojiSuperResolutionPipeline",
        "sample_space": {"kind": "pixels", "shape": [cfg["sample_size"], cfg["sample_size"], 3],
                         "layout": "NHWC in the browser, NCHW in PyTorch", "pixel_range": [-1.0, 1.0],
                         "any_size": "fully convolutional: any H, W divisible by 8 (low-res H/2 x W/2)"},
        "components": {
            "unet": {"class_name": "EmojiSRUNet2DModel", "config": "unet/config.json",
                     "weights": {"file": "unet/" + sr_common.WEIGHTS_NAME, "format": "safetensors", "dtype": "float16",
                                 "byte_length": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
                                 "tensor_count": len(half)},
                     "parameter_count": count_parameters(model),
                     "mmac_per_sample": round(count_macs(model, cfg["sample_size"]) / 1e6, 1)},
            "scheduler": {"class_name": "DDPMScheduler", "config": "scheduler/scheduler_config.json"},
        },
        "conditioning": {
            "kind": "low_res_image",
            "low_res_shape": [cfg["low_res_size"], cfg["low_res_size"], 3],
            "upsample": "nearest (pixel repetition 2x2) inside the network, then concatenated to x_t on the channel axis "
                        "(x_t first)",
            "noise_augmentation": "low_res = sqrt(abar[s]) * y + sqrt(1 - abar[s]) * eps with the training schedule's "
                                  "alphas_cumprod at integer level s (none when s = 0 in the playground); s goes in "
                                  "through class_embedding (diffusers class_embed_type 'timestep')",
            "max_noise_level": cfg["max_noise_level"],
            "default_noise_level": DEFAULT_NOISE_LEVEL,
            "training_levels": f"0 with probability {a['clean_prob']}, else uniform integer in [0, {cfg['max_noise_level']}]",
            "expected_input": "a 32x32 RGB picture on white in [-1, 1], e.g. the 2x2 area average of a 64x64 emoji",
        },
        "scheduler": SCHEDULER_CONFIG,
        "prediction_type": "v_prediction",
        "quality": quality,
        "training": {
            "steps": ckpt["step"], "wall_seconds": round(ckpt["wall_seconds"], 1),
            "hardware": sorted({r["hardware"] for r in history}) or [ckpt.get("hardware")], "runs": history,
            "objective": "v-prediction MSE, min-SNR-5 weighting, t uniform in [0, 999], cosine schedule",
            "crops": "c x c windows of the 64x64 image at even offsets and the matching c/2 x c/2 window of the "
                     "32x32 image; c per run in runs[].crop (64 = whole pictures)",
            "batch": a["batch"], "lr": a["lr"], "ema_decay": a["ema_decay"],
            "augmentation": "horizontal flip (no hue or colour changes)",
            "optimizer": "AdamW, weight decay 0, grad-norm clip 1.0, linear warm-up then constant",
            "script": "training/sr/train_sr.py", "source": f"EMA of {os.path.basename(path)}",
        },
        "data": dict(vae_card.get("data") or {}, pairs="emoji64.npz (64x64 composites on white) with emoji32.npz (their "
                     "2x2 area average as uint8); the same held-out split as the emoji VAE and latent model"),
        "licenses_and_attribution": ATTRIBUTION,
        "attribution_text": (vae_card.get("attribution_text") or "").replace("shrunk to 32x32", "at 64x64 and shrunk to 32x32"),
        "exported_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "torch_version": torch.__version__,
    }
    card["evaluation"] = {"judge": evaluation}
    for key in ("speed",):
        if key in old_card:
            card[key] = old_card[key]
    write_json(card_path, card)
    contact_sheet(args.sheet, low, sr_common.bicubic(low), ours, high)
    write_examples(out, all_low, all_meta)
    write_json(args.fixture, parity_fixture(model, low), indent=None)
    print(f"exported {path} (step {ckpt['step']}) -> {out}: held-out PSNR {quality['psnr_held_out_db']} dB "
          f"(bicubic {quality['bicubic_psnr_held_out_db']}), SSIM {quality['ssim_held_out']} "
          f"(bicubic {quality['bicubic_ssim_held_out']}), consistency {quality['consistency_held_out_db']} dB; "
          f"sheet {args.sheet}; fixture {args.fixture}")


if __name__ == "__main__":
    main()
