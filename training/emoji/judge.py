"""The emoji judge: a small CNN that names an emoji picture (identity and subgroup), for evaluation.

  from judge import Judge
  judge = Judge.load()                  # training/emoji/judge/ (float16 safetensors + card.json)
  out = judge.predict(images)           # images float [N, 3, 32, 32] in [-1, 1]
  out["id_topk"], out["subgroup_top1"]  # indices into judge.id_names / judge.subgroup_names

Trained by train_judge.py on the REAL training images only (emoji32.npz, split "train"); it never
sees a generated image. Architecture: 4 conv stages (32, 64, 128, 128 channels; 3x3 conv +
BatchNorm + SiLU, two convs in stages 2-4, 2x2 max-pool between stages), global average pool,
dropout, two linear heads: emoji_id (1,581 classes) and subgroup (93 classes).
"""

import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
JUDGE_DIR = os.path.join(HERE, "judge")
WEIGHTS_FILE = "model.safetensors"
DEFAULT_CONFIG = {"channels": [32, 64, 128, 128], "dropout": 0.2, "num_ids": 1581, "num_subgroups": 93}


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.SiLU())


class EmojiJudge(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG, **(config or {}))
        self.config = cfg
        c = cfg["channels"]
        stages, prev = [], 3
        for i, ch in enumerate(c):
            layers = [conv_bn(prev, ch)] + ([conv_bn(ch, ch)] if i > 0 else [])
            stages.append(nn.Sequential(*layers))
            prev = ch
        self.stages = nn.ModuleList(stages)
        self.dropout = nn.Dropout(cfg["dropout"])
        self.id_head = nn.Linear(prev, cfg["num_ids"])
        self.subgroup_head = nn.Linear(prev, cfg["num_subgroups"])

    def features(self, x):
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = stage(x)
        return x.mean(dim=(2, 3))

    def forward(self, x):
        """x [N, 3, 32, 32] in [-1, 1] -> (identity logits [N, num_ids], subgroup logits [N, num_subgroups])."""
        f = self.dropout(self.features(x))
        return self.id_head(f), self.subgroup_head(f)


# ---- augmentation: geometry, blur and noise only; colours are never changed and nothing is flipped ----

def augment(x, gen, max_shift=2.0, scale=(0.88, 1.12), blur_p=0.4, noise_p=0.5):
    """A random small translation (+-max_shift px) and scale of each picture, on a white background,
    then sometimes a slight Gaussian blur (sigma 0.3-1.0 px) and sometimes pixel noise (std <= 0.06)."""
    n = x.shape[0]
    s = torch.empty(n).uniform_(*scale, generator=gen)
    shift = torch.empty(n, 2).uniform_(-max_shift, max_shift, generator=gen) * (2.0 / 32)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = 1 / s
    theta[:, 1, 1] = 1 / s
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # grid_sample pads with 0; shifting so white is 0 makes the padding white
    x = F.grid_sample(x - 1.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 1.0
    blur = torch.rand(n, generator=gen) < blur_p
    if blur.any():
        sigma = torch.empty(int(blur.sum())).uniform_(0.3, 1.0, generator=gen)
        x[blur] = gaussian_blur(x[blur], sigma)
    noisy = (torch.rand(n, generator=gen) < noise_p).float().view(n, 1, 1, 1)
    std = torch.empty(n, 1, 1, 1).uniform_(0.0, 0.06, generator=gen)
    x = x + noisy * std * torch.randn(x.shape, generator=gen)
    return x.clamp(-1, 1)


def gaussian_blur(x, sigma):
    """Per-image separable 5-tap Gaussian blur (sigma [N]), edges replicated."""
    k = torch.arange(-2, 3, dtype=torch.float32)
    w = torch.exp(-0.5 * (k[None, :] / sigma[:, None]) ** 2)
    w = w / w.sum(1, keepdim=True)  # [N, 5]
    n, c, h, wd = x.shape
    y = F.pad(x, (2, 2, 2, 2), mode="replicate").reshape(1, n * c, h + 4, wd + 4)
    wk = w.repeat_interleave(c, 0)  # [N*C, 5]
    y = F.conv2d(y, wk.view(n * c, 1, 1, 5), groups=n * c)
    y = F.conv2d(y, wk.view(n * c, 1, 5, 1), groups=n * c)
    return y.reshape(n, c, h, wd)


# ---- the shipped judge ----

class Judge:
    def __init__(self, model, card):
        self.model = model.eval()
        self.card = card
        self.id_names = card["classes"]["emoji_id"]
        self.subgroup_names = card["classes"]["subgroup"]
        self.id_index = {k: i for i, k in enumerate(self.id_names)}
        self.subgroup_index = {k: i for i, k in enumerate(self.subgroup_names)}

    @classmethod
    def load(cls, judge_dir=JUDGE_DIR):
        card_path = os.path.join(judge_dir, "card.json")
        if not os.path.isfile(card_path):
            raise SystemExit(f"no judge in {judge_dir}: run /usr/bin/python3 training/emoji/train_judge.py first")
        with open(card_path, encoding="utf-8") as f:
            card = json.load(f)
        tensors, _ = safetensors_io.load(os.path.join(judge_dir, WEIGHTS_FILE))
        model = EmojiJudge(card["config"])
        state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
        for k, v in model.state_dict().items():  # BatchNorm's step counter is not shipped
            state.setdefault(k, v)
        model.load_state_dict(state)
        return cls(model, card)

    @torch.no_grad()
    def logits(self, images, batch=256):
        ids, subs = [], []
        for i in range(0, images.shape[0], batch):
            a, b = self.model(images[i : i + batch].float())
            ids.append(a)
            subs.append(b)
        return torch.cat(ids), torch.cat(subs)

    @torch.no_grad()
    def predict(self, images, k=5):
        id_logits, sub_logits = self.logits(images)
        return {
            "id_topk": id_logits.topk(k, dim=1).indices,
            "id_prob": torch.softmax(id_logits, 1),
            "subgroup_top1": sub_logits.argmax(1),
            "subgroup_topk": sub_logits.topk(k, dim=1).indices,
        }


def topk_accuracy(id_logits, targets, ks=(1, 5)):
    """{k: fraction of rows whose target index is among the k largest logits}."""
    top = id_logits.topk(max(ks), dim=1).indices
    hit = top == targets.view(-1, 1)
    return {k: float(hit[:, :k].any(1).float().mean()) for k in ks}
