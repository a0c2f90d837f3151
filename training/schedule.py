"""The training noise schedules, written to match diffusers' DDPMScheduler bit for bit.

- "squaredcos_cap_v2" (the shipped default): betas_for_alpha_bar(1000, max_beta=0.999,
  alpha_transform_type="cosine"), computed in Python floats and stored as float32.
- "linear" (Ho et al.'s DDPM schedule): torch.linspace(beta_start, beta_end, 1000) in float32.

alphas_cumprod = cumprod(1 - betas) in float32, exactly as diffusers does, so the browser scheduler
(src/engine/schedule/betas.ts) sees the same table.
"""

import math

import torch

SCHEDULER_CONFIG = {
    "_class_name": "DDPMScheduler",
    "num_train_timesteps": 1000,
    "beta_schedule": "squaredcos_cap_v2",
    "beta_start": 0.0001,  # unused by squaredcos_cap_v2; kept so diffusers' loader sees every key
    "beta_end": 0.02,
    "trained_betas": None,
    "clip_sample": True,
    "clip_sample_range": 1.0,
    "thresholding": False,
    "variance_type": "fixed_small",
    "timestep_spacing": "leading",
    "steps_offset": 0,
    "rescale_betas_zero_snr": False,
}

BETA_SCHEDULES = ("squaredcos_cap_v2", "linear")


def scheduler_config(beta_schedule="squaredcos_cap_v2"):
    if beta_schedule not in BETA_SCHEDULES:
        raise ValueError(f"unknown beta_schedule {beta_schedule!r}; expected one of {BETA_SCHEDULES}")
    return dict(SCHEDULER_CONFIG, beta_schedule=beta_schedule)


def betas_for_alpha_bar(num_steps, max_beta=0.999):
    def alpha_bar(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)]
    return torch.tensor(betas, dtype=torch.float32)


def betas(num_steps=1000, beta_schedule="squaredcos_cap_v2"):
    if beta_schedule == "squaredcos_cap_v2":
        return betas_for_alpha_bar(num_steps)
    if beta_schedule == "linear":
        cfg = SCHEDULER_CONFIG
        return torch.linspace(cfg["beta_start"], cfg["beta_end"], num_steps, dtype=torch.float32)
    raise ValueError(f"unknown beta_schedule {beta_schedule!r}; expected one of {BETA_SCHEDULES}")


def alphas_cumprod(num_steps=1000, beta_schedule="squaredcos_cap_v2"):
    return torch.cumprod(1.0 - betas(num_steps, beta_schedule), dim=0)
