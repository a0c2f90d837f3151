// The float16 accuracy check of each shipped model (float16Check.ts, precision.ts), as measured by
// tests/unit/gpu-path.test.ts on the parity fixture's inputs (wasm, every float32 kernel output
// rounded to f16, against float32). The test fails when a model or its weights change and these
// numbers no longer hold, so they cannot go stale unnoticed.
import type { OutputError } from './precision';

export const F16_CHECKS: Record<string, OutputError> = {
  mnist: { maxAbs: 2.81e-2, relRms: 5.99e-3, nonFinite: 0 },
  'fashion-mnist': { maxAbs: 2.73e-2, relRms: 5.26e-3, nonFinite: 0 },
  'mnist-linear': { maxAbs: 1.68e-2, relRms: 3.53e-3, nonFinite: 0 },
};
