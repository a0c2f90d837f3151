// Timing helpers for the benchmark page: interleaved rounds so that a background job slowing the
// machine down hits every contender alike, and medians so that one slow round does not decide.

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One thing to time: `call` does one complete unit of work, read-back included. */
export interface Contender {
  name: string;
  call: () => Promise<unknown>;
  /** Untimed work before a round of `calls` calls (e.g. starting a fresh run). */
  prepare?: (calls: number) => Promise<void>;
}

export interface RoundPlan {
  /** Calls before timing starts (shader compilation, buffer pools, JIT). */
  warmup: number;
  rounds: number;
  /** Each round runs about this long per contender (at least one call). */
  roundMs: number;
  /** Upper bound on calls per round. */
  maxCallsPerRound: number;
  /** Contenders slower than this per call (software GPUs) get one warm-up and `slowRounds`. */
  slowMs: number;
  slowRounds: number;
}

export interface Timed {
  /** Median over rounds of the mean time per call within a round. */
  msPerCall: number;
  /** Mean time per call of every round, in order. */
  roundsMs: number[];
  callsPerRound: number;
}

const now = () => performance.now();

async function timeCalls(c: Contender, calls: number): Promise<number> {
  const t0 = now();
  for (let i = 0; i < calls; i++) await c.call();
  return (now() - t0) / calls;
}

/**
 * Warms every contender up, sizes rounds from the last warm-up call, then runs the rounds
 * alternately: A B, B A, A B, ... (reversing the order each round cancels a steady drift).
 */
export async function interleaved(contenders: Contender[], plan: RoundPlan): Promise<Timed[]> {
  const perCall: number[] = [];
  for (const c of contenders) {
    await c.prepare?.(plan.warmup);
    let last = await timeCalls(c, 1);
    for (let i = 1; i < plan.warmup && last < plan.slowMs; i++) last = await timeCalls(c, 1);
    perCall.push(last);
  }
  const slow = Math.max(...perCall) > plan.slowMs;
  const calls = perCall.map((ms) =>
    Math.max(1, Math.min(plan.maxCallsPerRound, Math.round(plan.roundMs / Math.max(ms, 1e-3)))),
  );
  const rounds: number[][] = contenders.map(() => []);
  for (let r = 0; r < (slow ? Math.min(plan.rounds, plan.slowRounds) : plan.rounds); r++) {
    const order = contenders.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      await contenders[i].prepare?.(calls[i]);
      rounds[i].push(await timeCalls(contenders[i], calls[i]));
    }
  }
  return contenders.map((_, i) => ({
    msPerCall: median(rounds[i]),
    roundsMs: rounds[i],
    callsPerRound: calls[i],
  }));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    // NaN must not hide behind max(): report it as infinitely far.
    worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
  }
  return worst;
}

export interface SteadyPlan {
  /** At least this many calls. */
  minCalls: number;
  maxCalls: number;
  /** Stop once this much time went into warming up, steady or not. */
  maxMs: number;
  /** Steady: the last `window` calls lie within this fraction of their minimum. */
  tolerance: number;
  window: number;
}

/**
 * Calls until the time per call settles. V8 runs wasm first as baseline (Liftoff) code and
 * compiles the hot functions with TurboFan on background threads, so on a busy machine an
 * engine can take dozens of calls to reach its steady speed; a fixed warm-up count either wastes
 * time or measures half-compiled code. `clock` is the time source (wall, or a thread's CPU).
 * Returns the number of calls made.
 */
export async function warmUntilSteady(
  call: () => Promise<unknown>,
  plan: SteadyPlan,
  clock: () => number = now,
): Promise<number> {
  const times: number[] = [];
  const start = now();
  while (times.length < plan.maxCalls) {
    const t0 = clock();
    await call();
    times.push(clock() - t0);
    if (times.length < Math.max(plan.minCalls, plan.window)) continue;
    const last = times.slice(-plan.window);
    if (Math.max(...last) <= Math.min(...last) * (1 + plan.tolerance)) break;
    if (now() - start > plan.maxMs) break;
  }
  return times.length;
}
