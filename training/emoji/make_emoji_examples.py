#!/usr/bin/env python3
"""Writes the emoji example source images the playground offers for inpainting and img2img.

Real 32x32 emoji from the data set (training/data/emoji/emoji32.npz, made by build_data.py), picked
by a fixed rule: PER_GROUP images from each of the data set's groups, in the order the groups first
appear. Within a group the candidates are, first, the held-out images (never trained on by the
autoencoder or the diffusion model) of emoji without a skin tone, in data-set order; then, when a
group has fewer than PER_GROUP of those, training images without a skin tone (the first image of
each emoji). Images are taken at evenly spaced positions of each candidate list.

Output, in public/examples/:
  emoji-sprite.png  an 8-bit RGB PNG, every example a 32x32 cell, COLUMNS across, row-major
  index.json        the "emoji" data set (its sprite, cell size, channels, licences and credit)
                    and one entry per example: index in emoji32.npz, name, style, split, cell.
                    The other data sets' entries (training/make_examples.py) are kept as they are.

Run from the repository root:  /usr/bin/python3 training/emoji/make_emoji_examples.py
Same inputs give byte-identical outputs (no timestamps in the PNG; JSON in Prettier's layout).
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from examples_index import merge  # noqa: E402

DATA = os.path.join('training', 'data', 'emoji', 'emoji32.npz')
OUT_DIR = os.path.join('public', 'examples')
SPRITE = 'emoji-sprite.png'
PER_GROUP = 5
COLUMNS = 10
SIZE = 32
STYLES = {'twitter': 'Twemoji', 'google': 'Noto'}

DATASET = {
    'id': 'emoji',
    'name': 'Emoji',
    'licence': 'Twemoji CC-BY 4.0; Noto Emoji Apache-2.0',
    'sprite': SPRITE,
    'cellSize': SIZE,
    'columns': COLUMNS,
    'channels': 3,
    'models': ['emoji'],
    'credit': 'Twemoji © Twitter, Inc. and contributors (CC-BY 4.0); Noto Emoji © Google '
              '(Apache-2.0); composited on white, shrunk to 32x32',
}


def evenly(items, count):
    """`count` items at evenly spaced positions (centres of equal parts) of the list; all when
    it has no more than `count`."""
    n = len(items)
    if n <= count:
        return list(items)
    return [items[int((k + 0.5) * n / count)] for k in range(count)]


def pick(data):
    groups = list(dict.fromkeys(data['group'].tolist()))
    plain = data['tone'] == '0'
    chosen = []
    for group in groups:
        in_group = (data['group'] == group) & plain
        held_out = np.flatnonzero(in_group & data['held_out']).tolist()
        training = np.flatnonzero(in_group & ~data['held_out']).tolist()
        picked = evenly(held_out, PER_GROUP)
        if len(picked) < PER_GROUP:
            # One image per emoji (the first in data-set order), none already picked.
            seen = {data['emoji_id'][i] for i in picked}
            rest = []
            for i in training:
                if data['emoji_id'][i] not in seen:
                    seen.add(data['emoji_id'][i])
                    rest.append(i)
            picked += evenly(rest, PER_GROUP - len(picked))
        assert len({data['emoji_id'][i] for i in picked}) == len(picked), group
        chosen += picked
    return chosen


def main():
    if not os.path.exists(DATA):
        sys.exit(f'missing {DATA}: run /usr/bin/python3 training/emoji/build_data.py first')
    with np.load(DATA) as npz:
        data = {key: npz[key] for key in npz.files}
    images = data['images']
    assert images.shape[1:] == (SIZE, SIZE, 3), images.shape
    chosen = pick(data)

    rows = (len(chosen) + COLUMNS - 1) // COLUMNS
    sprite = np.full((rows * SIZE, COLUMNS * SIZE, 3), 255, dtype=np.uint8)
    entries = []
    for cell, index in enumerate(chosen):
        r, c = divmod(cell, COLUMNS)
        sprite[r * SIZE:(r + 1) * SIZE, c * SIZE:(c + 1) * SIZE] = images[index]
        entries.append({
            'dataset': 'emoji',
            'index': int(index),
            'labelName': str(data['label'][index]),
            'style': STYLES[str(data['style'][index])],
            'split': 'held-out' if data['held_out'][index] else 'training',
            'cell': cell,
        })

    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, SPRITE)
    Image.fromarray(sprite, mode='RGB').save(path, optimize=True)
    # The PNG must hold the data set's pixels exactly (PNG is lossless; this guards the layout).
    back = np.asarray(Image.open(path).convert('RGB'))
    for cell, index in enumerate(chosen):
        r, c = divmod(cell, COLUMNS)
        assert np.array_equal(back[r * SIZE:(r + 1) * SIZE, c * SIZE:(c + 1) * SIZE], images[index])

    merge({'emoji'}, [DATASET], entries)
    held = sum(e['split'] == 'held-out' for e in entries)
    print(f'wrote {len(entries)} emoji examples ({held} held out) to {OUT_DIR}')


if __name__ == '__main__':
    main()
