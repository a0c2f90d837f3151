// The engine lanes Compare and the X/Y grid run in: two extra workers, started on first use on
// the backend the main engine runs, with the model the main view has loaded. One user at a time:
// whoever takes them next cancels what the other left running.
import { buildRunSettings, type BatchSize, type RunControls } from '../runControls';
import type { RunSettings } from '../engine/run/settings';
import { currentSource } from '../sourceLink';
import { useAppStore } from '../store';
import { EngineLane } from './engineLane';

const LANE_COUNT = 2;
let lanes: EngineLane[] = [];
let broken = false;

/** Whoever uses the lanes: told when another takes them over. */
export interface LaneUser {
  release(): void;
}
let user: LaneUser | null = null;

/** The two lanes, ready on the main engine's backend with the main view's model. */
export async function takeLanes(taker: LaneUser): Promise<EngineLane[]> {
  if (user && user !== taker) user.release();
  user = taker;
  const { engine, backendChoice, model, models } = useAppStore.getState();
  if (!model) throw new Error('No model is loaded yet');
  const listing = models.find((m) => m.id === model.id);
  if (!listing) throw new Error(`model "${model.id}" is not in the model list`);
  const backend = engine.backend ?? backendChoice;
  if (broken || lanes.some((lane) => lane.backend !== backend)) closeLanes();
  if (lanes.length === 0) {
    lanes = Array.from({ length: LANE_COUNT }, () => new EngineLane(backend));
    broken = false;
  }
  for (const lane of lanes) lane.cancel();
  try {
    await Promise.all(lanes.map((lane) => lane.loadModel(listing)));
  } catch (err) {
    // A lane that failed to start or load is not reused: the next use starts fresh ones.
    broken = true;
    throw err;
  }
  return lanes;
}

/** A failed run may have left a lane in any state: start fresh ones next time. */
export function markLanesBroken(): void {
  broken = true;
}

export function closeLanes(): void {
  for (const lane of lanes) lane.dispose();
  lanes = [];
}

/**
 * The settings of one image of a comparison or grid: the main controls with one value changed,
 * batch 1, and the source editor's img2img / inpainting source as a Generate would use it.
 */
export function laneRunSettings(controls: RunControls): RunSettings {
  return buildRunSettings({ ...controls, batchSize: 1 as BatchSize }, currentSource());
}
