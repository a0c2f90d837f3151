// One evaluation on onnxruntime-web, shared by the page (bench/theirs.ts) and Node (bench/node-cpu.ts).
import * as ort from 'onnxruntime-web';
import type { ModelInput } from './inputs';

export type OrtProvider = 'wasm' | 'webgpu';

export interface TheirSession {
  provider: OrtProvider;
  session: ort.InferenceSession;
  threads: number;
  version: string;
}

/** One evaluation: inputs from host memory, output read back to host memory (as ours). */
export async function theirEval(s: TheirSession, input: ModelInput): Promise<Float32Array> {
  const n = input.batch;
  const size = Math.round(Math.sqrt(input.x.length / n));
  const feeds = {
    x: new ort.Tensor('float32', input.x, [n, 1, size, size]),
    timestep: new ort.Tensor('float32', Float32Array.from(input.timesteps), [n]),
    class: new ort.Tensor(
      'int64',
      BigInt64Array.from(input.classes, (c) => BigInt(c)),
      [n],
    ),
  };
  const result = await s.session.run(feeds);
  const eps = result.eps;
  try {
    return (await eps.getData()) as Float32Array;
  } finally {
    eps.dispose();
  }
}
