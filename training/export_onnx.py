"""Exports a shipped U-Net (public/models/<id>/) to ONNX, for the onnxruntime-web peer benchmark.

  /usr/bin/python3 training/export_onnx.py                       # mnist -> bench/models/mnist-unet.onnx
  /usr/bin/python3 training/export_onnx.py --model-dir public/models/fashion-mnist --out /tmp/f.onnx

Reads the card and the float16 weights.bin exactly as training/sample.py does (so the ONNX graph
holds the shipped weights, upcast to float32: both engines then compute with identical numbers)
and writes
  <out>                 the graph: inputs x [N, 1, 28, 28] float32 (NCHW), timestep [N] float32,
                        class [N] int64; output eps [N, 1, 28, 28] float32; N is dynamic
  <out>.json            where it came from: the card's weights sha256 (checked against weights.bin
                        here), torch version, opset, and the PyTorch output on the parity inputs
                        of tests/fixtures/parity-<id>.json when that file exists, so a reader of the
                        ONNX file can check it without this script.
  <out dir>/conv-c64.onnx, conv-c128.onnx
                        one 3x3 conv (C -> C, pad 1, bias; seeded random weights), N, H, W dynamic:
                        the benchmark's "best-shaped conv" on ORT's side of the conv roofline.

The sinusoidal timestep features stay inside the graph, in float64 like training/unet.py (the
exponent table is folded into a float64 constant; Mul, Cos, Sin run in double, then one Cast to
float32), so ORT sees the same features as PyTorch and as our TypeScript port.
The `onnx` Python package is not needed: torch 1.13 serialises the graph itself.
"""

import argparse
import hashlib
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sample import load_exported  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSET = 17
CONV_CHANNELS = (64, 128)


class NchwUNet(torch.nn.Module):
    """The U-Net with the benchmark's input names and types (class ids as int64, as nn.Embedding wants)."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, x, timestep, class_ids):
        return self.unet(x, timestep, class_ids)


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def parity_check(model, card, fixtures_dir):
    """PyTorch (this graph's source) on the parity fixture's inputs: max |diff| to the fixture."""
    path = os.path.join(fixtures_dir, f"parity-{card['id']}.json")
    if not os.path.exists(path):
        return None
    fx = json.load(open(path))
    b, h, w, c = fx["x_t_shape"]
    x = torch.tensor(fx["x_t"], dtype=torch.float32).reshape(b, h, w, c).permute(0, 3, 1, 2)
    t = torch.tensor(fx["timesteps"], dtype=torch.float32)
    y = torch.tensor(fx["class_ids"], dtype=torch.int64)
    with torch.no_grad():
        out = model(x, t, y).permute(0, 2, 3, 1).reshape(-1).numpy()
    diff = float(np.max(np.abs(out - np.asarray(fx["output"], dtype=np.float32))))
    return {"fixture": os.path.relpath(path, REPO_ROOT), "max_abs_diff_torch_vs_fixture": diff}


def export_conv(path, channels):
    """A lone Conv2d(C, C, 3, padding=1) with seeded weights: x [N, C, H, W] -> y [N, C, H, W]."""
    torch.manual_seed(channels)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).eval()
    with torch.no_grad():
        torch.onnx.export(
            conv,
            (torch.randn(2, channels, 14, 14),),
            path,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}, "y": {0: "N", 2: "H", 3: "W"}},
            opset_version=OPSET,
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", default=os.path.join(REPO_ROOT, "public", "models", "mnist"))
    p.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "models", "mnist-unet.onnx"))
    p.add_argument("--fixtures-dir", default=os.path.join(REPO_ROOT, "tests", "fixtures"))
    args = p.parse_args(argv)

    card, unet = load_exported(args.model_dir)
    weights_path = os.path.join(args.model_dir, card["weights"]["file"])
    sha = sha256_of(weights_path)
    if sha != card["weights"]["sha256"]:
        sys.exit(f"{weights_path}: sha256 {sha} does not match the card's {card['weights']['sha256']}")

    model = NchwUNet(unet).eval()
    arch = card["architecture"]
    size, ch = arch["image_size"], arch["in_channels"]
    example = (
        torch.randn(2, ch, size, size),
        torch.tensor([10.0, 500.5]),
        torch.tensor([3, arch["null_class_id"]], dtype=torch.int64),
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            example,
            args.out,
            input_names=["x", "timestep", "class"],
            output_names=["eps"],
            dynamic_axes={"x": {0: "N"}, "timestep": {0: "N"}, "class": {0: "N"}, "eps": {0: "N"}},
            opset_version=OPSET,
            do_constant_folding=True,
        )

    record = {
        "onnx": os.path.relpath(os.path.abspath(args.out), REPO_ROOT),
        "onnx_sha256": sha256_of(args.out),
        "model_id": card["id"],
        "source_weights": os.path.relpath(os.path.abspath(weights_path), REPO_ROOT),
        "source_weights_sha256": sha,
        "source_dtype": card["weights"]["dtype"],
        "graph_dtype": "float32 (float16 values upcast exactly)",
        "layout": "NCHW",
        "inputs": {"x": "[N, 1, 28, 28] float32", "timestep": "[N] float32", "class": "[N] int64"},
        "output": "eps [N, 1, 28, 28] float32",
        "opset": OPSET,
        "torch_version": torch.__version__,
        "gflop_per_sample": card.get("gflop_per_sample"),
        "parity": parity_check(model, card, args.fixtures_dir),
    }
    out_dir = os.path.dirname(os.path.abspath(args.out))
    record["conv_models"] = {}
    for channels in CONV_CHANNELS:
        conv_path = os.path.join(out_dir, f"conv-c{channels}.onnx")
        export_conv(conv_path, channels)
        record["conv_models"][os.path.basename(conv_path)] = sha256_of(conv_path)
    # Exponents as Prettier writes JSON (1e-6, not 1e-06): `npm run lint` checks this file too.
    text = re.sub(r"e([-+])0(\d)", r"e\1\2", json.dumps(record, indent=2))
    with open(args.out + ".json", "w") as f:
        f.write(text + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
