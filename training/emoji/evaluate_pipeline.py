"""Measures the emoji text-to-image pipeline: prompt fidelity (by the judge), diversity, copying.

  /usr/bin/python3 training/emoji/evaluate_pipeline.py --make-prompts        # (re)writes eval_prompts.json
  nice /usr/bin/python3 training/emoji/evaluate_pipeline.py --threads 1 --count 8   # shipped pipeline -> card
  /usr/bin/python3 training/emoji/evaluate_pipeline.py --checkpoint training/checkpoints/emoji-latent \
      --limit 6 --count 4 --no-card                                          # a training checkpoint, quick

Prompts (eval_prompts.json, made by rule, not picked): every 32nd of the 1,581 emoji sorted by emoji_id
(hexcode), prompted by its CLDR name (50 prompts across all groups), plus tag-style prompts whose
"acceptable" emoji are every emoji whose name and tags contain all the prompt's words.

For each prompt, --count images (DDIM --steps, guidance --guidance, seed --seed + prompt index) are:
- judged (training/emoji/judge/, trained on the real training images only): identity top-1 / top-5
  (the prompt's emoji among the judge's 1 / 5 most likely of 1,581), subgroup top-1 (of 93);
  for tag prompts, top-1 counts when the judge's first choice is any acceptable emoji;
- compared with each other (diversity): mean pairwise RMS pixel distance (pixels in [0, 1]);
  distinct outputs = greedy clusters at a threshold tau (a sample is new when it is farther than tau
  from every sample already kept), tau = the median RMS distance between a real training image and
  its own VAE round trip (two samples closer than that are the same picture up to decoder error);
  distinct judge top-1 answers;
- compared with the training images (copying): RMS distance to the nearest of the 6,737 training
  images, against the same for the held-out real images and their VAE round trips; share of samples
  nearer to a training image than tau; share whose nearest training image is the prompted emoji.

Results go to public/models/emoji/card.json under "evaluation" only (the card is re-read right
before writing; other keys are untouched), to --out JSON, a markdown table on stdout, and a contact
sheet (docs/emoji-samples.png: 8 prompts x 8 samples).
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
import latent_data  # noqa: E402
from judge import Judge  # noqa: E402
from pipeline_io import PIPELINE_DIR  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS_PATH = os.path.join(HERE, "eval_prompts.json")
SHEET_PATH = os.path.join(common.REPO_ROOT, "docs", "emoji-samples.png")
EVAL_DIR = os.path.join(common.REPO_ROOT, "training", "checkpoints", "emoji-eval")
EVERY = 32
TAG_PROMPTS = ["happy face", "sad face", "red fruit", "animal face", "vehicle", "cat"]


def words(text):
    return set(w for w in re.split(r"[^a-z0-9]+", str(text).lower()) if w)


def make_prompts(table):
    """The prompt list, by rule: every EVERY-th emoji by sorted emoji_id, and the tag prompts' acceptable sets."""
    info = {}
    for e, lab, tags, sg, grp in zip(table["emoji_id"], table["label"], table["tags"], table["subgroup"], table["group"]):
        info.setdefault(str(e), (str(lab), str(tags), str(sg), str(grp)))
    ids = sorted(info)
    named = [{"prompt": info[e][0], "emoji_id": e, "subgroup": info[e][2], "group": info[e][3]} for e in ids[::EVERY]]
    tagged = []
    for p in TAG_PROMPTS:
        ws = words(p)
        ok = [e for e in ids if ws <= words(info[e][0]) | words(info[e][1].replace("|", " "))]
        tagged.append({"prompt": p, "acceptable_ids": ok, "acceptable_labels": [info[e][0] for e in ok]})
    return {
        "rule": f"named: every {EVERY}-th of the {len(ids)} emoji sorted by emoji_id (hexcode), starting at the first, "
                "prompted by its CLDR name; tag: prompts whose acceptable emoji are all emoji whose name and tags "
                "contain every word of the prompt",
        "named": named, "tag": tagged,
    }


def rms(a, b):
    """RMS distance, pixels in [0, 1], between every row of a [n, D] and b [m, D] (inputs in [-1, 1])."""
    a, b = a.flatten(1).double() / 2, b.flatten(1).double() / 2
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return (d2.clamp_min(0) / a.shape[1]).sqrt().float()


def nearest(x, train, chunk=512):
    """(distance, index) of the nearest training image of each row of x."""
    best_d, best_i = [], []
    for i in range(0, x.shape[0], chunk):
        d = rms(x[i : i + chunk], train)
        v, j = d.min(1)
        best_d.append(v)
        best_i.append(j)
    return torch.cat(best_d), torch.cat(best_i)


def distinct(x, tau):
    kept = []
    for i in range(x.shape[0]):
        if all(rms(x[i : i + 1], x[j : j + 1]).item() > tau for j in kept):
            kept.append(i)
    return len(kept)


@torch.no_grad()
def vae_round_trip(vae, images):
    out = []
    for i in range(0, images.shape[0], 128):
        mean, _ = vae.encode(images[i : i + 128])
        out.append(vae.decode(mean).clamp(-1, 1))
    return torch.cat(out)


def stats(v):
    v = np.asarray(v, dtype=np.float64)
    return {"mean": round(float(v.mean()), 4), "median": round(float(np.median(v)), 4),
            "p10": round(float(np.percentile(v, 10)), 4), "min": round(float(v.min()), 4)}


def sha256(path):
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def update_card(card_path, key, value, expect_unet_sha=None):
    """Re-reads the card right before writing and replaces only card[key] (export_pipeline.py rewrites the rest)."""
    with open(card_path, encoding="utf-8") as f:
        card = json.load(f)
    if expect_unet_sha is not None:
        now = card.get("components", {}).get("unet", {}).get("weights", {}).get("sha256")
        if now != expect_unet_sha:
            raise SystemExit(f"{card_path}: the U-Net changed during the run (sha256 {now} != {expect_unet_sha}); "
                             "not written, re-run the evaluation")
    card[key] = value
    tmp = card_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(card, f, indent=1)
        f.write("\n")
    os.replace(tmp, card_path)


def save_sheet(rows, labels, path, scale=3):
    """rows: list of [n, 3, 32, 32] tensors; one row per prompt with its text on the left."""
    from PIL import Image, ImageDraw

    cols = max(r.shape[0] for r in rows)
    label_w = 150
    cell = 32 * scale
    sheet = Image.new("RGB", (label_w + cols * cell, len(rows) * cell), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (imgs, text) in enumerate(zip(rows, labels)):
        arr = imgs.add(1).mul(127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        for c, a in enumerate(arr):
            sheet.paste(Image.fromarray(a).resize((cell, cell), Image.NEAREST), (label_w + c * cell, r * cell))
        line, out = "", []
        for w in text.split():
            if len(line) + len(w) + 1 > 22:
                out.append(line)
                line = w
            else:
                line = (line + " " + w).strip()
        out.append(line)
        draw.multiline_text((4, r * cell + 4), "\n".join(out[:5]), fill="black")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sheet.save(path)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--make-prompts", action="store_true", help="write eval_prompts.json by the rule and exit")
    p.add_argument("--checkpoint", default=None, help="evaluate a training checkpoint (file or folder) instead of the shipped pipeline")
    p.add_argument("--pipeline-dir", default=PIPELINE_DIR)
    p.add_argument("--prompts", default=PROMPTS_PATH)
    p.add_argument("--limit", type=int, default=None, help="only the first N named prompts and N tag prompts (debugging)")
    p.add_argument("--count", type=int, default=8, help="images per prompt")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--judge-dir", default=None, help="default training/emoji/judge/")
    p.add_argument("--no-card", action="store_true", help="do not write the card's 'evaluation'")
    p.add_argument("--sheet", default=SHEET_PATH, help="contact sheet path ('' for none)")
    p.add_argument("--out", default=None, help="results JSON (default training/checkpoints/emoji-eval/<time>.json)")
    p.add_argument("--data-dir", default=common.DATA_DIR)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    table = latent_data.load_table(args.data_dir)
    if args.make_prompts:
        with open(args.prompts, "w", encoding="utf-8") as f:
            json.dump(make_prompts(table), f, indent=1)
            f.write("\n")
        print(f"wrote {args.prompts}")
        return
    t_start = time.time()
    with open(args.prompts, encoding="utf-8") as f:
        plist = json.load(f)
    named, tagged = plist["named"], plist["tag"]
    if args.limit is not None:
        named, tagged = named[:: max(1, len(named) // args.limit)][: args.limit], tagged[: args.limit]

    from sample_latent import Pipeline

    card_path = os.path.join(args.pipeline_dir, "card.json")
    unet_sha = None
    if args.checkpoint:
        path = common.latest_checkpoint(args.checkpoint) if os.path.isdir(args.checkpoint) else args.checkpoint
        source = {"kind": "checkpoint", "path": os.path.relpath(path, common.REPO_ROOT),
                  "step": int(common.load_checkpoint(path)["step"])}
        pipe = Pipeline.load(path)
    else:
        with open(card_path, encoding="utf-8") as f:
            card = json.load(f)
        unet_sha = sha256(os.path.join(args.pipeline_dir, "unet", "diffusion_pytorch_model.safetensors"))
        if unet_sha != card["components"]["unet"]["weights"]["sha256"]:
            raise SystemExit("the shipped U-Net does not match its card (an export is being written?); try again")
        source = {"kind": "shipped pipeline", "path": os.path.relpath(args.pipeline_dir, common.REPO_ROOT),
                  "training_steps": card.get("training", {}).get("steps"), "unet_sha256": unet_sha,
                  "exported_at": card.get("exported_at"),
                  "held_out_v_mse": card.get("quality", {}).get("held_out_v_mse")}
        pipe = Pipeline.load(args.pipeline_dir)
    judge = Judge.load(args.judge_dir) if args.judge_dir else Judge.load()
    vae = pipe.vae

    held = table["held_out"]
    train_x = common.load_images("train", args.data_dir)
    train_ids = table["emoji_id"][~held]
    held_x = common.load_images("held_out", args.data_dir)
    # tau: the decoder's own error on real training pictures (200, fixed sample)
    ref_idx = torch.randperm(train_x.shape[0], generator=torch.Generator().manual_seed(3))[:200]
    ref = train_x[ref_idx]
    ref_rt = vae_round_trip(vae, ref)
    rt_err = torch.stack([rms(ref[i : i + 1], ref_rt[i : i + 1])[0, 0] for i in range(ref.shape[0])])
    tau = float(rt_err.median())

    rows, all_rows = [], {}
    gen_all, gen_prompt_ids = [], []
    t_gen = 0.0
    for pi, item in enumerate(named + tagged):
        t0 = time.time()
        imgs = pipe([item["prompt"]] * args.count, args.steps, args.guidance, args.seed + pi)
        t_gen += time.time() - t0
        all_rows[item["prompt"]] = imgs
        pred = judge.predict(imgs)
        top = pred["id_topk"]
        if "emoji_id" in item:
            target = judge.id_index[item["emoji_id"]]
            top1 = (top[:, 0] == target).float().mean().item()
            top5 = (top == target).any(1).float().mean().item()
            sub = (pred["subgroup_top1"] == judge.subgroup_index[item["subgroup"]]).float().mean().item()
        else:
            ok = torch.tensor([judge.id_index[e] for e in item["acceptable_ids"]])
            top1 = torch.isin(top[:, 0], ok).float().mean().item()
            top5 = torch.isin(top, ok).any(1).float().mean().item()
            sub = None
        pair = rms(imgs, imgs)
        iu = torch.triu_indices(args.count, args.count, 1)
        nd, ni = nearest(imgs, train_x)
        row = {
            "prompt": item["prompt"], "kind": "named" if "emoji_id" in item else "tag",
            "target": item.get("emoji_id") or f"{len(item['acceptable_ids'])} acceptable emoji",
            "id_top1": round(top1, 4), "id_top5": round(top5, 4),
            "subgroup_top1": None if sub is None else round(sub, 4),
            "judge_top1": [judge.card["labels"][judge.id_names[int(j)]] for j in top[:, 0]],
            "mean_pairwise_rms": round(float(pair[iu[0], iu[1]].mean()), 4) if args.count > 1 else None,
            "distinct_outputs": distinct(imgs, tau),
            "distinct_judge_answers": len(set(top[:, 0].tolist())),
            "nearest_train_rms": [round(float(v), 4) for v in nd],
            "nearest_is_prompted_emoji": None if "emoji_id" not in item else
            round(float(np.mean([train_ids[int(j)] == item["emoji_id"] for j in ni])), 4),
        }
        rows.append(row)
        gen_all.append(imgs)
        print(f"[{pi + 1}/{len(named) + len(tagged)}] {row['prompt']!r}: top1 {top1:.2f} top5 {top5:.2f} "
              f"distinct {row['distinct_outputs']}/{args.count} judge says {row['judge_top1'][:3]} "
              f"({time.time() - t0:.0f} s)", flush=True)

    gen = torch.cat(gen_all)
    nn_gen, _ = nearest(gen, train_x)
    nn_held, _ = nearest(held_x, train_x)
    nn_held_rt, _ = nearest(vae_round_trip(vae, held_x), train_x)
    named_rows = [r for r in rows if r["kind"] == "named"]
    tag_rows = [r for r in rows if r["kind"] == "tag"]
    mean = lambda rs, k: round(float(np.mean([r[k] for r in rs])), 4) if rs else None  # noqa: E731

    # ceiling: the judge on the VAE round trips of the real training images of the named prompts' emoji
    want = {r["target"] for r in named_rows}
    keep = np.array([e in want for e in train_ids])
    ceil_x = vae_round_trip(vae, train_x[torch.from_numpy(keep)])
    ceil_pred = judge.predict(ceil_x)
    ceil_t = torch.tensor([judge.id_index[e] for e in train_ids[keep]])
    ceiling = {"images": int(keep.sum()),
               "id_top1": round(float((ceil_pred["id_topk"][:, 0] == ceil_t).float().mean()), 4),
               "id_top5": round(float((ceil_pred["id_topk"] == ceil_t[:, None]).any(1).float().mean()), 4)}

    result = {
        "protocol": {
            "script": "training/emoji/evaluate_pipeline.py",
            "command": "nice /usr/bin/python3 training/emoji/evaluate_pipeline.py " + " ".join(sys.argv[1:]),
            "prompts": os.path.relpath(args.prompts, common.REPO_ROOT), "prompt_rule": plist["rule"],
            "named_prompts": len(named_rows), "tag_prompts": len(tag_rows), "images_per_prompt": args.count,
            "sampler": f"DDIM (eta 0, trailing), {args.steps} steps, guidance {args.guidance}, empty negative prompt",
            "seeds": f"{args.seed} + prompt index (one batch of {args.count} per prompt)",
            "judge": {"path": "training/emoji/judge/", "held_out_top1": judge.card["quality"]["held_out"]["id_top1"],
                      "held_out_top5": judge.card["quality"]["held_out"]["id_top5"],
                      "sha256": judge.card["weights"]["sha256"]},
            "distinct_threshold_rms": round(tau, 4),
            "distinct_threshold_definition": "median RMS distance (pixels in [0, 1]) between 200 real training images "
                                             "and their VAE round trips",
        },
        "source": source,
        "named": {
            "id_top1": mean(named_rows, "id_top1"), "id_top5": mean(named_rows, "id_top5"),
            "subgroup_top1": mean(named_rows, "subgroup_top1"),
            "prompts_with_majority_top1": sum(r["id_top1"] > 0.5 for r in named_rows),
            "judge_ceiling_on_vae_round_trips_of_these_emoji": ceiling,
        },
        "tag": {"id_top1_any_acceptable": mean(tag_rows, "id_top1"), "id_top5_any_acceptable": mean(tag_rows, "id_top5")},
        "diversity": {
            "mean_pairwise_rms": mean(rows, "mean_pairwise_rms"),
            "distinct_outputs_per_prompt": mean(rows, "distinct_outputs"),
            "distinct_judge_answers_per_prompt": mean(rows, "distinct_judge_answers"),
            "out_of": args.count,
        },
        "copying": {
            "generated_nearest_train_rms": stats(nn_gen.numpy()),
            "held_out_real_nearest_train_rms": stats(nn_held.numpy()),
            "held_out_vae_round_trip_nearest_train_rms": stats(nn_held_rt.numpy()),
            "generated_share_nearer_than_tau": round(float((nn_gen < tau).float().mean()), 4),
            "held_out_real_share_nearer_than_tau": round(float((nn_held < tau).float().mean()), 4),
            "generated_nearest_is_prompted_emoji": mean(named_rows, "nearest_is_prompted_emoji"),
            "definition": "RMS pixel distance (pixels in [0, 1]) to the nearest of the 6,737 training images. Held-out "
                          "real images are other-style drawings of emoji in training: their distance is what 'a "
                          "new picture of a known emoji' looks like; a generated sample nearer than tau is a copy up "
                          "to decoder error",
        },
        "per_prompt": [{k: v for k, v in r.items() if k != "nearest_train_rms"} | {
            "nearest_train_rms_median": round(float(np.median(r["nearest_train_rms"])), 4)} for r in rows],
        "seconds": {"generation": round(t_gen, 1), "total": round(time.time() - t_start, 1),
                    "hardware": common.hardware_description(torch.device("cpu"))},
        "measured_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
    }

    # markdown
    print("\n| prompt | target | id top-1 | id top-5 | subgroup top-1 | distinct | judge answers | nearest-train RMS (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in result["per_prompt"]:
        print(f"| {r['prompt']} | {r['target']} | {r['id_top1']:.2f} | {r['id_top5']:.2f} | "
              f"{'-' if r['subgroup_top1'] is None else format(r['subgroup_top1'], '.2f')} | "
              f"{r['distinct_outputs']}/{args.count} | {r['distinct_judge_answers']} | {r['nearest_train_rms_median']:.3f} |")
    n, t, d, c = result["named"], result["tag"], result["diversity"], result["copying"]
    print(f"\n| measure | value |\n|---|---|\n"
          f"| named prompts: identity top-1 / top-5 | {n['id_top1']:.3f} / {n['id_top5']:.3f} |\n"
          f"| named prompts: subgroup top-1 | {n['subgroup_top1']:.3f} |\n"
          f"| judge ceiling (VAE round trips of the real pictures of these emoji) top-1 / top-5 | "
          f"{ceiling['id_top1']:.3f} / {ceiling['id_top5']:.3f} |\n"
          f"| tag prompts: top-1 / top-5 any acceptable | {t['id_top1_any_acceptable']} / {t['id_top5_any_acceptable']} |\n"
          f"| mean pairwise RMS within a prompt | {d['mean_pairwise_rms']} |\n"
          f"| distinct outputs per prompt (tau {tau:.3f}) | {d['distinct_outputs_per_prompt']} / {args.count} |\n"
          f"| distinct judge answers per prompt | {d['distinct_judge_answers_per_prompt']} / {args.count} |\n"
          f"| nearest-train RMS, generated (median) | {c['generated_nearest_train_rms']['median']} |\n"
          f"| nearest-train RMS, held-out real / its VAE round trip (median) | "
          f"{c['held_out_real_nearest_train_rms']['median']} / {c['held_out_vae_round_trip_nearest_train_rms']['median']} |\n"
          f"| generated nearer than tau to a training image | {c['generated_share_nearer_than_tau']} |\n"
          f"| generated whose nearest training image is the prompted emoji | {c['generated_nearest_is_prompted_emoji']} |")

    if args.sheet:
        pick = named_rows[:: max(1, len(named_rows) // 6)][:6] + tag_rows[:2]
        save_sheet([all_rows[r["prompt"]][:8] for r in pick], [r["prompt"] for r in pick], args.sheet)
        result["protocol"]["contact_sheet"] = os.path.relpath(args.sheet, common.REPO_ROOT)
        print(f"wrote {args.sheet}")
    out = args.out or os.path.join(EVAL_DIR, time.strftime("%Y%m%d-%H%M%S") + ".json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {out}")
    if not args.no_card and not args.checkpoint:
        update_card(card_path, "evaluation", result, expect_unet_sha=unet_sha)
        print(f"wrote {card_path} 'evaluation'")


if __name__ == "__main__":
    main()
