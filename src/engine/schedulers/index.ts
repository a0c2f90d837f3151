// Registry of schedulers by diffusers class name.
import type { SchedulerConstructor } from './types';
import { DDPMScheduler } from './ddpm';
import { DDIMScheduler } from './ddim';
import { PNDMScheduler } from './pndm';
import { EulerDiscreteScheduler } from './euler';
import { EulerAncestralDiscreteScheduler } from './eulerAncestral';
import { HeunDiscreteScheduler } from './heun';
import { KDPM2DiscreteScheduler } from './kdpm2';
import { KDPM2AncestralDiscreteScheduler } from './kdpm2Ancestral';
import { LMSDiscreteScheduler } from './lms';
import { DPMSolverMultistepScheduler } from './dpmSolverMultistep';
import { DPMSolverSinglestepScheduler } from './dpmSolverSinglestep';
import { DEISMultistepScheduler } from './deis';
import { UniPCMultistepScheduler } from './unipc';
import { AnnealedLangevinScheduler } from './annealedLangevin';

export const SCHEDULERS = {
  DDPMScheduler,
  DDIMScheduler,
  PNDMScheduler,
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  HeunDiscreteScheduler,
  KDPM2DiscreteScheduler,
  KDPM2AncestralDiscreteScheduler,
  LMSDiscreteScheduler,
  DPMSolverMultistepScheduler,
  DPMSolverSinglestepScheduler,
  DEISMultistepScheduler,
  UniPCMultistepScheduler,
  // Ours, not diffusers': Langevin steps at each noise level (Song & Ermon 2019).
  AnnealedLangevinScheduler,
} satisfies Record<string, SchedulerConstructor>;

export type SchedulerName = keyof typeof SCHEDULERS;

export function isSchedulerName(name: string): name is SchedulerName {
  return Object.prototype.hasOwnProperty.call(SCHEDULERS, name);
}

export function createScheduler(name: string, config?: Record<string, unknown>) {
  if (!isSchedulerName(name)) throw new Error(`Unknown scheduler '${name}'`);
  return new SCHEDULERS[name](config);
}

export type { Scheduler, StepOptions, StepResult, NoiseSource, PredictionType } from './types';
