// Compare: two runs from the same seed with one setting changed, stepping together. What the
// user chose (the setting and its two values, as typed) and what came back (each side's newest
// frame). The runs themselves live in two engine lanes (src/compare/).
import { create } from 'zustand';
import type { AxisKey, AxisValue } from '../compare/axisSettings';
import type { FrameData } from '../worker/protocol';

export type CompareStatus = 'idle' | 'starting' | 'ready' | 'stepping' | 'playing' | 'done';

export interface CompareSide {
  value: AxisValue;
  frame: FrameData | null;
  done: boolean;
}

export interface CompareState {
  setting: AxisKey;
  leftText: string;
  rightText: string;
  status: CompareStatus;
  /** Empty until a comparison starts; then the left and the right side. */
  sides: CompareSide[];
  /** Steps taken together since the start: the same for both sides. */
  stepIndex: number;
  /** Why the comparison could not start or go on. */
  problem: string | null;
  setSetting(setting: AxisKey, leftText: string, rightText: string): void;
  setValues(patch: Partial<Pick<CompareState, 'leftText' | 'rightText'>>): void;
}

export const useCompareStore = create<CompareState>((set) => ({
  setting: 'sampler',
  leftText: 'Euler',
  rightText: 'DDIM',
  status: 'idle',
  sides: [],
  stepIndex: 0,
  problem: null,
  setSetting: (setting, leftText, rightText) => set({ setting, leftText, rightText }),
  setValues: (patch) => set(patch),
}));
