// Renders an X/Y grid: every (x, y) combination of the two axes' values applied to the main
// controls, one image each from the same seed (unless Seed is an axis), run to its end in the
// engine lanes, the cells shared out to whichever lane is free.
import { useAppStore } from '../store';
import { useXyStore } from '../state/compareXyStore';
import { axisSetting, parseAxisList } from './axisSettings';
import { laneRunSettings, markLanesBroken, takeLanes } from './lanes';
import type { XyCellImage } from './xyGridImage';

/** Values per axis: 8 × 8 = 64 runs is already minutes on a laptop's CPU. */
export const MAX_AXIS_VALUES = 8;

let generation = 0;

/** Compare taking the lanes stops a grid in progress (its cells so far stay on show). */
const laneUser = {
  release() {
    generation++;
    if (useXyStore.getState().status === 'rendering') useXyStore.setState({ status: 'idle' });
  },
};

export async function renderXyGrid(): Promise<void> {
  const state = useXyStore.getState();
  const xSetting = axisSetting(state.xSetting);
  const ySetting = axisSetting(state.ySetting);
  const xs = parseAxisList(xSetting, state.xText, MAX_AXIS_VALUES);
  const ys = parseAxisList(ySetting, state.yText, MAX_AXIS_VALUES);
  const bad = !xs.ok ? xs : !ys.ok ? ys : null;
  if (bad && !bad.ok) {
    useXyStore.setState({ problem: bad.problem });
    return;
  }
  if (!xs.ok || !ys.ok) return;
  if (xSetting.key === ySetting.key) {
    useXyStore.setState({ problem: `X and Y are both ${xSetting.label}: pick two settings` });
    return;
  }
  const { model, controls } = useAppStore.getState();
  if (!model) {
    useXyStore.setState({ problem: 'No model is loaded yet' });
    return;
  }
  const owner = ++generation;
  const jobs = ys.values.flatMap((y) =>
    xs.values.map((x) => ySetting.apply(xSetting.apply(controls, x), y)),
  );
  const cells: (XyCellImage | null)[] = jobs.map(() => null);
  // The model's size until the first image is back (a latent model's images are decoded larger).
  let imageSize = { width: model.imageSize, height: model.imageSize };
  const picture = () => ({
    xTitle: xSetting.label,
    yTitle: ySetting.label,
    xLabels: xs.values.map(String),
    yLabels: ys.values.map(String),
    cells: [...cells],
    imageWidth: imageSize.width,
    imageHeight: imageSize.height,
  });
  useXyStore.setState({ status: 'rendering', cellsDone: 0, problem: null, picture: picture() });
  try {
    const lanes = await takeLanes(laneUser);
    let next = 0;
    let done = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        while (next < jobs.length && owner === generation) {
          const index = next++;
          const { frame } = await lane.runToEnd(laneRunSettings(jobs[index]));
          if (owner !== generation) return;
          const { width, height, channels } = frame;
          cells[index] = { bytes: new Uint8Array(frame.sample), width, height, channels };
          imageSize = { width, height };
          done++;
          useXyStore.setState({ cellsDone: done, picture: picture() });
        }
      }),
    );
    if (owner === generation) useXyStore.setState({ status: 'done' });
  } catch (err) {
    if (owner !== generation) return;
    markLanesBroken();
    useXyStore.setState({
      status: 'idle',
      problem: `The X/Y grid stopped: ${(err as Error).message ?? String(err)}`,
    });
  }
}
