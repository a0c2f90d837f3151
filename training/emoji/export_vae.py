"""Exports the EMA weights of an emoji-VAE checkpoint for the browser, measured, plus a parity fixture.

  /usr/bin/python3 training/emoji/export_vae.py --threads 1            # newest checkpoint
  /usr/bin/python3 training/emoji/export_vae.py --checkpoint training/checkpoints/emoji-vae/ckpt-0004000.pt

Writes public/models/emoji/vae/
  config.json                          diffusers AutoencoderKL keys, "_class_name": "EmojiAutoencoderKL",
                                       scaling_factor measured as Stable Diffusion does (1 / std of
                                       sampled latents over the training images)
  diffusion_pytorch_model.safetensors  every tensor as F16, diffusers' names, PyTorch layouts (OIHW, [out, in])
  card.json                            sha256 of the weights, PSNR on held-out and training images,
                                       latent statistics, training record, data, licences, attribution
and tests/fixtures/parity-emoji-vae.json (fixed inputs, PyTorch encoder mean/logvar and decoder
outputs of the float16-rounded weights, which is what the browser runs).

Everything is measured on the float16-rounded weights. The export is refused when the held-out PSNR
is not better than the shipped card's, unless --force (so a later run only ships an improvement).
"""

import argparse
import datetime
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import safetensors_io  # noqa: E402
from build_data import STYLES  # noqa: E402
from vae import GROUP_NORM_EPS, EmojiAutoencoderKL, count_macs, count_parameters  # noqa: E402

CARD_FORMAT = "diffusion-playground/vae-card@1"
FIXTURE_PATH = os.path.join(common.REPO_ROOT, "tests", "fixtures", "parity-emoji-vae.json")
PARITY_SEED = 1234
# Two real held-out pictures (one per style when the split has them) and one of pure noise.
PARITY_REAL_IMAGES = 2
ATTRIBUTION = [
    {"package": "emoji-datasource-twitter", "artwork": "Twemoji", "copyright": "Copyright 2019 Twitter, Inc and other contributors "
     "(Twemoji, https://github.com/twitter/twemoji; continued at https://github.com/jdecked/twemoji)",
     "license": "CC-BY-4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/",
     "changes": "composited on white, shrunk from 64x64 to 32x32 (area average)"},
    {"package": "emoji-datasource-google", "artwork": "Noto Emoji", "copyright": "Copyright Google Inc. "
     "(https://github.com/googlefonts/noto-emoji)", "license": "Apache-2.0",
     "license_url": "https://www.apache.org/licenses/LICENSE-2.0",
     "changes": "composited on white, shrunk from 64x64 to 32x32 (area average)"},
    {"package": "emoji-datasource (index)", "copyright": "Copyright (c) 2013 Cal Henderson (iamcal/emoji-data)", "license": "MIT"},
    {"package": "emojibase-data", "what": "CLDR labels, tags, groups and subgroups (captions)",
     "copyright": "Copyright (c) 2017-2019 Miles Johnson; CLDR data Unicode, Inc.", "license": "MIT (CLDR: Unicode License v3)"},
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=common.CHECKPOINT_DIR, help="a ckpt-*.pt file or a folder of them")
    p.add_argument("--out-dir", default=common.SHIPPED_VAE_DIR)
    p.add_argument("--fixture", default=FIXTURE_PATH)
    p.add_argument("--data-dir", default=common.DATA_DIR)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--force", action="store_true", help="export even if not better than the shipped card")
    return p.parse_args(argv)


def float16_state(state_dict):
    out = {}
    for name, tensor in state_dict.items():
        half = tensor.detach().cpu().to(torch.float16).numpy()
        if not np.isfinite(half).all():
            raise SystemExit(f"{name}: non-finite values after float16 rounding")
        out[name] = half
    return out


@torch.no_grad()
def measure(model, train, held_out, held_styles):
    """PSNR (dB, mean over images) and Stable Diffusion's latent scaling factor."""
    psnr_train = common.psnr_per_image(model, train)
    psnr_held = common.psnr_per_image(model, held_out)
    gen = torch.Generator().manual_seed(PARITY_SEED)
    means, samples, stds = [], [], []
    for i in range(0, train.shape[0], 256):
        mean, logvar = model.encode(train[i : i + 256])
        std = torch.exp(0.5 * logvar)
        means.append(mean)
        stds.append(std)
        samples.append(mean + std * torch.randn(mean.shape, generator=gen))
    z, mean, std = torch.cat(samples), torch.cat(means), torch.cat(stds)
    latent_std = z.std().item()
    return {
        "psnr_held_out_db": round(psnr_held.mean().item(), 3),
        "psnr_held_out_db_by_style": {s: round(psnr_held[held_styles == s].mean().item(), 3) for s in STYLES
                                      if (held_styles == s).any()},
        "psnr_train_db": round(psnr_train.mean().item(), 3),
        "psnr_held_out_db_min": round(psnr_held.min().item(), 3),
        "held_out_images": int(held_out.shape[0]),
        "train_images": int(train.shape[0]),
        "psnr_definition": "10 log10(255^2 / MSE) per image on uint8 RGB, reconstruction from the posterior mean, "
                           "averaged over images",
        "scaling_factor": round(1.0 / latent_std, 6),
        "latent_std": round(latent_std, 6),
        "latent_mean": round(z.mean().item(), 6),
        "latent_mean_by_channel": [round(v, 5) for v in z.mean(dim=(0, 2, 3)).tolist()],
        "latent_std_by_channel": [round(v, 5) for v in z.std(dim=(0, 2, 3)).tolist()],
        "posterior_std_mean": round(std.mean().item(), 6),
        "scaling_factor_definition": "1 / std of z = mean + std * eps over every training image (no flips), "
                                     "as Stable Diffusion computed its 0.18215",
    }


@torch.no_grad()
def parity_fixture(model, held_out, held_styles):
    gen = torch.Generator().manual_seed(PARITY_SEED)
    picks = [int(np.flatnonzero(held_styles == s)[0]) for s in STYLES if (held_styles == s).any()][:PARITY_REAL_IMAGES]
    x = torch.cat([held_out[picks], torch.rand((1, 3, 32, 32), generator=gen) * 2 - 1])
    mean, logvar = model.encode(x)
    z = torch.randn((1,) + tuple(mean.shape[1:]), generator=gen) / model.config.get("scaling_factor", 1.0)
    decoded_mean = model.decode(mean)
    decoded_random = model.decode(z)
    nhwc = lambda t: [round(float(v), 7) for v in t.permute(0, 2, 3, 1).reshape(-1).tolist()]  # noqa: E731
    shape = lambda t: list(t.permute(0, 2, 3, 1).shape)  # noqa: E731
    return {
        "model_id": "emoji/vae",
        "description": "PyTorch outputs of training/emoji/vae.py with the shipped float16 weights (rounded to "
                       "float16 and back to float32). Written by training/emoji/export_vae.py.",
        "layout": "NHWC",
        "groupnorm_eps": GROUP_NORM_EPS,
        "images_shape": shape(x),
        "images": nhwc(x),
        "images_note": f"held-out emoji ({', '.join(held_styles[picks])}) and one uniform-noise image, in [-1, 1]",
        "latent_mean_shape": shape(mean),
        "latent_mean": nhwc(mean),
        "latent_logvar": nhwc(logvar),
        "decoded_from_mean_shape": shape(decoded_mean),
        "decoded_from_mean": nhwc(decoded_mean),
        "random_latents_shape": shape(z),
        "random_latents": nhwc(z),
        "random_latents_note": "N(0, 1) / scaling_factor, what a latent diffusion model hands the decoder",
        "decoded_from_random_shape": shape(decoded_random),
        "decoded_from_random": nhwc(decoded_random),
        "torch_version": torch.__version__,
    }


def config_json(model, scaling_factor):
    cfg = model.config
    n = len(cfg["block_out_channels"])
    return {
        "_class_name": "EmojiAutoencoderKL",
        "in_channels": cfg["in_channels"],
        "out_channels": cfg["out_channels"],
        "latent_channels": cfg["latent_channels"],
        "block_out_channels": cfg["block_out_channels"],
        "down_block_types": ["DownEncoderBlock2D"] * n,
        "up_block_types": ["UpDecoderBlock2D"] * n,
        "layers_per_block": cfg["layers_per_block"],
        "norm_num_groups": cfg["norm_num_groups"],
        "act_fn": "silu",
        "sample_size": cfg["sample_size"],
        "scaling_factor": scaling_factor,
        "shift_factor": None,
        "mid_block_add_attention": cfg["mid_block_add_attention"],
        "force_upcast": False,
    }


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
    model = EmojiAutoencoderKL(ckpt["config"]).eval()
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in half.items()})

    with np.load(os.path.join(args.data_dir, "emoji32.npz")) as d:
        held_styles = d["style"][d["held_out"]]
    train, held_out = common.load_images("train", args.data_dir), common.load_images("held_out", args.data_dir)
    quality = measure(model, train, held_out, held_styles)
    print(json.dumps(quality, indent=1))

    card_path = os.path.join(args.out_dir, "card.json")
    if os.path.isfile(card_path) and not args.force:
        old = json.load(open(card_path, encoding="utf-8")).get("quality", {}).get("psnr_held_out_db")
        if old is not None and quality["psnr_held_out_db"] <= old:
            raise SystemExit(f"not exported: held-out PSNR {quality['psnr_held_out_db']} dB is not better than the "
                             f"shipped {old} dB (--force to export anyway)")

    model.config["scaling_factor"] = quality["scaling_factor"]
    os.makedirs(args.out_dir, exist_ok=True)
    weights_path = os.path.join(args.out_dir, common.WEIGHTS_NAME)
    safetensors_io.save(weights_path, half, {"format": "pt"})
    blob = open(weights_path, "rb").read()
    reread, _ = safetensors_io.decode(blob)
    if any(not np.array_equal(reread[k], v) for k, v in half.items()):
        raise SystemExit("safetensors round trip changed a tensor")
    config = config_json(model, quality["scaling_factor"])
    with open(os.path.join(args.out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    manifest = json.load(open(os.path.join(args.data_dir, "manifest.json"), encoding="utf-8"))
    history = ckpt.get("history", [])
    card = {
        "format": CARD_FORMAT,
        "id": "emoji/vae",
        "name": "Emoji autoencoder (KL), 32x32x3 <-> 8x8x4 latents",
        "class_name": "EmojiAutoencoderKL",
        "config": config,
        "parameter_count": count_parameters(model),
        "mmac_per_image": round(count_macs(model, 32) / 1e6, 1),
        "io": {"layout": "PyTorch NCHW (the browser port uses NHWC)", "pixel_range": [-1.0, 1.0],
               "latent_shape": [config["latent_channels"], 8, 8],
               "encode": "mean, logvar = chunk(quant_conv(encoder(x)), 2); logvar clamped to [-30, 20]",
               "decode": "decoder(post_quant_conv(z)); a diffusion model's latents are divided by scaling_factor first"},
        "weights": {"file": common.WEIGHTS_NAME, "format": "safetensors", "dtype": "float16",
                    "byte_length": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
                    "tensor_count": len(half), "source": f"EMA of the training weights ({os.path.basename(path)})"},
        "quality": quality,
        "training": {
            "steps": ckpt["step"],
            "wall_seconds": round(ckpt["wall_seconds"], 1),
            "hardware": sorted({run["hardware"] for run in history}) or [ckpt.get("hardware")],
            "runs": history,
            "loss": "L1 (mean over pixels, [-1, 1]) + kl_weight * KL summed over latent elements / 3072 "
                    "(Stable Diffusion's normalisation); no perceptual or adversarial loss (no pretrained "
                    "LPIPS weights offline)",
            "kl_weight": ckpt["train_args"]["kl_weight"],
            "batch": ckpt["train_args"]["batch"],
            "lr": ckpt["train_args"]["lr"],
            "ema_decay": ckpt["train_args"]["ema_decay"],
            "augmentation": "none" if ckpt["train_args"]["no_hflip"] else "horizontal flip (no hue or colour changes)",
            "optimizer": "AdamW, weight decay 0, grad-norm clip 1.0, linear warm-up then constant",
            "script": "training/emoji/train_vae.py",
        },
        "data": {
            "builder": "training/emoji/build_data.py",
            "counts": manifest["counts"],
            "excluded": {k: manifest["excluded"][k] for k in ("groups", "subgroups", "hexcodes")},
            "split": manifest["split"],
            "processing": manifest["processing"],
            "sources": manifest["sources"],
            "sha256": manifest["files"],
        },
        "licenses_and_attribution": ATTRIBUTION,
        "attribution_text": "Emoji artwork: Twemoji by Twitter, Inc and other contributors, licensed under CC BY 4.0 "
                            "(https://creativecommons.org/licenses/by/4.0/), and Noto Emoji by Google, licensed under "
                            "Apache-2.0; shrunk to 32x32 and composited on white for training. Labels from CLDR via "
                            "emojibase-data (MIT).",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "torch_version": torch.__version__,
    }
    with open(card_path, "w", encoding="utf-8") as f:
        json.dump(card, f, indent=1)
        f.write("\n")

    fixture = parity_fixture(model, held_out, held_styles)
    os.makedirs(os.path.dirname(args.fixture), exist_ok=True)
    with open(args.fixture, "w", encoding="utf-8") as f:
        json.dump(fixture, f)
        f.write("\n")
    print(f"exported {path} (step {ckpt['step']}) -> {args.out_dir}: held-out PSNR {quality['psnr_held_out_db']} dB, "
          f"train {quality['psnr_train_db']} dB, scaling_factor {quality['scaling_factor']}; fixture {args.fixture}")


if __name__ == "__main__":
    main()
