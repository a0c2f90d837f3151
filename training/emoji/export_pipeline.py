"""Exports the emoji latent-diffusion pipeline for the browser, in diffusers' folder layout, measured.

  /usr/bin/python3 training/emoji/export_pipeline.py --threads 1        # newest checkpoint
  /usr/bin/python3 training/emoji/export_pipeline.py --checkpoint training/checkpoints/emoji-latent/ckpt-0004000.pt

Writes public/models/emoji/
  model_index.json                         the components, as diffusers' pipelines name them
  unet/config.json, unet/diffusion_pytorch_model.safetensors          EmojiUNet2DConditionModel, F16
  text_encoder/config.json, text_encoder/model.safetensors            EmojiTextEncoder (CLIP names), F16
  tokenizer/vocab.json, tokenizer/tokenizer_config.json               the word vocabulary and its rules
  scheduler/scheduler_config.json                                     DDPMScheduler, cosine, v_prediction
  vae/config.json                          gains latents_mean / latents_std (the normalisation the
                                           U-Net was trained on) and scaling_factor 1.0 so diffusers'
                                           formula (z - latents_mean) * scaling_factor / latents_std is
                                           exactly it; Stable Diffusion's single factor stays in the
                                           VAE card's quality.scaling_factor
  card.json                                the whole pipeline: components, checksums, conditioning,
                                           latent scaling, scheduler, data and licences, training, quality
and tests/fixtures/parity-emoji-pipeline.json (tokenizer cases, text-encoder and U-Net outputs of the
float16-rounded weights, which is what the browser runs).

The export is refused unless the held-out validation loss (v-MSE on the held-out images' latents at
fixed timesteps, noise and captions) is lower than the shipped card's, unless --force.
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
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
import latent_data  # noqa: E402
import safetensors_io  # noqa: E402
from export_vae import ATTRIBUTION, float16_state  # noqa: E402
from latent_unet import EmojiUNet2DConditionModel, count_macs, count_parameters  # noqa: E402
from pipeline_io import PIPELINE_DIR  # noqa: E402
from schedule import alphas_cumprod  # noqa: E402
from text_encoder import EmojiTextEncoder  # noqa: E402
from tokenizer import EOS, MAX_LENGTH, PAD, SPECIAL_TOKENS, Tokenizer, BOS  # noqa: E402
from train_latent import CHECKPOINT_DIR  # noqa: E402

CARD_FORMAT = "diffusion-playground/pipeline-card@1"
FIXTURE_PATH = os.path.join(common.REPO_ROOT, "tests", "fixtures", "parity-emoji-pipeline.json")
SCHEDULER_CONFIG = {
    "_class_name": "DDPMScheduler",
    "num_train_timesteps": 1000,
    "beta_schedule": "squaredcos_cap_v2",
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "trained_betas": None,
    "clip_sample": False,
    "clip_sample_range": 1.0,
    "thresholding": False,
    "variance_type": "fixed_small",
    "timestep_spacing": "trailing",
    "steps_offset": 0,
    "rescale_betas_zero_snr": False,
    "prediction_type": "v_prediction",
}
VAL_TIMESTEPS = [50, 200, 400, 600, 800, 950]
PARITY_PROMPTS = ["red heart", "cat face", "", "grinning face with big eyes, twemoji style"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=CHECKPOINT_DIR, help="a ckpt-*.pt file or a folder of them")
    p.add_argument("--out-dir", default=PIPELINE_DIR)
    p.add_argument("--fixture", default=FIXTURE_PATH)
    p.add_argument("--data-dir", default=common.DATA_DIR)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--force", action="store_true", help="export even if not better than the shipped card")
    return p.parse_args(argv)


def split_state(state):
    unet = {k[len("unet."):]: v for k, v in state.items() if k.startswith("unet.")}
    text = {k[len("text_encoder."):]: v for k, v in state.items() if k.startswith("text_encoder.")}
    return unet, text


@torch.no_grad()
def validation_loss(unet, text_encoder, tokenizer, z0_held, captions):
    """v-MSE on held-out latents (posterior means) with fixed noise, timesteps and their exact captions."""
    abar = torch.as_tensor(alphas_cumprod(1000, "squaredcos_cap_v2"), dtype=torch.float32)
    gen = torch.Generator().manual_seed(7)
    ctx = text_encoder(torch.tensor(tokenizer(captions)))
    ctx_uncond = text_encoder(torch.tensor(tokenizer([""] * len(captions))))
    out = {"cond": [], "uncond": []}
    for t in VAL_TIMESTEPS:
        noise = torch.randn(z0_held.shape, generator=gen)
        a = abar[t]
        z_t = a.sqrt() * z0_held + (1 - a).sqrt() * noise
        v = a.sqrt() * noise - (1 - a).sqrt() * z0_held
        tt = torch.full((z0_held.shape[0],), float(t))
        out["cond"].append((unet(z_t, tt, ctx) - v).pow(2).mean().item())
        out["uncond"].append((unet(z_t, tt, ctx_uncond) - v).pow(2).mean().item())
    return {
        "held_out_v_mse": round(float(np.mean(out["cond"])), 6),
        "held_out_v_mse_unconditional": round(float(np.mean(out["uncond"])), 6),
        "held_out_v_mse_by_timestep": {str(t): round(v, 6) for t, v in zip(VAL_TIMESTEPS, out["cond"])},
        "definition": f"mean squared error of the v prediction on the {z0_held.shape[0]} held-out images' normalised "
                      f"posterior-mean latents, their exact captions, t in {VAL_TIMESTEPS}, fixed noise (seed 7); "
                      "'unconditional' with the empty prompt: the gap is what the text tells the model",
    }


@torch.no_grad()
def parity_fixture(unet, text_encoder, tokenizer):
    gen = torch.Generator().manual_seed(1234)
    ids = torch.tensor(tokenizer(PARITY_PROMPTS))
    hidden = text_encoder(ids)
    z = torch.randn((len(PARITY_PROMPTS), 4, 8, 8), generator=gen)
    t = torch.tensor([999.0, 500.0, 37.0, 250.5])
    out = unet(z, t, hidden)
    flat = lambda x: [round(float(v), 7) for v in x.reshape(-1).tolist()]  # noqa: E731
    nhwc = lambda x: flat(x.permute(0, 2, 3, 1))  # noqa: E731
    cases = []
    for text in PARITY_PROMPTS + ["Piñata!!  RED-heart ☃ zzqx", "a " * 30]:
        encoded, unknown, truncated = tokenizer.encode(text)
        cases.append({"text": text, "ids": encoded, "unknown": unknown, "truncated": truncated})
    return {
        "model_id": "emoji",
        "description": "PyTorch outputs of training/emoji/{text_encoder,latent_unet,tokenizer}.py with the shipped "
                       "float16 weights (rounded to float16 and back). Written by training/emoji/export_pipeline.py.",
        "tokenizer_cases": cases,
        "prompts": PARITY_PROMPTS,
        "token_ids": ids.tolist(),
        "text_hidden_shape": list(hidden.shape),
        "text_hidden": flat(hidden),
        "latents_layout": "NHWC",
        "latents_shape": [len(PARITY_PROMPTS), 8, 8, 4],
        "latents": nhwc(z),
        "timesteps": t.tolist(),
        "unet_output": nhwc(out),
        "torch_version": torch.__version__,
    }


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def save_weights(path, tensors):
    safetensors_io.save(path, tensors, {"format": "pt"})
    blob = open(path, "rb").read()
    reread, _ = safetensors_io.decode(blob)
    if any(not np.array_equal(reread[k], v) for k, v in tensors.items()):
        raise SystemExit(f"{path}: safetensors round trip changed a tensor")
    return {"byte_length": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "tensor_count": len(tensors)}


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
    unet_half, text_half = (float16_state(s) for s in split_state(ckpt["ema"]))
    to32 = lambda h: {k: torch.from_numpy(v.astype(np.float32)) for k, v in h.items()}  # noqa: E731
    unet = EmojiUNet2DConditionModel(ckpt["unet_config"]).eval()
    unet.load_state_dict(to32(unet_half))
    text_encoder = EmojiTextEncoder(ckpt["text_config"]).eval()
    text_encoder.load_state_dict(to32(text_half))
    tokenizer = Tokenizer(ckpt["vocab"], ckpt["text_config"]["max_position_embeddings"])
    lat_mean, lat_std = torch.tensor(ckpt["latents_mean"]), torch.tensor(ckpt["latents_std"])

    table = latent_data.load_table(args.data_dir)
    held = np.flatnonzero(table["held_out"])
    vae, vae_config, vae_card = latent_data.load_vae()
    with torch.no_grad():
        mean, _ = vae.encode(common.load_images("held_out", args.data_dir))
    z0_held = (mean - lat_mean.view(1, -1, 1, 1)) / lat_std.view(1, -1, 1, 1)
    quality = validation_loss(unet, text_encoder, tokenizer, z0_held, [str(c) for c in table["caption"][held]])
    print(json.dumps(quality, indent=1))

    card_path = os.path.join(args.out_dir, "card.json")
    old_card = json.load(open(card_path, encoding="utf-8")) if os.path.isfile(card_path) else {}
    old = old_card.get("quality", {}).get("held_out_v_mse")
    if old is not None and not args.force and quality["held_out_v_mse"] >= old:
        raise SystemExit(f"not exported: held-out v-MSE {quality['held_out_v_mse']} is not lower than the shipped {old}")

    out = args.out_dir
    unet_config = dict({"_class_name": "EmojiUNet2DConditionModel"}, **unet.config)
    text_config = dict({"_class_name": "EmojiTextEncoder"}, **text_encoder.config)
    write_json(os.path.join(out, "unet", "config.json"), unet_config)
    write_json(os.path.join(out, "text_encoder", "config.json"), text_config)
    unet_file = save_weights(os.path.join(out, "unet", "diffusion_pytorch_model.safetensors"), unet_half)
    text_file = save_weights(os.path.join(out, "text_encoder", "model.safetensors"), text_half)
    write_json(os.path.join(out, "tokenizer", "vocab.json"), tokenizer.vocab)
    write_json(os.path.join(out, "tokenizer", "tokenizer_config.json"), {
        "_class_name": "EmojiWordTokenizer",
        "model_max_length": tokenizer.max_length,
        "special_tokens": SPECIAL_TOKENS, "pad_token_id": PAD, "bos_token_id": BOS, "eos_token_id": EOS,
        "rules": "lower-case; Unicode NFKD with combining marks removed; split on [^a-z0-9]+; unknown words dropped "
                 "(reported); [BOS] words [EOS] padded with [PAD] to model_max_length; more than "
                 "model_max_length - 2 known words: the first ones are kept (reported as truncated)",
        "vocab_file": "vocab.json", "vocab_size": len(tokenizer.vocab),
    })
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), SCHEDULER_CONFIG)
    vae_config_path = os.path.join(out, "vae", "config.json")
    vae_cfg = json.load(open(vae_config_path, encoding="utf-8"))
    vae_cfg.update({"scaling_factor": 1.0, "latents_mean": [round(v, 6) for v in lat_mean.tolist()],
                    "latents_std": [round(v, 6) for v in lat_std.tolist()]})
    with open(vae_config_path, "w", encoding="utf-8") as f:
        json.dump(vae_cfg, f, indent=2)
        f.write("\n")
    # The VAE card quotes its config: keep the two the same (its quality keeps SD's factor).
    vae_card["config"] = vae_cfg
    write_json(os.path.join(out, "vae", "card.json"), vae_card)
    write_json(os.path.join(out, "model_index.json"), {
        "_class_name": "EmojiLatentDiffusionPipeline",
        "_diffusers_version": "layout only (our own classes)",
        "scheduler": ["diffusers", "DDPMScheduler"],
        "text_encoder": ["diffusion-playground", "EmojiTextEncoder"],
        "tokenizer": ["diffusion-playground", "EmojiWordTokenizer"],
        "unet": ["diffusion-playground", "EmojiUNet2DConditionModel"],
        "vae": ["diffusion-playground", "EmojiAutoencoderKL"],
    })

    history = ckpt.get("history", [])
    args_used = ckpt["train_args"]
    vae_weights_path = os.path.join(out, "vae", common.WEIGHTS_NAME)
    vae_blob = open(vae_weights_path, "rb").read()
    card = {
        "format": CARD_FORMAT,
        "id": "emoji",
        "name": "Emoji, text-to-image (latent diffusion)",
        "pipeline": "EmojiLatentDiffusionPipeline",
        "sample_space": {"kind": "latents", "shape": [8, 8, 4], "layout": "NHWC in the browser, NCHW in PyTorch",
                         "image_shape": [32, 32, 3], "pixel_range": [-1.0, 1.0],
                         "to_latents": "z = vae.encode(x).sample(); latents = (z - latents_mean) * scaling_factor / latents_std",
                         "to_pixels": "z = latents * latents_std / scaling_factor + latents_mean; x = vae.decode(z)",
                         "latents_mean": vae_cfg["latents_mean"], "latents_std": vae_cfg["latents_std"],
                         "scaling_factor": 1.0,
                         "sd_scaling_factor": vae_card.get("quality", {}).get("scaling_factor")},
        "components": {
            "unet": {"class_name": "EmojiUNet2DConditionModel", "config": "unet/config.json",
                     "weights": dict(file="unet/diffusion_pytorch_model.safetensors", dtype="float16", **unet_file),
                     "parameter_count": count_parameters(unet),
                     "mmac_per_sample": round(count_macs(unet, tokenizer.max_length) / 1e6, 1)},
            "text_encoder": {"class_name": "EmojiTextEncoder", "config": "text_encoder/config.json",
                             "weights": dict(file="text_encoder/model.safetensors", dtype="float16", **text_file),
                             "parameter_count": count_parameters(text_encoder)},
            "tokenizer": {"class_name": "EmojiWordTokenizer", "vocab": "tokenizer/vocab.json",
                          "config": "tokenizer/tokenizer_config.json", "vocab_size": len(tokenizer.vocab),
                          "max_length": tokenizer.max_length},
            "vae": {"class_name": "EmojiAutoencoderKL", "config": "vae/config.json", "card": "vae/card.json",
                    "parameter_count": vae_card.get("parameter_count"),
                    "weights": {"file": "vae/" + common.WEIGHTS_NAME, "dtype": "float16", "byte_length": len(vae_blob),
                                "sha256": hashlib.sha256(vae_blob).hexdigest()}},
            "scheduler": {"class_name": "DDPMScheduler", "config": "scheduler/scheduler_config.json"},
        },
        "conditioning": {"kind": "text", "encoder_output": [tokenizer.max_length, text_encoder.config["hidden_size"]],
                         "cross_attention": "every U-Net transformer block attends to all text tokens (no mask)",
                         "unconditional_prompt": "", "caption_dropout": args_used["caption_dropout"],
                         "negative_prompt": "its encoding replaces the unconditional branch of classifier-free guidance"},
        "scheduler": SCHEDULER_CONFIG,
        "prediction_type": "v_prediction",
        "quality": quality,
        "training": {
            "steps": ckpt["step"], "wall_seconds": round(ckpt["wall_seconds"], 1),
            "hardware": sorted({r["hardware"] for r in history}) or [ckpt.get("hardware")], "runs": history,
            "objective": "v-prediction MSE, min-SNR-5 weighting, t uniform in [0, 999], cosine schedule",
            "batch": args_used["batch"], "lr": args_used["lr"], "ema_decay": args_used["ema_decay"],
            "captions": "per step: the exact CLDR name (55%), name + 1-3 tags (20%), 1-3 tags (+ skin tone) (12%), "
                        "subgroup + name (13%); a style word ('twemoji style' / 'noto style') 20% of the time; the empty "
                        f"prompt with probability {args_used['caption_dropout']}",
            "latents": "sampled from each training image's VAE posterior every step (VAE frozen)",
            "optimizer": "AdamW, weight decay 0, grad-norm clip 1.0, linear warm-up then constant",
            "script": "training/emoji/train_latent.py", "source": f"EMA of {os.path.basename(path)}",
        },
        "data": vae_card.get("data"),
        "licenses_and_attribution": ATTRIBUTION,
        "attribution_text": vae_card.get("attribution_text"),
        "exported_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "torch_version": torch.__version__,
    }
    # Later measurements (the judge's prompt fidelity, speed) are kept across re-exports until re-measured.
    for key in ("evaluation", "speed", "latent_vs_pixel"):
        if key in old_card:
            card[key] = old_card[key]
    write_json(card_path, card)
    fixture = parity_fixture(unet, text_encoder, tokenizer)
    with open(args.fixture, "w", encoding="utf-8") as f:
        json.dump(fixture, f)
        f.write("\n")
    print(f"exported {path} (step {ckpt['step']}) -> {out}: held-out v-MSE {quality['held_out_v_mse']} "
          f"(unconditional {quality['held_out_v_mse_unconditional']})")


if __name__ == "__main__":
    main()
