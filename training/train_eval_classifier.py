"""Trains the evaluation classifier (training/eval_classifier.py) on clean training images.

  /usr/bin/python3 training/train_eval_classifier.py --dataset mnist --threads 1
  /usr/bin/python3 training/train_eval_classifier.py --dataset fashion-mnist --threads 1

Adam, batch 128, a few epochs, small random shifts (+-2 px) as augmentation; prints the test
accuracy after every epoch. Writes
  training/checkpoints/eval-<dataset>.pt   float32 weights (gitignored)
  training/eval/eval-<dataset>.pt          the same weights as float16 (about 0.9 MB, committed), the
                                           reference evaluate_samples.py uses, so scores are reproducible
                                           without retraining; its test accuracy is re-measured after
                                           the float16 rounding and stored in the file.
Fails (exit 1) below --min-accuracy (default 0.99 for MNIST, 0.90 for Fashion-MNIST).
"""

import argparse
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from eval_classifier import (  # noqa: E402
    FEATURE_DIM,
    FORMAT,
    EvalCNN,
    checkpoint_path,
    committed_path,
    predict,
)

MIN_ACCURACY = {"mnist": 0.99, "fashion-mnist": 0.90}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(data.DATASETS), required=True)
    p.add_argument("--epochs", type=int, default=None, help="default 4 (MNIST) / 8 (Fashion-MNIST)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-accuracy", type=float, default=None)
    p.add_argument("--no-commit-copy", action="store_true", help="do not write training/eval/")
    return p.parse_args(argv)


def random_shift(x, gen, max_shift=2):
    """Shifts each image by up to max_shift pixels (background -1 fills the border)."""
    n = x.shape[0]
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = padded[i, :, dy[i] : dy[i] + 28, dx[i] : dx[i] + 28]
    return out


def accuracy(model, images, labels):
    model.eval()
    logits, _ = predict(model, images)
    return (logits.argmax(1) == labels).float().mean().item()


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    epochs = args.epochs or (4 if args.dataset == "mnist" else 8)
    min_acc = args.min_accuracy if args.min_accuracy is not None else MIN_ACCURACY[args.dataset]

    x_train, y_train = data.load(args.dataset, "train")
    x_test, y_test = data.load(args.dataset, "test")
    model = EvalCNN()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (x_train.shape[0] + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr * 2, total_steps=epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(args.seed)
    start = time.time()
    history = []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(x_train.shape[0], generator=gen)
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch : (i + 1) * args.batch]
            x = random_shift(x_train[idx], gen)
            loss = F.cross_entropy(model(x), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item()
        acc = accuracy(model, x_test, y_test)
        history.append(round(acc, 4))
        print(
            f"epoch {epoch + 1}/{epochs}: train loss {total_loss / steps_per_epoch:.4f}, "
            f"test accuracy {acc:.4f} ({time.time() - start:.0f} s)",
            flush=True,
        )

    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    record = {
        "format": FORMAT,
        "dataset": args.dataset,
        "num_classes": 10,
        "feature_dim": FEATURE_DIM,
        "architecture": "EvalCNN (training/eval_classifier.py)",
        "epochs": epochs,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "augmentation": "random shifts of up to 2 px",
        "test_accuracy_per_epoch": history,
        "hardware": f"{platform.machine()}, {args.threads} thread(s), torch {torch.__version__}",
        "wall_seconds": round(time.time() - start, 1),
    }
    os.makedirs(os.path.dirname(checkpoint_path(args.dataset)), exist_ok=True)
    torch.save({**record, "dtype": "float32", "test_accuracy": history[-1], "state_dict": state},
               checkpoint_path(args.dataset))
    print(f"wrote {checkpoint_path(args.dataset)}")

    # The committed reference: float16 floats (integer buffers such as BN's counter stay as they are).
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    acc16 = accuracy(model, x_test, y_test)
    print(f"test accuracy with float16-rounded weights: {acc16:.4f}")
    if not args.no_commit_copy:
        path = committed_path(args.dataset)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        torch.save({**record, "dtype": "float16", "test_accuracy": round(acc16, 4), "state_dict": half}, path)
        print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")

    ok = min(history[-1], acc16) >= min_acc
    print(f"{args.dataset}: test accuracy {history[-1]:.4f} (float16 {acc16:.4f}), required {min_acc}: "
          f"{'OK' if ok else 'TOO LOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
