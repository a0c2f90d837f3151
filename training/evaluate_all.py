"""The quality protocol for a shipped model: generate with `npm run generate`, score with evaluate_samples.py,
record the numbers next to the weights they were measured on.

  /usr/bin/python3 training/evaluate_all.py --dataset mnist                 # the full protocol
  /usr/bin/python3 training/evaluate_all.py --dataset mnist --main-per-class 10 --per-class 5 \\
      --ddpm-per-class 1                                                    # a reduced run
  /usr/bin/python3 training/evaluate_all.py --dataset mnist --merge-only    # quality.json -> card.json

Runs (all DPM++ 2M unless said, seeds 0.. per run, every class):
  dpmpp2m-20-g2   20 steps, guidance 2, --main-per-class (50) images per class; also times single
                  model evaluations at batch 1 and 16 on the backend (wasm by default)
  dpmpp2m-20-g0   20 steps, guidance 0 (unconditional), --per-class (10)
  dpmpp2m-20-g1   20 steps, guidance 1 (conditional, no guidance), --per-class
  dpmpp2m-20-g4   20 steps, guidance 4, --per-class
  dpmpp2m-10-g2   10 steps, guidance 2, --per-class
  ddpm-1000-g2    DDPM, --ddpm-steps (1000) steps, guidance 2, --ddpm-per-class (10), --ddpm-batch (50)

Writes
  <work-dir>/<run>/            the samples (default training/checkpoints/eval-runs/<id>/, gitignored)
  <work-dir>/evaluation.json   evaluate_samples.py's full summary
  public/models/<id>/quality.json  the results, with the sha256 of the weights they belong to
and merges quality.json into public/models/<id>/card.json's "quality" field (only that field; the
card is re-serialised with training/export.py's own formatting, so every other byte stays). The merge
is refused when the card's weights are not the measured ones; after a re-export of the SAME weights,
`--merge-only` puts the numbers back (export.py also keeps them itself when the sha256 is unchanged).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time

import torch

TRAINING_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TRAINING_DIR)
sys.path.insert(0, TRAINING_DIR)
import data  # noqa: E402
import evaluate_samples as evaluate  # noqa: E402

QUALITY_FORMAT = "diffusion-playground/quality@1"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--model", default=None, help="model id under public/models (default: the dataset)")
    p.add_argument("--models-dir", default=os.path.join(REPO_ROOT, "public", "models"))
    p.add_argument("--main-per-class", type=int, default=50, help="images per class, main run")
    p.add_argument("--per-class", type=int, default=10, help="images per class, guidance/step sweeps")
    p.add_argument("--ddpm-per-class", type=int, default=None, help="images per class, DDPM run (default --per-class)")
    p.add_argument("--ddpm-steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=16, help="images per model call (x2 with guidance)")
    p.add_argument("--ddpm-batch", type=int, default=50)
    p.add_argument("--backend", choices=["wasm", "cpu"], default="wasm")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default=None, help="comma-separated run names (default: all)")
    p.add_argument("--work-dir", default=None)
    p.add_argument("--reuse", action="store_true", help="keep a run's samples if they match (same settings and weights)")
    p.add_argument("--no-card", action="store_true", help="write quality.json but leave card.json alone")
    p.add_argument("--merge-only", action="store_true", help="only merge an existing quality.json into card.json")
    p.add_argument("--classifier", default=None, help="default training/eval/eval-<dataset>.pt")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the classifier")
    args = p.parse_args(argv)
    args.model = args.model or args.dataset
    if args.ddpm_per_class is None:
        args.ddpm_per_class = args.per_class
    args.work_dir = args.work_dir or os.path.join(TRAINING_DIR, "checkpoints", "eval-runs", args.model)
    return args


def protocol_runs(args):
    def run(name, sampler, steps, guidance, per_class, batch, bench=False):
        return {"name": name, "sampler": sampler, "steps": steps, "guidance": guidance,
                "per_class": per_class, "batch": batch, "bench": bench}

    runs = [
        run("dpmpp2m-20-g2", "DPM++ 2M", 20, 2, args.main_per_class, args.batch, bench=True),
        run("dpmpp2m-20-g0", "DPM++ 2M", 20, 0, args.per_class, args.batch),
        run("dpmpp2m-20-g1", "DPM++ 2M", 20, 1, args.per_class, args.batch),
        run("dpmpp2m-20-g4", "DPM++ 2M", 20, 4, args.per_class, args.batch),
        run("dpmpp2m-10-g2", "DPM++ 2M", 10, 2, args.per_class, args.batch),
        run(f"ddpm-{args.ddpm_steps}-g2", "DDPM", args.ddpm_steps, 2, args.ddpm_per_class, args.ddpm_batch),
    ]
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in {r["name"] for r in runs}]
        if unknown:
            raise SystemExit(f"unknown run(s) {unknown}; runs: {[r['name'] for r in runs]}")
        runs = [r for r in runs if r["name"] in wanted]
    return runs


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_card(model_dir):
    with open(os.path.join(model_dir, "card.json")) as f:
        return json.load(f)


def weights_sha256(model_dir, card):
    """The sha256 of the weights file, which must be the one the card names."""
    sha = file_sha256(os.path.join(model_dir, card["weights"]["file"]))
    if sha != card["weights"]["sha256"]:
        raise SystemExit(f"{model_dir}: weights sha256 {sha} differs from the card's {card['weights']['sha256']} "
                         "(an export in progress?)")
    return sha


def generate_command(args, run, out_dir):
    cmd = ["npm", "run", "--silent", "generate", "--",
           "--model", os.path.join(args.models_dir, args.model), "--class", "all",
           "--count", str(run["per_class"]), "--sampler", run["sampler"], "--steps", str(run["steps"]),
           "--guidance", str(run["guidance"]), "--seed", str(args.seed), "--batch", str(run["batch"]),
           "--backend", args.backend, "--out", out_dir, "--overwrite"]
    if not run["bench"]:
        cmd.append("--no-bench")
    return cmd


def reusable(out_dir, run, args, sha):
    path = os.path.join(out_dir, "generate.json")
    if not os.path.isfile(path):
        return False
    with open(path) as f:
        record = json.load(f)
    s = record.get("settings", {})
    same = (s.get("sampler") == run["sampler"] and s.get("steps") == run["steps"]
            and s.get("guidance") == run["guidance"] and s.get("count") == run["per_class"]
            and s.get("seed") == args.seed and s.get("classes") == list(range(10))
            and record.get("model", {}).get("sha256") == sha
            and (record.get("bench") or not run["bench"]))
    return same and all(os.path.isfile(os.path.join(out_dir, im["file"])) for im in record.get("images", []))


def generate_run(args, run, sha):
    out_dir = os.path.join(args.work_dir, run["name"])
    if args.reuse and reusable(out_dir, run, args, sha):
        print(f"== {run['name']}: reusing {out_dir}", flush=True)
    else:
        cmd = generate_command(args, run, out_dir)
        print(f"== {run['name']}: {shlex.join(cmd)}", flush=True)
        subprocess.run(cmd, cwd=REPO_ROOT, check=True)
    with open(os.path.join(out_dir, "generate.json")) as f:
        record = json.load(f)
    if record["model"]["sha256"] != sha:
        raise SystemExit(f"{run['name']}: generated with weights {record['model']['sha256']}, "
                         f"expected {sha} (the model was re-exported during the evaluation; start again)")
    return out_dir, record


def cpu_description():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def build_quality(args, card, sha, runs, records, summary, started, wall, load):
    results = []
    for run, record, res in zip(runs, records, summary["results"]):
        results.append({
            "name": run["name"],
            "sampler": run["sampler"],
            "steps": run["steps"],
            "guidance": run["guidance"],
            "images": res["n"],
            "images_per_class": run["per_class"],
            "accuracy": res["accuracy"],
            "per_class_accuracy": [res["per_class"].get(str(c), {}).get("accuracy") for c in range(10)],
            "fd": res["fd"],
            "fd_real_same_n": res["fd_real_same_n"],
            "seconds": round(record["seconds"], 1),
            "images_per_second": round(record["imagesPerSecond"], 3),
        })
    timing = {"backend": None, "model_eval_ms": {}}
    for run, record in zip(runs, records):
        if run["bench"] and record.get("bench"):
            timing["backend"] = record["backend"]
            timing["model_eval_ms"] = {str(t["batch"]): round(t["medianMs"], 1) for t in record["bench"]}
            timing["method"] = "median of 9 single U-Net calls after 2 s of warm-up calls (scripts/lib/generate.ts)"
    timing["hardware"] = cpu_description()
    timing["load_average_1min"] = load
    full = (args.main_per_class >= 50 and args.per_class >= 10 and args.ddpm_per_class >= 10
            and args.ddpm_steps == 1000 and not args.only)
    command = ["/usr/bin/python3", "training/evaluate_all.py", "--dataset", args.dataset]
    if args.model != args.dataset:
        command += ["--model", args.model]
    for flag, value, default in [("--main-per-class", args.main_per_class, 50), ("--per-class", args.per_class, 10),
                                 ("--ddpm-per-class", args.ddpm_per_class, args.per_class),
                                 ("--ddpm-steps", args.ddpm_steps, 1000), ("--batch", args.batch, 16),
                                 ("--ddpm-batch", args.ddpm_batch, 50), ("--backend", args.backend, "wasm"),
                                 ("--seed", args.seed, 0)]:
        if value != default:
            command += [flag, str(value)]
    if args.only:
        command += ["--only", args.only]
    return {
        "format": QUALITY_FORMAT,
        "model_id": card["id"],
        "weights_sha256": sha,
        "training_steps": (card.get("training") or {}).get("steps"),
        "measured_at": started,
        "wall_seconds": round(wall, 1),
        "protocol": {
            "full": full,
            "command": shlex.join(command),
            "main_per_class": args.main_per_class,
            "per_class": args.per_class,
            "ddpm_per_class": args.ddpm_per_class,
            "ddpm_steps": args.ddpm_steps,
            "seed": args.seed,
            "accuracy": "share of samples the evaluation classifier puts in the requested class",
            "fd": "Frechet distance of the classifier's 128-d features, samples vs the 10k test images",
            "fd_real_same_n": "the same for as many real train images: the floor at that sample size",
        },
        "classifier": summary["classifier"],
        "reference": summary["reference"],
        "results": results,
        "timing": timing,
    }


def merge_into_card(model_dir, quality):
    """Sets card.json's "quality" to `quality` if the card's weights are the measured ones."""
    import export  # the exporter's own JSON layout, so nothing but "quality" changes

    card_path = os.path.join(model_dir, "card.json")
    with open(card_path) as f:
        old_text = f.read()
    card = json.loads(old_text)
    sha = weights_sha256(model_dir, card)
    if quality["weights_sha256"] != sha:
        print(f"NOT merged into {card_path}: the quality numbers are for weights {quality['weights_sha256'][:16]}..., "
              f"the card's are {sha[:16]}... (re-run the evaluation for these weights)")
        return False
    card["quality"] = quality
    tmp = card_path + ".tmp"
    export.write_json(tmp, card)
    with open(tmp) as f:
        new_text = f.read()
    cut_old, cut_new = old_text.rfind('"quality":'), new_text.rfind('"quality":')
    if cut_old < 0 or old_text[:cut_old] != new_text[:cut_new]:
        os.remove(tmp)
        raise SystemExit(f"{card_path}: re-serialising would change more than \"quality\" (hand-edited card?); "
                         "not merged")
    os.replace(tmp, card_path)
    print(f"merged quality into {card_path}")
    return True


def print_quality(q):
    t = q["timing"]
    print(f"\nquality of {q['model_id']} (weights sha256 {q['weights_sha256']}, {q['training_steps']} training steps), "
          f"{'full' if q['protocol']['full'] else 'REDUCED'} protocol")
    print(f"classifier {q['classifier']['path']} (test accuracy {q['classifier']['test_accuracy']}); "
          f"FD(10k real train, real test) = {q['reference']['fd_train10k_test']}")
    head = f"{'run':16s} {'images':>6s} {'accuracy':>8s} {'FD':>9s} {'FD real n':>9s} {'s':>7s} {'img/s':>6s}"
    print(head)
    print("-" * len(head))
    for r in q["results"]:
        print(f"{r['name']:16s} {r['images']:6d} {r['accuracy']:8.4f} {r['fd']:9.3f} {r['fd_real_same_n']:9.3f} "
              f"{r['seconds']:7.1f} {r['images_per_second']:6.2f}")
    if t.get("model_eval_ms"):
        evals = ", ".join(f"batch {b}: {ms} ms" for b, ms in t["model_eval_ms"].items())
        print(f"one model evaluation on {t['backend']} ({t['hardware']}, load {t['load_average_1min']}): {evals}")


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    model_dir = os.path.join(args.models_dir, args.model)
    quality_path = os.path.join(model_dir, "quality.json")
    if args.merge_only:
        with open(quality_path) as f:
            quality = json.load(f)
        return 0 if merge_into_card(model_dir, quality) else 1

    runs = protocol_runs(args)
    card = read_card(model_dir)
    sha = weights_sha256(model_dir, card)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    t0 = time.time()
    print(f"evaluating {model_dir} (weights sha256 {sha}); samples in {args.work_dir}", flush=True)
    os.makedirs(args.work_dir, exist_ok=True)
    dirs, records = [], []
    for run in runs:
        out_dir, record = generate_run(args, run, sha)
        dirs.append(out_dir)
        records.append(record)
    load = round(os.getloadavg()[0], 2)
    summary = evaluate.evaluate(args.dataset, dirs, args.classifier)
    evaluate.print_table(summary)
    with open(os.path.join(args.work_dir, "evaluation.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    # The weights must still be the ones generated with before anything is recorded for them.
    if weights_sha256(model_dir, read_card(model_dir)) != sha:
        raise SystemExit("the model was re-exported during the evaluation; nothing recorded")
    quality = build_quality(args, card, sha, runs, records, summary, started, time.time() - t0, load)
    with open(quality_path, "w") as f:
        json.dump(quality, f, indent=2)
        f.write("\n")
    print(f"wrote {quality_path}")
    print_quality(quality)
    if not args.no_card:
        merge_into_card(model_dir, quality)
    return 0


if __name__ == "__main__":
    sys.exit(main())
