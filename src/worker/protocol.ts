// Messages between the UI thread and the engine worker. Plain data only (structured clone).
import type { AdapterReport, BackendName } from '../engine/backend';
import type { SchedulePlanRequest, SchedulePlan } from '../engine/schedulePlan';

export type ToWorker =
  | { type: 'init'; backend: BackendName | null }
  | { type: 'plan'; requestId: number; request: SchedulePlanRequest };

export type FromWorker =
  | {
      type: 'ready';
      backend: BackendName;
      reason: string;
      failures: string[];
      adapter: AdapterReport;
      tfjsVersion: string;
      /** A small computation on the chosen backend, proving it runs: sum of 1..n. */
      selfCheck: { expected: number; got: number };
    }
  | { type: 'plan'; requestId: number; plan: SchedulePlan }
  | { type: 'error'; context: string; message: string };
