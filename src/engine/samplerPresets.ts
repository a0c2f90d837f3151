// The sampler menu people know from AUTOMATIC1111 / ComfyUI, mapped to diffusers schedulers and
// config overrides the way diffusers' own docs map them ("A1111/k-diffusion -> diffusers").
import type { SchedulerName } from './schedulers';

export interface SamplerPreset {
  /** The name shown in the menu, as AUTOMATIC1111 spells it. */
  name: string;
  scheduler: SchedulerName;
  /** Overrides on top of the model's own scheduler config (beta schedule, prediction type). */
  config: Record<string, unknown>;
  /** Draws fresh noise during sampling, so it needs a seeded noise source per step. */
  stochastic: boolean;
  /** Takes an eta argument (DDIM). */
  usesEta: boolean;
}

const preset = (
  name: string,
  scheduler: SchedulerName,
  config: Record<string, unknown> = {},
  stochastic = false,
  usesEta = false,
): SamplerPreset => ({ name, scheduler, config, stochastic, usesEta });

const karras = { use_karras_sigmas: true };
const dpmpp2m = { algorithm_type: 'dpmsolver++', solver_order: 2 };
const dpmpp2mSde = { algorithm_type: 'sde-dpmsolver++', solver_order: 2 };

export const SAMPLER_PRESETS: readonly SamplerPreset[] = [
  preset('Euler', 'EulerDiscreteScheduler'),
  preset('Euler a', 'EulerAncestralDiscreteScheduler', {}, true),
  preset('Heun', 'HeunDiscreteScheduler'),
  preset('LMS', 'LMSDiscreteScheduler'),
  preset('LMS Karras', 'LMSDiscreteScheduler', karras),
  preset('DPM2', 'KDPM2DiscreteScheduler'),
  preset('DPM2 Karras', 'KDPM2DiscreteScheduler', karras),
  preset('DPM2 a', 'KDPM2AncestralDiscreteScheduler', {}, true),
  preset('DPM2 a Karras', 'KDPM2AncestralDiscreteScheduler', karras, true),
  preset('DPM++ 2M', 'DPMSolverMultistepScheduler', dpmpp2m),
  preset('DPM++ 2M Karras', 'DPMSolverMultistepScheduler', { ...dpmpp2m, ...karras }),
  preset('DPM++ 2M SDE', 'DPMSolverMultistepScheduler', dpmpp2mSde, true),
  preset('DPM++ 2M SDE Karras', 'DPMSolverMultistepScheduler', { ...dpmpp2mSde, ...karras }, true),
  preset('DPM++ 3M', 'DPMSolverMultistepScheduler', {
    algorithm_type: 'dpmsolver++',
    solver_order: 3,
  }),
  preset('DPM++ 2S', 'DPMSolverSinglestepScheduler', { solver_order: 2 }),
  preset('DPM++ 2S Karras', 'DPMSolverSinglestepScheduler', { solver_order: 2, ...karras }),
  preset('UniPC', 'UniPCMultistepScheduler'),
  preset('DEIS', 'DEISMultistepScheduler'),
  preset('DDIM', 'DDIMScheduler', {}, false, true),
  preset('PLMS', 'PNDMScheduler', { skip_prk_steps: true }),
  preset('DDPM', 'DDPMScheduler', {}, true),
  // Ours: Langevin steps per noise level with the model's score (the run's Langevin settings).
  preset('Annealed Langevin', 'AnnealedLangevinScheduler', {}, true),
];

export function findSamplerPreset(name: string): SamplerPreset | undefined {
  return SAMPLER_PRESETS.find((p) => p.name === name);
}
