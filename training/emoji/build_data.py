"""Builds the emoji data set from node_modules, deterministically.

  /usr/bin/python3 training/emoji/build_data.py            # -> training/data/emoji/

Sources (npm dev dependencies, nothing is downloaded):
  emoji-datasource-twitter@16  Twemoji 64x64 PNGs + emoji.json index      CC-BY 4.0, Twitter/X and contributors
  emoji-datasource-google@16   Noto Emoji 64x64 PNGs (same index)          Apache-2.0, Google
  emojibase-data@17            en/data.json: CLDR labels, tags, group/subgroup; joined by hexcode with
                               FE0F ignored                                  MIT

Every picture is alpha-composited on white at 64x64 (kept: a later super-resolution stage needs it)
and shrunk to 32x32 by 2x2 area averaging (PIL's BOX filter, exact for a factor of 2) of the
un-rounded composite. Skin-tone variants are images of their base emoji, captioned with the tone.

Left out (EXCLUDED_* below): the whole `flags` group (country, subdivision and other flags), the
`component` group (the five bare skin-tone swatches), the `keycap` and `alphanum` subgroups
(keycaps, squared/circled letters and words, CJK ideograph squares) and the three letter-like
symbols in `other-symbol`: (c) U+00A9, (R) U+00AE, TM U+2122.

Split: every emoji keeps at least one style in training (people will ask for any name); for a
HELD_OUT_FRACTION of base emoji, chosen by a hash of the emoji id (stable when emoji are added),
one of the two styles, all of its skin tones, is held out to measure the autoencoder.

Writes (training/data/ is gitignored):
  emoji32.npz     images uint8 [N, 32, 32, 3] and per-image metadata arrays (see ARRAYS)
  emoji64.npz     images uint8 [N, 64, 64, 3], same order
  manifest.json   counts, exclusions, sources, sha256 of both files
The .npz files are byte-identical on every run (fixed zip timestamps, sorted inputs).
"""

import argparse
import hashlib
import io
import json
import os
import zipfile

import numpy as np
from PIL import Image

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_MODULES = os.path.join(REPO_ROOT, "node_modules")
DEFAULT_OUT = os.path.join(REPO_ROOT, "training", "data", "emoji")
STYLES = ("twitter", "google")
EXCLUDED_GROUPS = ("flags", "component")
EXCLUDED_SUBGROUPS = ("keycap", "alphanum")
EXCLUDED_HEXCODES = ("00A9", "00AE", "2122")  # copyright, registered, trade mark: letter-like
HELD_OUT_FRACTION = 0.05
SPLIT_SEED = "emoji-split-v1"
# One entry per image; strings are numpy unicode arrays so np.load needs no pickle.
ARRAYS = ("caption", "label", "emoji_id", "hexcode", "style", "group", "subgroup", "tags", "tone", "held_out")


def strip_fe0f(hexcode):
    return "-".join(part for part in hexcode.upper().split("-") if part != "FE0F")


def read_json(*parts):
    with open(os.path.join(NODE_MODULES, *parts), encoding="utf-8") as f:
        return json.load(f)


def emojibase_index():
    """Normalised hexcode -> (entry, base entry) for every emoji and skin-tone variant."""
    index = {}
    for entry in read_json("emojibase-data", "en", "data.json"):
        index[strip_fe0f(entry["hexcode"])] = (entry, entry)
        for skin in entry.get("skins", []):
            index[strip_fe0f(skin["hexcode"])] = (skin, entry)
    return index


def group_names():
    meta = read_json("emojibase-data", "meta", "groups.json")
    messages = read_json("emojibase-data", "en", "messages.json")
    group_msg = {g["key"]: g["message"] for g in messages["groups"]}
    subgroup_msg = {g["key"]: g["message"] for g in messages["subgroups"]}
    groups = {int(k): (v, group_msg.get(v, v)) for k, v in meta["groups"].items()}
    subgroups = {int(k): (v, subgroup_msg.get(v, v)) for k, v in meta["subgroups"].items()}
    return groups, subgroups


def is_held_out(emoji_id):
    """(held out?, which style) from a hash of the id: deterministic and independent of the others."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{emoji_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return fraction < HELD_OUT_FRACTION, STYLES[digest[8] % 2]


def composite_on_white(path):
    """64x64 RGBA PNG -> float64 RGB in [0, 255] over a white background (straight alpha)."""
    with Image.open(path) as im:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64)
    if rgba.shape != (64, 64, 4):
        raise SystemExit(f"{path}: expected 64x64, got {rgba.shape[1]}x{rgba.shape[0]}")
    alpha = rgba[..., 3:] / 255.0
    return rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)


def to_uint8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def area_downsample_2x(rgb):
    h, w, c = rgb.shape
    return rgb.reshape(h // 2, 2, w // 2, 2, c).mean(axis=(1, 3))


def collect_records():
    """One record per (emoji variant, style), in emoji-datasource sort order, tones after the base."""
    index = emojibase_index()
    groups, subgroups = group_names()
    sources = {style: read_json(f"emoji-datasource-{style}", "emoji.json") for style in STYLES}
    by_unified = {style: {e["unified"]: e for e in entries} for style, entries in sources.items()}
    records, excluded = [], []
    for base in sorted(sources["twitter"], key=lambda e: e["sort_order"]):
        base_hex = strip_fe0f(base["unified"])
        entry, _ = index[base_hex]
        group_key, group_msg = groups[entry["group"]]
        subgroup_key, subgroup_msg = subgroups[entry["subgroup"]]
        if group_key in EXCLUDED_GROUPS or subgroup_key in EXCLUDED_SUBGROUPS or base_hex in EXCLUDED_HEXCODES:
            excluded.append({"hexcode": base_hex, "label": entry["label"], "group": group_key, "subgroup": subgroup_key})
            continue
        held, held_style = is_held_out(base_hex)
        variants = [(base["unified"], base["image"])]
        for key in sorted(base.get("skin_variations", {})):
            variants.append((base["skin_variations"][key]["unified"], base["skin_variations"][key]["image"]))
        for unified, image in variants:
            variant, _ = index[strip_fe0f(unified)]
            tone = variant.get("tone", 0)
            tone = "-".join(str(t) for t in tone) if isinstance(tone, list) else str(tone)
            for style in STYLES:
                other = by_unified[style].get(base["unified"])
                if other is None or not other.get(f"has_img_{style}", False):
                    raise SystemExit(f"{base_hex} has no {style} image")
                records.append({
                    "path": os.path.join(NODE_MODULES, f"emoji-datasource-{style}", "img", style, "64", image),
                    "caption": variant["label"],
                    "label": entry["label"],
                    "emoji_id": base_hex,
                    "hexcode": strip_fe0f(unified),
                    "style": style,
                    "group": group_msg,
                    "subgroup": subgroup_key,
                    "tags": "|".join(entry.get("tags", [])),
                    "tone": tone,
                    "held_out": held and style == held_style,
                })
    return records, excluded


def write_npz(path, arrays):
    """np.savez_compressed with fixed timestamps and order, so the bytes depend only on the data."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_version(name):
    return read_json(name, "package.json")["version"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out-dir", default=DEFAULT_OUT)
    args = p.parse_args(argv)
    records, excluded = collect_records()
    images64 = np.empty((len(records), 64, 64, 3), np.uint8)
    images32 = np.empty((len(records), 32, 32, 3), np.uint8)
    for i, rec in enumerate(records):
        rgb = composite_on_white(rec["path"])
        images64[i] = to_uint8(rgb)
        images32[i] = to_uint8(area_downsample_2x(rgb))
    meta = {name: np.array([rec[name] for rec in records]) for name in ARRAYS}
    os.makedirs(args.out_dir, exist_ok=True)
    path32, path64 = os.path.join(args.out_dir, "emoji32.npz"), os.path.join(args.out_dir, "emoji64.npz")
    write_npz(path32, dict(meta, images=images32))
    write_npz(path64, {"images": images64, "hexcode": meta["hexcode"], "style": meta["style"]})

    held = meta["held_out"]
    ids = meta["emoji_id"]
    counts = {
        "images": len(records),
        "images_per_style": {s: int((meta["style"] == s).sum()) for s in STYLES},
        "base_emoji": int(len(set(ids))),
        "subgroups": int(len(set(meta["subgroup"]))),
        "excluded_base_emoji": len(excluded),
        "train_images": int((~held).sum()),
        "held_out_images": int(held.sum()),
        "held_out_base_emoji": int(len(set(ids[held]))),
        "base_emoji_in_training": int(len(set(ids[~held]))),
    }
    if counts["base_emoji_in_training"] != counts["base_emoji"]:
        raise SystemExit("split bug: an emoji has no image left in training")
    manifest = {
        "counts": counts,
        "excluded": {
            "groups": list(EXCLUDED_GROUPS),
            "subgroups": list(EXCLUDED_SUBGROUPS),
            "hexcodes": list(EXCLUDED_HEXCODES),
            "emoji": excluded,
        },
        "split": {"held_out_fraction_of_base_emoji": HELD_OUT_FRACTION, "seed": SPLIT_SEED,
                  "rule": "sha256(seed:emoji_id) < fraction; the held-out style is picked by the next hash byte"},
        "processing": "RGBA composited on white at 64x64 (straight alpha, float), 32x32 by 2x2 area average, rounded",
        "sources": {name: package_version(name) for name in
                    ("emoji-datasource-twitter", "emoji-datasource-google", "emojibase-data")},
        "files": {"emoji32.npz": sha256_file(path32), "emoji64.npz": sha256_file(path64)},
    }
    with open(os.path.join(args.out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(counts, indent=1))
    print("excluded by group/subgroup:", {k: sum(1 for e in excluded if e["subgroup"] == k or e["group"] == k)
                                          for k in EXCLUDED_GROUPS + EXCLUDED_SUBGROUPS})
    print("wrote", path32, path64, "sha256", manifest["files"])


if __name__ == "__main__":
    main()
