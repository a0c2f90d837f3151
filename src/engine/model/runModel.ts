// Turns a loaded U-Net and its card into what a DiffusionRun needs: the denoiser interface and
// the model's training noise schedule (diffusers keys).
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../denoiser';
import type { RunModel } from '../run/diffusionRun';
import type { ModelCard } from './card';
import type { UNet } from './unet';

export function runModelFromUNet(unet: UNet, card: ModelCard): RunModel {
  if (card.prediction_type === 'sample') {
    throw new Error(`${card.id}: x_0-predicting models are not supported by the playground yet`);
  }
  const size = card.architecture.image_size;
  const denoiser: DenoiseModel = {
    predictionType: card.prediction_type,
    nullClass: card.null_class_id,
    imageShape: [size, size, card.architecture.in_channels],
    predict: (x: Tensor4D, timesteps: number[], classes: number[]) =>
      unet.predict(x, timesteps, classes),
  };
  const scheduleConfig: Record<string, unknown> = { ...card.scheduler };
  delete scheduleConfig._class_name;
  return { denoiser, numClasses: card.architecture.num_classes, scheduleConfig };
}
