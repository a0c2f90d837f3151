"""Adds the theory measurements of issue 12 to a model's quality record (quality.json and the card):

  /usr/bin/python3 training/record_theory_quality.py --model mnist \\
      --nll NLL_OUTPUT.txt [--classifier-guidance EVAL.json --cg-scales 0,1,2,5 --cg-command "..."]

--nll: the output of `npm run nll -- --model ID --count 1000 --seed 0 --timesteps 50` (its last line
is one JSON object), stored under quality["nll"] with the command.
--classifier-guidance: evaluate_samples.py's --json summary of sample folders generated with
`npm run generate -- --guidance 0 --classifier-guidance S ...`, one folder per scale in
--cg-scales order, stored under quality["classifier_guidance"].
The card is re-serialised by evaluate_all.merge_into_card (only "quality" changes; refused when the
card's weights are not the measured ones).
"""

import argparse
import json
import os
import sys

TRAINING_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TRAINING_DIR)
sys.path.insert(0, TRAINING_DIR)
from evaluate_all import merge_into_card  # noqa: E402


def last_json_line(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip().startswith("{")]
    if not lines:
        raise SystemExit(f"{path}: no JSON line (did npm run nll finish?)")
    return json.loads(lines[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--models-dir", default=os.path.join(REPO_ROOT, "public", "models"))
    p.add_argument("--nll", default=None)
    p.add_argument("--nll-command", default=None)
    p.add_argument("--classifier-guidance", default=None)
    p.add_argument("--cg-scales", default="0,1,2,5")
    p.add_argument("--cg-command", default=None)
    args = p.parse_args(argv)

    model_dir = os.path.join(args.models_dir, args.model)
    quality_path = os.path.join(model_dir, "quality.json")
    with open(quality_path) as f:
        quality = json.load(f)

    if args.nll:
        nll = last_json_line(args.nll)
        if nll["weights_sha256"] != quality["weights_sha256"]:
            raise SystemExit(f"{args.nll} measured weights {nll['weights_sha256'][:16]}..., not these")
        nll["command"] = args.nll_command or (
            f"npm run nll -- --model {args.model} --count {nll['count']} --seed {nll['seed']} "
            f"--timesteps {nll['timesteps_used']['K']}")
        quality["nll"] = nll

    if args.classifier_guidance:
        with open(args.classifier_guidance) as f:
            summary = json.load(f)
        scales = [float(s) for s in args.cg_scales.split(",")]
        results = summary["results"]
        if len(results) != len(scales):
            raise SystemExit(f"{len(results)} sample folders for {len(scales)} scales")
        quality["classifier_guidance"] = {
            "what": "share of samples the evaluation classifier puts in the requested class, with "
            "classifier-free guidance 0 (the unconditional model) and classifier guidance s from "
            f"{args.model}'s noisy classifier",
            "command": args.cg_command,
            "classifier": summary["classifier"],
            "runs": [{"classifier_guidance": s, "images": r["n"], "accuracy": r["accuracy"], "fd": r["fd"],
                      "fd_real_same_n": r.get("fd_real_same_n")} for s, r in zip(scales, results)],
        }

    with open(quality_path, "w") as f:
        json.dump(quality, f, indent=2)
        f.write("\n")
    return 0 if merge_into_card(model_dir, quality) else 1


if __name__ == "__main__":
    sys.exit(main())
