"""Scores generated samples with the evaluation classifier (training/eval_classifier.py).

  /usr/bin/python3 training/evaluate_samples.py --dataset mnist --samples DIR [DIR ...] [--json FILE]

Each DIR holds PNGs named `<index>_c<class>_.png` (what `npm run generate` writes; 8-bit grayscale
28x28, 0 = -1 and 255 = +1 as in training/data.py). For every DIR it reports
  - accuracy: how often the classifier's top class is the class the sample was generated for
    (overall and per class);
  - fd: the Frechet distance between the classifier's 128-d penultimate features of the samples and
    of the 10,000 real TEST images (FID's formula, |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2), on a
    small domain classifier instead of Inception, so not comparable with published FIDs);
  - fd_real_same_n: the same distance for as many real TRAIN images (a fixed random subset): the
    floor that sample size allows, since the estimate is biased upward for small n;
and once, for scale, the distance between 10,000 real TRAIN images and the TEST images.
Numbers are comparable only with the same classifier file (its path and test accuracy are printed
and saved). Needs torch and numpy only (the matrix square root uses numpy's eigh, no scipy).
"""

import argparse
import json
import os
import re
import struct
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from eval_classifier import load_eval_classifier, predict  # noqa: E402

SAMPLE_NAME = re.compile(r"^(\d+)_c(\d+)_\.png$")
REFERENCE_TRAIN_N = 10000
REFERENCE_SEED = 0


def read_png_gray(path):
    """uint8 [H, W] from an 8-bit grayscale PNG (any filter types); other PNGs go through PIL."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    at, header, idat = 8, None, []
    while at < len(raw):
        (length,) = struct.unpack(">I", raw[at : at + 4])
        kind = raw[at + 4 : at + 8]
        body = raw[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour != 0 or interlace != 0:
        from PIL import Image  # only for PNGs this tool did not write

        return np.asarray(Image.open(path).convert("L"), dtype=np.uint8)
    rows = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, width + 1)
    out = np.zeros((height, width), dtype=np.int32)
    prev = np.zeros(width, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) & 255
        else:  # Sub, Average, Paeth depend on the pixel to the left: go pixel by pixel
            cur = np.zeros(width, dtype=np.int32)
            for x in range(width):
                a = cur[x - 1] if x else 0
                b, c = prev[x], (prev[x - 1] if x else 0)
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                elif kind == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                else:
                    raise ValueError(f"{path}: bad PNG filter type {kind}")
                cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    return out.astype(np.uint8)


def load_samples(directory):
    """(images float32 [N, 1, 28, 28] in [-1, 1], requested classes int64 [N], file names)."""
    if not os.path.isdir(directory):
        raise SystemExit(f"{directory}: no such directory")
    names = sorted((n for n in os.listdir(directory) if SAMPLE_NAME.match(n)), key=lambda n: int(n.split("_")[0]))
    if not names:
        raise SystemExit(f"{directory}: no <index>_c<class>_.png files (run `npm run generate -- --out {directory}`)")
    images, classes = [], []
    for name in names:
        img = read_png_gray(os.path.join(directory, name))
        if img.shape != (28, 28):
            raise SystemExit(f"{directory}/{name}: {img.shape[1]}x{img.shape[0]}, expected 28x28")
        images.append(img)
        classes.append(int(SAMPLE_NAME.match(name).group(2)))
    return data.to_model_range(np.stack(images)), torch.tensor(classes), names


def gaussian_stats(features):
    f = features.double().numpy()
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(stats1, stats2):
    """|mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^1/2). S1 S2 is similar to the symmetric PSD
    matrix S1^1/2 S2 S1^1/2, so the trace of its square root is the sum of the square roots of that
    matrix's eigenvalues (what scipy.linalg.sqrtm gives in exact arithmetic, without its complex
    round-off)."""
    mu1, s1 = stats1
    mu2, s2 = stats2
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root1 @ s2 @ root1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


class Reference:
    """Features of the real data, computed once per classifier."""

    def __init__(self, dataset, model):
        self.model = model
        x_test, self.y_test = data.load(dataset, "test")
        logits, self.test_features = predict(model, x_test)
        self.test_accuracy = (logits.argmax(1) == self.y_test).float().mean().item()
        self.test_stats = gaussian_stats(self.test_features)
        x_train, _ = data.load(dataset, "train")
        self.train_order = torch.randperm(x_train.shape[0], generator=torch.Generator().manual_seed(REFERENCE_SEED))
        self.x_train = x_train
        _, self.train_features = predict(model, x_train[self.train_order[:REFERENCE_TRAIN_N]])
        self.fd_train_test = frechet_distance(gaussian_stats(self.train_features), self.test_stats)
        self._same_n = {}

    def fd_same_n(self, n):
        """Distance of n real train images (the first n of the fixed subset) to the test set."""
        if n < 2:
            return None
        if n not in self._same_n:
            if n <= REFERENCE_TRAIN_N:
                feats = self.train_features[:n]
            else:
                _, feats = predict(self.model, self.x_train[self.train_order[:n]])
            self._same_n[n] = frechet_distance(gaussian_stats(feats), self.test_stats)
        return self._same_n[n]


def evaluate_dir(directory, reference, num_classes=10):
    images, classes, _ = load_samples(directory)
    logits, feats = predict(reference.model, images)
    correct = logits.argmax(1) == classes
    per_class = {}
    for c in range(num_classes):
        mask = classes == c
        if mask.any():
            per_class[str(c)] = {"n": int(mask.sum()), "accuracy": round(correct[mask].float().mean().item(), 4)}
    n = images.shape[0]
    same_n = reference.fd_same_n(n)
    result = {
        "samples": directory,
        "n": n,
        "accuracy": round(correct.float().mean().item(), 4),
        "per_class": per_class,
        "fd": round(frechet_distance(gaussian_stats(feats), reference.test_stats), 3) if n > 1 else None,
        "fd_real_same_n": None if same_n is None else round(same_n, 3),
    }
    record_path = os.path.join(directory, "generate.json")
    if os.path.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
        result["generate"] = {
            "settings": record.get("settings"),
            "model": record.get("model"),
            "backend": record.get("backend"),
            "seconds": record.get("seconds"),
            "images_per_second": record.get("imagesPerSecond"),
            "run_calls": record.get("runCalls"),
            "bench": record.get("bench"),
        }
    return result


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def print_table(summary):
    ref = summary["reference"]
    print(f"classifier {summary['classifier']['path']}: test accuracy {summary['classifier']['test_accuracy']:.4f}")
    print(f"reference: FD(10k real train, real test) = {ref['fd_train10k_test']:.3f}")
    head = f"{'samples':40s} {'n':>5s} {'acc':>7s} {'FD':>9s} {'FD real n':>10s}  per-class accuracy"
    print(head)
    print("-" * len(head))
    for r in summary["results"]:
        per = " ".join(f"{c}:{v['accuracy']:.2f}" for c, v in r["per_class"].items())
        print(f"{r['samples'][-40:]:40s} {r['n']:5d} {r['accuracy']:7.4f} {_fmt(r['fd'], '9.3f'):>9s} "
              f"{_fmt(r['fd_real_same_n'], '10.3f'):>10s}  {per}")


def evaluate(dataset, directories, classifier=None):
    model, meta = load_eval_classifier(dataset, classifier)
    reference = Reference(dataset, model)
    return {
        "dataset": dataset,
        "classifier": {
            "path": meta["path"],
            "dtype": meta.get("dtype"),
            "test_accuracy": round(reference.test_accuracy, 4),
            "feature_dim": meta["feature_dim"],
        },
        "reference": {
            "fd_train10k_test": round(reference.fd_train_test, 3),
            "train_subset": f"{REFERENCE_TRAIN_N} train images, torch.randperm seed {REFERENCE_SEED}",
            "test": "all 10,000 test images",
        },
        "results": [evaluate_dir(d, reference) for d in directories],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--samples", nargs="+", required=True, help="folders of <index>_c<class>_.png files")
    p.add_argument("--json", default=None, help="also write the summary here")
    p.add_argument("--classifier", default=None, help="default training/eval/eval-<dataset>.pt")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    summary = evaluate(args.dataset, args.samples, args.classifier)
    print_table(summary)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
