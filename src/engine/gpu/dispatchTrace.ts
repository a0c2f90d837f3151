// A record of the compute dispatches tfjs-backend-webgpu issues, per model call (one sampler step
// calls the model once, the guided halves batched together): how many, of which shader, with
// which workgroup counts, and the largest tensor written. For reading what a step costs on a real
// GPU, where per-dispatch overhead rather than arithmetic dominates for models this small.

export interface Dispatch {
  /** The shader's family: tfjs's shader key up to its first '_' (e.g. conv2DMM, binary). */
  kind: string;
  workgroups: [number, number, number];
  outputShape: number[];
}

export interface StepTrace {
  /** What was traced, e.g. "step 3" or "evaluate". */
  label: string;
  /** Images in the model call(s), and the sizes it was split into (limits.ts), if it was. */
  batch: number;
  split: number[] | null;
  dispatches: number;
  /** Dispatches per shader family, most first. */
  byKind: [string, number][];
  /** The largest workgroup count in any one dimension (adapter limit: see limits.ts). */
  maxWorkgroupsPerDimension: number;
  /** Elements of the largest tensor a dispatch wrote. */
  largestOutputElements: number;
  /** Every dispatch in order, when recorded in full. */
  list: Dispatch[] | null;
}

/** The parts of a tfjs WebGPUProgram that recordAndSubmit sees. */
interface ProgramLike {
  shaderKey?: string;
  dispatch?: number[];
  outputShape?: number[];
}
interface BackendLike {
  recordAndSubmit(program: ProgramLike, ...rest: unknown[]): unknown;
}

const kindOf = (key: string | undefined) => (key ?? 'unknown').split('_')[0] || 'unknown';

export class DispatchTracer {
  /** The newest traces, oldest first, at most `keep`. */
  readonly traces: StepTrace[] = [];
  private current: Dispatch[] | null = null;
  private attached = new WeakSet<object>();

  constructor(
    private readonly keep = 32,
    private readonly full = false,
  ) {}

  /**
   * Wraps the backend's recordAndSubmit (tfjs-backend-webgpu's one place where a program is
   * dispatched). False when the backend has none (not WebGPU). Once per backend object.
   */
  attach(backend: object): boolean {
    const b = backend as Partial<BackendLike>;
    if (typeof b.recordAndSubmit !== 'function') return false;
    if (this.attached.has(backend)) return true;
    const original = b.recordAndSubmit.bind(backend);
    b.recordAndSubmit = (program: ProgramLike, ...rest: unknown[]) => {
      if (this.current) {
        const d = program.dispatch ?? [1, 1, 1];
        this.current.push({
          kind: kindOf(program.shaderKey),
          workgroups: [d[0] ?? 1, d[1] ?? 1, d[2] ?? 1],
          outputShape: [...(program.outputShape ?? [])],
        });
      }
      return original(program, ...rest);
    };
    this.attached.add(backend);
    return true;
  }

  /** Records the dispatches `fn` issues (synchronously) as one trace. */
  record<T>(label: string, batch: number, fn: () => T, split: () => number[] | null = () => null) {
    const outer = this.current;
    this.current = [];
    try {
      return fn();
    } finally {
      const list = this.current;
      this.current = outer;
      this.push(summarise(label, batch, split(), list, this.full));
      outer?.push(...list);
    }
  }

  private push(trace: StepTrace): void {
    this.traces.push(trace);
    if (this.traces.length > this.keep) this.traces.shift();
  }
}

export function summarise(
  label: string,
  batch: number,
  split: number[] | null,
  list: Dispatch[],
  full: boolean,
): StepTrace {
  const counts = new Map<string, number>();
  let maxWorkgroups = 0;
  let largest = 0;
  for (const d of list) {
    counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
    maxWorkgroups = Math.max(maxWorkgroups, ...d.workgroups);
    largest = Math.max(
      largest,
      d.outputShape.reduce((a, b) => a * b, 1),
    );
  }
  return {
    label,
    batch,
    split,
    dispatches: list.length,
    byKind: [...counts.entries()].sort((a, b) => b[1] - a[1]),
    maxWorkgroupsPerDimension: maxWorkgroups,
    largestOutputElements: largest,
    list: full ? list : null,
  };
}
