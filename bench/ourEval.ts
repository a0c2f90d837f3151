// One evaluation of our U-Net, shared by the page (bench/ours.ts) and Node (bench/node-cpu.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from '../src/engine/model';
import type { ModelInput } from './inputs';

/**
 * One model evaluation as an application does it: upload x, run the U-Net, read the output back
 * (asynchronously: WebGPU's synchronous read-back loses the device under SwiftShader).
 */
export async function ourEval(model: LoadedModel, input: ModelInput): Promise<Float32Array> {
  const size = model.card.architecture.image_size;
  const x = tf.tensor4d(input.x, [input.batch, size, size, 1]);
  const out = model.unet.predict(x, input.timesteps, input.classes);
  try {
    return (await out.data()) as Float32Array;
  } finally {
    tf.dispose([x, out]);
  }
}
