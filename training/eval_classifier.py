"""The evaluation classifier: a small ordinary CNN on clean 28x28 images, shared by train_eval_classifier.py
(which trains it) and evaluate_samples.py (which scores generated samples with it).

Architecture (EvalCNN): conv3x3 1->32, ReLU, conv3x3 32->32, BN, ReLU, maxpool 2 (14x14),
conv3x3 32->64, ReLU, conv3x3 64->64, BN, ReLU, maxpool 2 (7x7), flatten, dropout 0.3,
linear 3136->128, ReLU  <- the 128-d feature layer used for the Frechet distance,
dropout 0.3, linear 128->10.

Input: float32 [N, 1, 28, 28] in [-1, 1] (training/data.py's range, the same as the diffusion
model's output). The committed reference weights (training/eval/eval-<dataset>.pt) are stored as
float16 to stay small and are loaded back as float32; `load_eval_classifier` returns that model.
"""

import os

import torch
import torch.nn as nn

TRAINING_DIR = os.path.dirname(os.path.abspath(__file__))
COMMITTED_DIR = os.path.join(TRAINING_DIR, "eval")
CHECKPOINT_DIR = os.path.join(TRAINING_DIR, "checkpoints")
FORMAT = "diffusion-playground/eval-classifier@1"
FEATURE_DIM = 128


class EvalCNN(nn.Module):
    def __init__(self, num_classes=10, feature_dim=FEATURE_DIM, dropout=0.3):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.feature = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(64 * 7 * 7, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, num_classes))

    def features(self, x):
        return self.feature(self.conv(x))

    def forward(self, x):
        return self.head(self.features(x))


def committed_path(dataset):
    return os.path.join(COMMITTED_DIR, f"eval-{dataset}.pt")


def checkpoint_path(dataset):
    return os.path.join(CHECKPOINT_DIR, f"eval-{dataset}.pt")


def _torch_load(path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch without the weights_only argument
        return torch.load(path, map_location="cpu")
    except Exception:  # torch 1.13's weights-only unpickler rejects plain floats; our own file
        return torch.load(path, map_location="cpu", weights_only=False)


def load_eval_classifier(dataset, path=None):
    """(model in eval mode, metadata dict). Default: the committed float16 reference weights, else
    the float32 checkpoint of train_eval_classifier.py."""
    if path is None:
        path = committed_path(dataset)
        if not os.path.isfile(path):
            path = checkpoint_path(dataset)
    if not os.path.isfile(path):
        raise SystemExit(
            f"no evaluation classifier for {dataset} at {committed_path(dataset)} or "
            f"{checkpoint_path(dataset)}; train one with\n"
            f"  /usr/bin/python3 training/train_eval_classifier.py --dataset {dataset} --threads 1"
        )
    blob = _torch_load(path)
    if blob.get("format") != FORMAT:
        raise SystemExit(f"{path}: not an evaluation classifier file (format {blob.get('format')!r})")
    if blob.get("dataset") != dataset:
        raise SystemExit(f"{path}: trained on {blob.get('dataset')!r}, not {dataset!r}")
    model = EvalCNN(num_classes=blob["num_classes"], feature_dim=blob["feature_dim"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    model.eval()
    meta = {k: v for k, v in blob.items() if k != "state_dict"}
    meta["path"] = os.path.relpath(path, os.path.dirname(TRAINING_DIR))
    return model, meta


@torch.no_grad()
def predict(model, images, batch=1000):
    """(logits [N, C], features [N, 128]) for float32 [N, 1, 28, 28] images in [-1, 1]."""
    logits, feats = [], []
    for i in range(0, images.shape[0], batch):
        f = model.features(images[i : i + batch])
        feats.append(f)
        logits.append(model.head(f))
    return torch.cat(logits), torch.cat(feats)
