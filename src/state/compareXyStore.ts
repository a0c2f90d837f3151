// The X/Y grid: one setting per axis with comma-separated values, every combination rendered
// from the same seed (src/compare/xyGrid.ts) into one labelled picture.
import { create } from 'zustand';
import type { AxisKey } from '../compare/axisSettings';
import type { XyGridPicture } from '../compare/xyGridImage';

export type XyStatus = 'idle' | 'rendering' | 'done';

export interface XyState {
  xSetting: AxisKey;
  xText: string;
  ySetting: AxisKey;
  yText: string;
  status: XyStatus;
  /** Cells finished of all the grid has. */
  cellsDone: number;
  picture: XyGridPicture | null;
  problem: string | null;
  setAxis(axis: 'x' | 'y', setting: AxisKey, text: string): void;
  setText(axis: 'x' | 'y', text: string): void;
}

export const useXyStore = create<XyState>((set) => ({
  xSetting: 'sampler',
  xText: 'Euler, DDIM',
  ySetting: 'guidanceScale',
  yText: '1, 4',
  status: 'idle',
  cellsDone: 0,
  picture: null,
  problem: null,
  setAxis: (axis, setting, text) =>
    set(axis === 'x' ? { xSetting: setting, xText: text } : { ySetting: setting, yText: text }),
  setText: (axis, text) => set(axis === 'x' ? { xText: text } : { yText: text }),
}));
