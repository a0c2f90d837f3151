"""Samples the emoji pipeline in PyTorch (reference for the browser, and for evaluation scripts).

  /usr/bin/python3 training/emoji/sample_latent.py --prompt "red heart" --count 8 --out /tmp/hearts.png
  /usr/bin/python3 training/emoji/sample_latent.py --checkpoint training/checkpoints/emoji-latent --prompt "cat face"

DDIM (eta 0, "trailing" spacing, v-prediction) with classifier-free guidance; the negative prompt's
encoding replaces the unconditional one, as in diffusers. Loads the shipped pipeline
(public/models/emoji/) or a training checkpoint's EMA.
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
import latent_data  # noqa: E402
import pipeline_io  # noqa: E402
from latent_unet import EmojiUNet2DConditionModel  # noqa: E402
from schedule import alphas_cumprod  # noqa: E402
from text_encoder import EmojiTextEncoder  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


class Pipeline:
    def __init__(self, unet, text_encoder, tokenizer, vae, lat_mean, lat_std):
        self.unet, self.text_encoder, self.tokenizer, self.vae = unet, text_encoder, tokenizer, vae
        self.lat_mean, self.lat_std = lat_mean.view(1, -1, 1, 1), lat_std.view(1, -1, 1, 1)
        self.abar = torch.as_tensor(alphas_cumprod(1000, "squaredcos_cap_v2"), dtype=torch.float32)

    @classmethod
    def load(cls, source=None):
        vae = latent_data.load_vae()[0]
        if source and (os.path.isdir(source) and common.latest_checkpoint(source) or source.endswith(".pt")):
            path = common.latest_checkpoint(source) if os.path.isdir(source) else source
            ckpt = common.load_checkpoint(path)
            unet = EmojiUNet2DConditionModel(ckpt["unet_config"])
            text = EmojiTextEncoder(ckpt["text_config"])
            unet.load_state_dict({k[5:]: v for k, v in ckpt["ema"].items() if k.startswith("unet.")})
            text.load_state_dict({k[13:]: v for k, v in ckpt["ema"].items() if k.startswith("text_encoder.")})
            vocab, cfg, m, s = ckpt["vocab"], ckpt["text_config"], ckpt["latents_mean"], ckpt["latents_std"]
        else:
            p = pipeline_io.load_pipeline(source or pipeline_io.PIPELINE_DIR)
            if p is None:
                raise SystemExit("no shipped pipeline and no checkpoint given")
            unet, text = EmojiUNet2DConditionModel(p["unet_config"]), EmojiTextEncoder(p["text_config"])
            unet.load_state_dict(p["unet"])
            text.load_state_dict(p["text_encoder"])
            vocab, cfg, m, s = p["vocab"], p["text_config"], p["latents_mean"], p["latents_std"]
        tok = Tokenizer(vocab, cfg["max_position_embeddings"])
        return cls(unet.eval(), text.eval(), tok, vae, torch.tensor(m), torch.tensor(s))

    @torch.no_grad()
    def encode_text(self, prompts):
        return self.text_encoder(torch.tensor(self.tokenizer(prompts)))

    @torch.no_grad()
    def __call__(self, prompts, steps=25, guidance=5.0, seed=0, negative_prompt="", return_latents=False):
        n = len(prompts)
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn((n, 4, 8, 8), generator=gen)
        cond = self.encode_text(prompts)
        uncond = self.encode_text([negative_prompt] * n)
        # "trailing" spacing: round(linspace(1000, 0, steps + 1))[:-1] - 1, as diffusers' DDIM
        ts = (np.round(np.arange(1000, 0, -1000 / steps)).astype(np.int64) - 1).tolist()
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            a = self.abar[t]
            a_prev = self.abar[t_prev] if t_prev >= 0 else torch.tensor(1.0)
            tt = torch.full((2 * n,), float(t))
            v_u, v_c = self.unet(torch.cat([z, z]), tt, torch.cat([uncond, cond])).chunk(2)
            v = v_u + guidance * (v_c - v_u)
            x0 = a.sqrt() * z - (1 - a).sqrt() * v
            eps = (1 - a).sqrt() * z + a.sqrt() * v
            z = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        images = self.vae.decode(z * self.lat_std + self.lat_mean).clamp(-1, 1)
        return (images, z) if return_latents else images


def to_uint8(images):
    return images.add(1).mul(127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def save_sheet(images, path, cols=8, scale=2):
    from PIL import Image

    arr = to_uint8(images)
    rows = (len(arr) + cols - 1) // cols
    sheet = np.full((rows * 32, cols * 32, 3), 255, np.uint8)
    for i, im in enumerate(arr):
        sheet[(i // cols) * 32 : (i // cols + 1) * 32, (i % cols) * 32 : (i % cols + 1) * 32] = im
    Image.fromarray(sheet).resize((cols * 32 * scale, rows * 32 * scale), Image.NEAREST).save(path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=None, help="checkpoint file or folder (default: the shipped pipeline)")
    p.add_argument("--prompt", action="append", required=True, help="repeatable: one row per prompt")
    p.add_argument("--negative-prompt", default="")
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--guidance", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    pipe = Pipeline.load(a.checkpoint)
    prompts = [pr for pr in a.prompt for _ in range(a.count)]
    save_sheet(pipe(prompts, a.steps, a.guidance, a.seed, a.negative_prompt), a.out, cols=a.count)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
