// What the main view shows: the source image (with the mask over it) before a run, the run's
// frames once one starts. Picking or drawing a source, or choosing a source mode, brings the
// source back; a new run brings its frames. The mask layer can be hidden either way.
import { create } from 'zustand';
import { useAppStore } from '../store';
import { useSourceStore } from './sourceStore';

export type StageShows = 'source' | 'run';

export interface StageState {
  shows: StageShows;
  maskHidden: boolean;
  show(what: StageShows): void;
  setMaskHidden(hidden: boolean): void;
}

export const useStageStore = create<StageState>((set) => ({
  shows: 'run',
  maskHidden: false,
  show: (shows) => set({ shows }),
  setMaskHidden: (maskHidden) => set({ maskHidden }),
}));

useSourceStore.subscribe((state, previous) => {
  const newSource = state.sourceVersion !== previous.sourceVersion && state.pixels !== null;
  if (newSource || state.mode !== previous.mode) useStageStore.setState({ shows: 'source' });
});

useAppStore.subscribe((state, previous) => {
  if (state.runId !== previous.runId) useStageStore.setState({ shows: 'run' });
});
