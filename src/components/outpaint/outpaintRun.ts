// The run Outpaint starts: the current controls (sampler, steps, guidance, class, seed, batch) on
// the chosen canvas, with the source editor's image placed on it, or why it cannot start. No
// tfjs, no React.
import {
  outpaintProblem,
  placeKnownImage,
  sizeLabel,
  type KnownImage,
  type OutpaintSettings,
} from '../../engine/outpaint/outpaintSettings';
import { guidedBatchSize } from '../../engine/guidance';
import type { InpaintSettings, RunSettings } from '../../engine/run/settings';
import { windowGrid } from '../../engine/outpaint/windows';
import { buildRunSettings, type RunControls } from '../../runControls';
import { IMAGE_SIZE } from '../../source/grid';
import type { SourceMode } from '../../state/sourceStore';
import type { ModelInfo } from '../../worker/protocol';

export interface EditorSource {
  /** 28×28 grayscale in [-1, 1], or null when the editor has no image. */
  pixels: Float32Array | null;
  /** The editor's (feathered) mask: it applies inside the known image while inpainting. */
  mask: Float32Array;
  mode: SourceMode;
}

type ModelSize = Pick<ModelInfo, 'imageSize' | 'channels'>;

/**
 * The known image from the source editor: its pixels and, in Inpaint mode, its mask (the painted
 * part is re-imagined too, inpainting's rules). null: nothing to place. A string: why not.
 */
export function knownImageOf(
  source: EditorSource,
  placeSource: boolean,
  model: ModelSize,
): KnownImage | null | string {
  if (!placeSource || !source.pixels) return null;
  if (model.imageSize !== IMAGE_SIZE || model.channels !== 1) {
    return (
      `The source image is ${IMAGE_SIZE}×${IMAGE_SIZE} grayscale and this model makes ` +
      `${model.imageSize}×${model.imageSize} images with ${model.channels} channels: ` +
      'untick "Place the source image" to paint the whole canvas'
    );
  }
  return {
    height: IMAGE_SIZE,
    width: IMAGE_SIZE,
    pixels: source.pixels,
    mask: source.mode === 'inpaint' ? source.mask : null,
  };
}

/**
 * Most model evaluations one step may take. A step is one uninterrupted task in the worker, and
 * the page restarts a worker that has not answered for 20 s: at about 21 ms per evaluation on
 * wasm here (batch 16), 320 is some 7 s, which still allows 56×56 at batch 16 with guidance.
 */
export const MAX_EVALUATIONS_PER_STEP = 320;

/** Model evaluations per step: every window of every image, twice with classifier-free guidance. */
export function evaluationsPerStep(
  canvas: { height: number; width: number },
  size: number,
  images: number,
  guidanceScale: number,
): { windows: number; evaluations: number } {
  const windows = windowGrid(canvas, { height: size, width: size }).length;
  return { windows, evaluations: windows * guidedBatchSize(images, guidanceScale) };
}

export function outpaintRunSettings(
  controls: RunControls,
  model: ModelSize,
  canvas: OutpaintSettings,
  known: KnownImage | null,
): { settings: RunSettings } | { problem: string } {
  const native = { height: model.imageSize, width: model.imageSize, channels: model.channels };
  const problem = outpaintProblem(canvas, native, known);
  if (problem) return { problem };
  const { evaluations } = evaluationsPerStep(
    canvas,
    model.imageSize,
    controls.batchSize,
    controls.guidanceScale,
  );
  if (evaluations > MAX_EVALUATIONS_PER_STEP) {
    return {
      problem:
        `${sizeLabel(canvas)} at batch ${controls.batchSize} is ${evaluations} model evaluations ` +
        `per step, more than ${MAX_EVALUATIONS_PER_STEP}: choose a smaller canvas or batch size`,
    };
  }
  const base = buildRunSettings(controls, { inpaint: null, img2img: null });
  const inpaint = known ? placeKnownImage(canvas, native, known) : null;
  return { settings: { ...base, inpaint, outpaint: canvas } };
}

/**
 * For a run whose known image carries the editor's mask (Inpaint mode): later mask edits placed on
 * the run's canvas, as the run needs them. null: the run does not follow the mask.
 */
export function maskPlacement(
  canvas: OutpaintSettings,
  model: ModelSize,
  known: KnownImage | null,
): ((inpaint: InpaintSettings) => InpaintSettings) | null {
  if (!known?.mask) return null;
  const native = { height: model.imageSize, width: model.imageSize, channels: model.channels };
  return ({ pixels, mask }) => placeKnownImage(canvas, native, { ...known, pixels, mask });
}

/** The canvas size choices the panel's menu lists: the presets, and the current one if custom. */
export function canvasChoices(
  presets: { width: number; height: number }[],
  current: { width: number; height: number },
): { label: string; width: number; height: number }[] {
  const choices = presets.map((p) => ({ ...p, label: sizeLabel(p) }));
  const listed = choices.some((c) => c.width === current.width && c.height === current.height);
  return listed ? choices : [...choices, { ...current, label: sizeLabel(current) }];
}
