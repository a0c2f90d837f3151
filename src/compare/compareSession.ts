// Drives a comparison: both lanes start from the same controls, seed and source with one
// setting changed, and every Step steps both, so the two sides always show the same step index
// (a side whose plan is shorter holds its last image). Play repeats Step until both are done.
import { useAppStore } from '../store';
import { useCompareStore, type CompareSide } from '../state/compareStore';
import { axisSetting, parseAxisValue, type AxisValue } from './axisSettings';
import type { EngineLane, LaneStep } from './engineLane';
import { laneRunSettings, markLanesBroken, takeLanes } from './lanes';

/** Bumped by every start and close: an older loop that sees a newer one stops. */
let generation = 0;
let lanes: EngineLane[] = [];

/** The X/Y grid taking the lanes ends the comparison (its images stay on show). */
const laneUser = {
  release() {
    generation++;
    if (store().status !== 'idle') update({ status: 'idle' });
  },
};

const store = () => useCompareStore.getState();
const update = useCompareStore.setState;

function fail(err: unknown, owner: number): void {
  if (owner !== generation) return;
  markLanesBroken();
  update({ status: 'idle', problem: `Compare stopped: ${(err as Error).message ?? String(err)}` });
}

export async function startCompare(): Promise<void> {
  const { setting: key, leftText, rightText } = store();
  const setting = axisSetting(key);
  const values: AxisValue[] = [];
  for (const text of [leftText, rightText]) {
    const parsed = parseAxisValue(setting, text);
    if (!parsed.ok) {
      update({ problem: parsed.problem });
      return;
    }
    values.push(parsed.value);
  }
  const owner = ++generation;
  update({ status: 'starting', problem: null, stepIndex: 0, sides: [] });
  try {
    lanes = await takeLanes(laneUser);
    const controls = useAppStore.getState().controls;
    const started = await Promise.all(
      lanes.map((lane, i) => lane.start(laneRunSettings(setting.apply(controls, values[i])))),
    );
    if (owner !== generation) return;
    const sides = started.map((s, i) => ({ value: values[i], frame: s.frame, done: s.done }));
    update({ sides, status: sides.every((s) => s.done) ? 'done' : 'ready' });
  } catch (err) {
    fail(err, owner);
  }
}

/** One step on each side that is not done yet, together. */
async function stepBoth(owner: number): Promise<void> {
  const before = store().sides;
  const stepped = await Promise.all(
    before.map((side, i): Promise<LaneStep | null> =>
      side.done ? Promise.resolve(null) : lanes[i].step(),
    ),
  );
  if (owner !== generation) return;
  const sides: CompareSide[] = before.map((side, i) => {
    const s = stepped[i];
    return s ? { ...side, frame: s.frame, done: s.done } : side;
  });
  update((state) => ({ sides, stepIndex: state.stepIndex + 1 }));
}

const allDone = () => store().sides.every((s) => s.done);

export async function stepCompare(): Promise<void> {
  if (store().status !== 'ready') return;
  const owner = generation;
  update({ status: 'stepping' });
  try {
    await stepBoth(owner);
    if (owner === generation) update({ status: allDone() ? 'done' : 'ready' });
  } catch (err) {
    fail(err, owner);
  }
}

export async function playCompare(): Promise<void> {
  if (store().status !== 'ready') return;
  const owner = generation;
  update({ status: 'playing' });
  try {
    while (owner === generation && store().status === 'playing' && !allDone()) {
      await stepBoth(owner);
    }
    if (owner !== generation) return;
    update({ status: allDone() ? 'done' : 'ready' });
  } catch (err) {
    fail(err, owner);
  }
}

/** Stops Play after the step in flight. */
export function pauseCompare(): void {
  if (store().status === 'playing') update({ status: 'stepping' });
}
