"""Checks of the emoji data builder, the VAE and its export (unittest; no pytest here).

  /usr/bin/python3 -m unittest discover -s training/emoji -p 'test_*.py' -v

The data and shipped-model checks run when training/data/emoji/ and public/models/emoji/vae/ exist
(skipped otherwise, with the reason printed).
"""

import hashlib
import json
import os
import struct
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import safetensors_io  # noqa: E402
from build_data import EXCLUDED_HEXCODES, EXCLUDED_SUBGROUPS, is_held_out, strip_fe0f  # noqa: E402
from vae import DEFAULT_CONFIG, EmojiAutoencoderKL, kl_divergence  # noqa: E402

DATA_NPZ = os.path.join(common.DATA_DIR, "emoji32.npz")
FIXTURE = os.path.join(common.REPO_ROOT, "tests", "fixtures", "parity-emoji-vae.json")


class SafetensorsFormat(unittest.TestCase):
    def test_round_trip_and_layout(self):
        tensors = {"b": np.arange(6, dtype=np.float16).reshape(2, 3), "a": np.array([1.5, -2.0], np.float32)}
        blob = safetensors_io.encode(tensors, {"format": "pt"})
        (n,) = struct.unpack("<Q", blob[:8])
        self.assertEqual(n % 8, 0)
        header = json.loads(blob[8 : 8 + n])
        self.assertEqual(header["b"], {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]})
        self.assertEqual(header["a"]["data_offsets"], [12, 20])
        self.assertEqual(blob[8 + n : 8 + n + 2], np.float16(0).tobytes())  # raw little-endian data
        back, meta = safetensors_io.decode(blob)
        self.assertEqual(list(back), ["b", "a"])
        np.testing.assert_array_equal(back["b"], tensors["b"])
        self.assertEqual(meta, {"format": "pt"})

    def test_refuses_truncated_file(self):
        blob = safetensors_io.encode({"w": np.ones(4, np.float16)})
        with self.assertRaisesRegex(ValueError, "data_offsets"):
            safetensors_io.decode(blob[:-2])


class AutoencoderShape(unittest.TestCase):
    def test_shapes_and_diffusers_names(self):
        torch.manual_seed(0)
        model = EmojiAutoencoderKL().eval()
        mean, logvar = model.encode(torch.zeros(2, 3, 32, 32))
        self.assertEqual(tuple(mean.shape), (2, 4, 8, 8))
        self.assertEqual(tuple(model.decode(mean).shape), (2, 3, 32, 32))
        names = set(model.state_dict())
        for name in ("encoder.conv_in.weight", "encoder.down_blocks.0.downsamplers.0.conv.weight",
                     "encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.to_out.0.weight",
                     "encoder.conv_out.weight", "quant_conv.weight", "post_quant_conv.weight",
                     "decoder.up_blocks.0.upsamplers.0.conv.weight", "decoder.up_blocks.2.resnets.0.conv_shortcut.weight",
                     "decoder.up_blocks.2.resnets.1.conv2.weight", "decoder.conv_norm_out.weight"):
            self.assertIn(name, names)
        self.assertLess(sum(p.numel() for p in model.parameters()), 1_000_000)

    def test_downsample_pads_bottom_right_only(self):
        # diffusers' Downsample2D (and tfjs 'same' with stride 2): pad 0 top/left, 1 bottom/right.
        model = EmojiAutoencoderKL()
        down = model.encoder.down_blocks[0].downsamplers[0]
        x = torch.randn(1, DEFAULT_CONFIG["block_out_channels"][0], 32, 32)
        ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 1, 0, 1)), down.conv.weight, down.conv.bias, stride=2)
        torch.testing.assert_close(down(x), ref)
        self.assertEqual(tuple(down(x).shape[2:]), (16, 16))

    def test_kl_matches_torch_distributions(self):
        mean, logvar = torch.randn(3, 4, 8, 8), torch.randn(3, 4, 8, 8)
        q = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
        p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
        expected = torch.distributions.kl_divergence(q, p).flatten(1).sum(1)
        torch.testing.assert_close(kl_divergence(mean, logvar), expected)


@unittest.skipUnless(os.path.isfile(DATA_NPZ), "no training/data/emoji: run build_data.py")
class BuiltData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with np.load(DATA_NPZ) as d:
            cls.d = {k: d[k] for k in d.files}

    def test_images_and_exclusions(self):
        d = self.d
        self.assertEqual(d["images"].dtype, np.uint8)
        self.assertEqual(d["images"].shape[1:], (32, 32, 3))
        self.assertFalse(set(d["subgroup"]) & set(EXCLUDED_SUBGROUPS + ("country-flag", "subdivision-flag", "flag", "skin-tone")))
        self.assertFalse(set(d["emoji_id"]) & set(EXCLUDED_HEXCODES))
        self.assertEqual(set(d["style"]), {"twitter", "google"})
        # Composited on white, not black: nearly every picture has a pure white corner (those that
        # fill the square, such as Noto's buttons, do not) and none has a pure black one.
        corners = d["images"][:, [0, 0, -1, -1], [0, -1, 0, -1]]
        self.assertGreater((corners == 255).all(axis=2).any(axis=1).mean(), 0.9)
        self.assertFalse((corners == 0).all(axis=2).any())

    def test_every_name_stays_in_training(self):
        d = self.d
        self.assertEqual(set(d["emoji_id"][~d["held_out"]]), set(d["emoji_id"]))
        held_ids = set(d["emoji_id"][d["held_out"]])
        self.assertTrue(0.03 < len(held_ids) / len(set(d["emoji_id"])) < 0.07)
        for emoji_id in held_ids:
            self.assertTrue(is_held_out(emoji_id)[0])
            self.assertEqual(len(set(d["style"][d["held_out"] & (d["emoji_id"] == emoji_id)])), 1)

    def test_captions(self):
        d = self.d
        captions = set(d["caption"])
        for caption in ("grinning face with big eyes", "red apple", "cat face", "waving hand: dark skin tone"):
            self.assertIn(caption, captions)
        self.assertEqual(strip_fe0f("2764-FE0F-200D-1F525"), "2764-200D-1F525")


@unittest.skipUnless(os.path.isfile(os.path.join(common.SHIPPED_VAE_DIR, common.WEIGHTS_NAME)), "no shipped VAE")
class ShippedVae(unittest.TestCase):
    def test_card_matches_weights_and_fixture_reproduces(self):
        card = json.load(open(os.path.join(common.SHIPPED_VAE_DIR, "card.json"), encoding="utf-8"))
        blob = open(os.path.join(common.SHIPPED_VAE_DIR, common.WEIGHTS_NAME), "rb").read()
        self.assertEqual(hashlib.sha256(blob).hexdigest(), card["weights"]["sha256"])
        config, state, _ = common.load_shipped()
        self.assertEqual(config, card["config"])
        self.assertEqual(config["_class_name"], "EmojiAutoencoderKL")
        model = EmojiAutoencoderKL({k: config[k] for k in DEFAULT_CONFIG}).eval()
        model.load_state_dict(state)
        fx = json.load(open(FIXTURE, encoding="utf-8"))

        def nchw(name):
            return torch.tensor(fx[name]).reshape(fx[name + "_shape"]).permute(0, 3, 1, 2)

        with torch.no_grad():
            mean, logvar = model.encode(nchw("images"))
            torch.testing.assert_close(mean, nchw("latent_mean"), atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(model.decode(mean), nchw("decoded_from_mean"), atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(model.decode(nchw("random_latents")), nchw("decoded_from_random"), atol=1e-4, rtol=1e-4)
        self.assertGreater(card["quality"]["psnr_held_out_db"], 20.0)


if __name__ == "__main__":
    unittest.main()
