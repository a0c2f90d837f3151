// Drives an ElboEstimate one model call at a time, yielding to the caller's event loop between
// calls, so the worker keeps answering pings and other commands while a long estimate runs.
import type { ElboEstimate, ElboImageResult } from './elboEstimate';

export interface ChunkHooks {
  /** Resolves after queued messages have been handled (the worker's MessageChannel defer). */
  yieldNow: () => Promise<void>;
  onProgress: (pairsDone: number, pairsTotal: number) => void;
  /** Checked between calls: true stops the estimate (runInChunks then returns null). */
  cancelled: () => boolean;
}

export async function runInChunks(
  estimate: ElboEstimate,
  hooks: ChunkHooks,
): Promise<ElboImageResult[] | null> {
  while (!estimate.done) {
    if (hooks.cancelled()) return null;
    await estimate.runBatch();
    const { pairsDone, pairsTotal } = estimate.progress;
    hooks.onProgress(pairsDone, pairsTotal);
    await hooks.yieldNow();
  }
  return estimate.results();
}
