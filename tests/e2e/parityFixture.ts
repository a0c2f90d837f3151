// PyTorch's reference outputs for fixed inputs (tests/fixtures/parity-<model>.json, written by
// training/), and one bare model call on them in the page's engine worker (the debug=1 hook):
// shared by the specs that compare the browser's outputs with PyTorch's or with each other.
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';

export interface ParityFixture {
  x_t: number[];
  timesteps: number[];
  class_ids: number[];
  output: number[];
}

export function readParityFixture(model: string): ParityFixture {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/parity-${model}.json`, import.meta.url), 'utf8'),
  ) as ParityFixture;
}

/** The loaded model's output for the fixture's inputs (the page must be opened with debug=1). */
export function evaluateFixture(page: Page, fixture: ParityFixture) {
  return page.evaluate(({ x, t, c }) => window.__playground!.evaluate(x, t, c), {
    x: fixture.x_t,
    t: fixture.timesteps,
    c: fixture.class_ids,
  });
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
