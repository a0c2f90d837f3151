"""Measures an exported model and records the result in its card's `quality` field.

  /usr/bin/python3 training/evaluate.py --dataset mnist --threads 1

Method (cheap enough for a CPU, comparable between exports of the same data set, NOT comparable
to published FID numbers):
  1. A small CNN classifier is trained on the real training split (2 epochs; cached in
     training/checkpoints/<dataset>/classifier.pt) and its test-set accuracy is recorded.
  2. The exported model (public/models/<id>/, the shipped float16 weights) draws --per-class
     samples of every class with DDIM + classifier-free guidance (training/sample.py).
  3. class_accuracy: how often the classifier assigns a sample the class that was asked for.
     frechet_distance_classifier_features: Frechet distance between the classifier's penultimate
     features (128-d) of the samples and of as many real test images; lower is better, ~0 for
     real-vs-real at this sample size it is not (sampling noise), so compare runs with equal sizes.
"""

import argparse
import datetime
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from sample import ddim_sample, load_exported  # noqa: E402
from train_diffusion import CHECKPOINT_ROOT  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Classifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 128)
        self.head = nn.Linear(128, num_classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x):
        return self.head(self.features(x))


def train_classifier(dataset, path, epochs=2, batch=128, seed=0):
    torch.manual_seed(seed)
    images, labels = data.load(dataset, "train")
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        perm = torch.randperm(images.shape[0])
        for i in range(0, images.shape[0] - batch + 1, batch):
            idx = perm[i : i + batch]
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"classifier epoch {epoch + 1}/{epochs} loss {loss.item():.4f}", flush=True)
    model.eval()
    test_x, test_y = data.load(dataset, "test")
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    torch.save({"state": model.state_dict(), "test_accuracy": accuracy, "epochs": epochs}, path)
    return model, accuracy


def load_or_train_classifier(dataset):
    path = os.path.join(CHECKPOINT_ROOT, dataset, "classifier.pt")
    if os.path.isfile(path):
        saved = torch.load(path, map_location="cpu")
        model = Classifier()
        model.load_state_dict(saved["state"])
        return model.eval(), saved["test_accuracy"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return train_classifier(dataset, path)


def frechet_distance(a, b):
    """Frechet distance between Gaussians fitted to feature sets a [N, D] and b [M, D] (float64)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # sqrtm(cov_a cov_b) via the symmetric form sqrt(A^1/2 B A^1/2), which has the same trace.
    vals, vecs = np.linalg.eigh(cov_a)
    sqrt_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    trace_sqrt = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--model-dir", default=None, help="default public/models/<dataset>")
    p.add_argument("--per-class", type=int, default=50)
    p.add_argument("--steps", type=int, default=25, help="DDIM steps")
    p.add_argument("--guidance", type=float, default=3.0)
    p.add_argument("--batch", type=int, default=100, help="samples per sampling batch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--dry-run", action="store_true", help="print, do not write the card")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = args.model_dir or os.path.join(REPO_ROOT, "public", "models", args.dataset)

    classifier, classifier_accuracy = load_or_train_classifier(args.dataset)
    card, unet = load_exported(model_dir)
    num_classes = card["architecture"]["num_classes"]
    wanted = [c for c in range(num_classes) for _ in range(args.per_class)]
    gen = torch.Generator().manual_seed(args.seed)
    samples = []
    for i in range(0, len(wanted), args.batch):
        samples.append(ddim_sample(unet, card, wanted[i : i + args.batch], args.steps, args.guidance, gen))
        print(f"sampled {min(i + args.batch, len(wanted))}/{len(wanted)}", flush=True)
    samples = torch.cat(samples).clamp(-1, 1)

    test_x, _ = data.load(args.dataset, "test")
    real = test_x[torch.randperm(test_x.shape[0], generator=gen)[: len(wanted)]]
    with torch.no_grad():
        predicted = classifier(samples).argmax(1)
        fake_features = classifier.features(samples).double().numpy()
        real_features = classifier.features(real).double().numpy()
    quality = {
        "method": "training/evaluate.py: class accuracy and Frechet distance in the features of a "
        "small CNN trained on the real data (not comparable to published FID)",
        "classifier_test_accuracy": round(classifier_accuracy, 4),
        "samples": len(wanted),
        "sampler": f"DDIM {args.steps} steps (leading spacing, eta 0, clip x0), guidance {args.guidance}",
        "class_accuracy": round((predicted == torch.tensor(wanted)).float().mean().item(), 4),
        "frechet_distance_classifier_features": round(frechet_distance(fake_features, real_features), 3),
        "real_vs_real_reference": round(
            frechet_distance(real_features, classifier.features(test_x[-len(wanted):]).detach().double().numpy()), 3
        ),
        "weights_sha256": card["weights"]["sha256"],
        "training_steps": card["training"]["steps"],
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    print(json.dumps(quality, indent=2))
    if not args.dry_run:
        from export import write_json

        card["quality"] = quality
        write_json(os.path.join(model_dir, "card.json"), card)
        print("wrote quality into", os.path.join(model_dir, "card.json"))


if __name__ == "__main__":
    main()
