"""Checks of the emoji judge and the evaluation scripts (unittest; no pytest here).

  /usr/bin/python3 -m unittest discover -s training/emoji -p 'test_*.py' -v

The shipped-judge and prompt-list checks run when training/emoji/judge/ and the data exist.
"""

import hashlib
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
import safetensors_io  # noqa: E402
from evaluate_pipeline import PROMPTS_PATH, distinct, make_prompts, nearest, rms, update_card  # noqa: E402
from judge import JUDGE_DIR, WEIGHTS_FILE, EmojiJudge, Judge, augment, gaussian_blur, topk_accuracy  # noqa: E402

DATA_NPZ = os.path.join(common.DATA_DIR, "emoji32.npz")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


class Augmentation(unittest.TestCase):
    def test_keeps_colour_and_white_background(self):
        x = torch.ones(16, 3, 32, 32)
        x[:, 0, 8:24, 8:24], x[:, 1, 8:24, 8:24], x[:, 2, 8:24, 8:24] = 1.0, -1.0, -1.0  # a red square on white
        y = augment(x, torch.Generator().manual_seed(0), noise_p=0.0, blur_p=0.0)
        self.assertEqual(tuple(y.shape), (16, 3, 32, 32))
        self.assertTrue(torch.allclose(y[:, :, 0, 0], torch.ones(16, 3), atol=1e-5))  # corners stay white
        c = y[:, :, 16, 16]  # the centre stays pure red: no hue change
        self.assertTrue(torch.allclose(c, torch.tensor([1.0, -1.0, -1.0]).expand(16, 3), atol=1e-5))
        self.assertLessEqual(float(y.max()), 1.0)
        self.assertGreaterEqual(float(y.min()), -1.0)

    def test_never_flips(self):
        x = torch.ones(32, 3, 32, 32)
        x[:, :, 12:20, 2:10] = -1.0  # a black block on the left
        y = augment(x, torch.Generator().manual_seed(1))
        dark = (1 - y.mean(1)).clamp_min(0)  # [N, 32, 32]
        cols = torch.arange(32.0)
        centre_x = (dark.sum(1) * cols).sum(1) / dark.sum((1, 2))
        self.assertTrue(bool((centre_x < 12).all()), centre_x)  # stays left (it started at 5.5)

    def test_blur_keeps_constants(self):
        x = torch.full((2, 3, 8, 8), 0.3)
        self.assertTrue(torch.allclose(gaussian_blur(x, torch.tensor([0.5, 1.0])), x, atol=1e-6))


class JudgeModel(unittest.TestCase):
    def test_shapes_and_float16_round_trip(self):
        m = EmojiJudge({"num_ids": 7, "num_subgroups": 3}).eval()
        a, b = m(torch.zeros(2, 3, 32, 32))
        self.assertEqual((tuple(a.shape), tuple(b.shape)), ((2, 7), (2, 3)))
        with tempfile.TemporaryDirectory() as d:
            half = {k: v.numpy().astype(np.float16) for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
            safetensors_io.save(os.path.join(d, WEIGHTS_FILE), half)
            card = {"config": m.config, "classes": {"emoji_id": list("abcdefg"), "subgroup": ["x", "y", "z"]}}
            write_json(os.path.join(d, "card.json"), card)
            j = Judge.load(d)
            x = torch.rand(3, 3, 32, 32) * 2 - 1
            self.assertLess(float((j.logits(x)[0] - m(x)[0]).abs().max()), 0.05)

    def test_topk_accuracy(self):
        logits = torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
        acc = topk_accuracy(logits, torch.tensor([2, 1]), ks=(1, 2))
        self.assertEqual(acc, {1: 0.5, 2: 1.0})


@unittest.skipUnless(os.path.isfile(os.path.join(JUDGE_DIR, "card.json")), "no shipped judge (run train_judge.py)")
class ShippedJudge(unittest.TestCase):
    def test_card_matches_weights(self):
        card = read_json(os.path.join(JUDGE_DIR, "card.json"))
        with open(os.path.join(JUDGE_DIR, WEIGHTS_FILE), "rb") as f:
            blob = f.read()
        self.assertEqual(hashlib.sha256(blob).hexdigest(), card["weights"]["sha256"])
        self.assertLess(len(blob), 2_000_000)
        self.assertEqual(len(card["classes"]["emoji_id"]), card["config"]["num_ids"])
        self.assertEqual(len(card["classes"]["subgroup"]), card["config"]["num_subgroups"])
        self.assertIn("held_out", card["quality"])

    @unittest.skipUnless(os.path.isfile(DATA_NPZ), "no data set")
    def test_held_out_accuracy_is_what_the_card_says(self):
        card = read_json(os.path.join(JUDGE_DIR, "card.json"))
        j = Judge.load()
        with np.load(DATA_NPZ) as d:
            targets = torch.tensor([j.id_index[e] for e in d["emoji_id"][d["held_out"]]])
        ids, _ = j.logits(common.load_images("held_out"))
        self.assertAlmostEqual(topk_accuracy(ids, targets)[1], card["quality"]["held_out"]["id_top1"], places=3)


class EvaluationHelpers(unittest.TestCase):
    def test_rms_and_nearest(self):
        a = torch.zeros(2, 3, 4, 4)
        b = torch.stack([torch.ones(3, 4, 4), torch.zeros(3, 4, 4), -torch.ones(3, 4, 4)])
        d = rms(a, b)
        self.assertTrue(torch.allclose(d, torch.tensor([[0.5, 0.0, 0.5]] * 2), atol=1e-6))
        dist, idx = nearest(a, b)
        self.assertEqual(idx.tolist(), [1, 1])

    def test_distinct(self):
        x = torch.stack([torch.zeros(3, 4, 4), torch.full((3, 4, 4), 0.01), torch.ones(3, 4, 4)])
        self.assertEqual(distinct(x, 0.05), 2)
        self.assertEqual(distinct(x, 0.0), 3)

    def test_update_card_touches_only_its_key(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "card.json")
            write_json(path, {"a": 1, "components": {"unet": {"weights": {"sha256": "abc"}}}})
            update_card(path, "evaluation", {"x": 2}, expect_unet_sha="abc")
            self.assertEqual(read_json(path)["a"], 1)
            self.assertEqual(read_json(path)["evaluation"], {"x": 2})
            with self.assertRaises(SystemExit):
                update_card(path, "evaluation", {"x": 3}, expect_unet_sha="other")
            self.assertEqual(read_json(path)["evaluation"], {"x": 2})

    @unittest.skipUnless(os.path.isfile(DATA_NPZ), "no data set")
    def test_prompt_list_is_the_rule(self):
        with np.load(DATA_NPZ) as d:
            table = {k: d[k] for k in ("emoji_id", "label", "tags", "subgroup", "group")}
        made = make_prompts(table)
        self.assertEqual(made, read_json(PROMPTS_PATH))  # the committed list is the rule's output
        ids = sorted(set(table["emoji_id"].tolist()))
        self.assertEqual([p["emoji_id"] for p in made["named"]], ids[::32])
        self.assertTrue(all(t["acceptable_ids"] for t in made["tag"]))


class PixelTwin(unittest.TestCase):
    def test_same_widths_other_space(self):
        from latent_unet import DEFAULT_CONFIG, EmojiUNet2DConditionModel

        lat = EmojiUNet2DConditionModel(DEFAULT_CONFIG)
        pix = EmojiUNet2DConditionModel(dict(DEFAULT_CONFIG, in_channels=3, out_channels=3, sample_size=32))
        out = pix(torch.zeros(1, 3, 32, 32), torch.zeros(1), torch.zeros(1, 16, DEFAULT_CONFIG["cross_attention_dim"]))
        self.assertEqual(tuple(out.shape), (1, 3, 32, 32))
        n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        self.assertLess(abs(n(lat) - n(pix)), 2000)  # only conv_in / conv_out differ


if __name__ == "__main__":
    unittest.main()
