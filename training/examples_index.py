"""Reads and writes public/examples/index.json, the index of the playground's example source images.

Shared by training/make_examples.py (MNIST, Fashion-MNIST: 28x28 grey, sprite.png) and
training/emoji/make_emoji_examples.py (emoji: 32x32 RGB, emoji-sprite.png). Each script owns some
data sets and keeps the others' entries as they are, so running either leaves the other's intact.
The file is written in the layout Prettier keeps (an object on one line when it fits in 100
characters, else one key per line), so `prettier --check` passes without reformatting.
"""
import json
import os

INDEX_PATH = os.path.join('public', 'examples', 'index.json')
FORMAT = 'diffusion-playground/examples@1'


def _dumps(value):
    return json.dumps(value, ensure_ascii=False)


def read_index(path=INDEX_PATH):
    """The current index, or None when there is none yet."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _object(d, indent):
    """One JSON object at `indent` spaces, one line if it fits Prettier's 100 columns."""
    one_line = '{ ' + ', '.join(f'{_dumps(k)}: {_dumps(v)}' for k, v in d.items()) + ' }'
    if indent + len(one_line) + 1 <= 100:
        return [' ' * indent + one_line]
    inner = ' ' * (indent + 2)
    keys = list(d.items())
    lines = [' ' * indent + '{']
    for i, (k, v) in enumerate(keys):
        line = f'{inner}{_dumps(k)}: {_dumps(v)}' + (',' if i < len(keys) - 1 else '')
        lines.append(line)
    lines.append(' ' * indent + '}')
    return lines


def _list(items, indent):
    out = []
    for i, item in enumerate(items):
        lines = _object(item, indent)
        if i < len(items) - 1:
            lines[-1] += ','
        out += lines
    return out


def write_index(top, datasets, examples, path=INDEX_PATH):
    """`top`: sprite, cellSize, columns of the default (grey) sprite."""
    lines = ['{',
             f'  "format": {_dumps(FORMAT)},',
             f'  "sprite": {json.dumps(top["sprite"])},',
             f'  "cellSize": {top["cellSize"]},',
             f'  "columns": {top["columns"]},',
             '  "datasets": [']
    lines += _list(datasets, 4)
    lines += ['  ],', '  "examples": [']
    lines += _list(examples, 4)
    lines += ['  ]', '}', '']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def merge(owned_ids, new_datasets, new_examples, top=None, path=INDEX_PATH):
    """Replaces the data sets `owned_ids` (and their examples) in the index, keeping the rest."""
    current = read_index(path) or {}
    if current and current.get('format') != FORMAT:
        raise SystemExit(f'{path}: unknown format {current.get("format")}')
    top = top or {k: current[k] for k in ('sprite', 'cellSize', 'columns')}
    order = [d['id'] for d in current.get('datasets', [])]
    kept_sets = [d for d in current.get('datasets', []) if d['id'] not in owned_ids]
    kept_examples = [e for e in current.get('examples', []) if e['dataset'] not in owned_ids]
    # Owned data sets take their old place in the list (new ones go to the end).
    all_sets = sorted(kept_sets + new_datasets,
                      key=lambda d: order.index(d['id']) if d['id'] in order else len(order))
    ids = [d['id'] for d in all_sets]
    examples = sorted(kept_examples + new_examples, key=lambda e: ids.index(e['dataset']))
    write_index(top, all_sets, examples, path)
