// Which image the ELBO panel measures, and which class it may be conditioned on: the source image
// (a test example, an upload or a drawing) or image 1 of the last generated frame.
import type { FrameData, ModelInfo } from '../../worker/protocol';

export type ElboImageKind = 'source' | 'sample';

export type PickedImage =
  | {
      ok: true;
      /** H·W·C values in [-1, 1]. */
      pixels: number[];
      /** The class the image is known to have, or null (uploads, drawings). */
      knownClass: number | null;
      description: string;
    }
  | { ok: false; problem: string };

/**
 * The class of a test example from its label, "MNIST test #3 (0)", when the data set is the
 * model's own (model ids are lower-case data set names, maybe with a suffix: "mnist-linear").
 */
export function classFromSourceLabel(label: string | null, model: ModelInfo): number | null {
  const match = /^(.+) test #\d+ \((.+)\)$/.exec(label ?? '');
  if (!match) return null;
  const dataset = match[1].toLowerCase();
  if (model.id !== dataset && !model.id.startsWith(`${dataset}-`)) return null;
  const classId = model.classLabels.indexOf(match[2]);
  return classId >= 0 ? classId : null;
}

function shapeProblem(what: string, h: number, w: number, c: number, model: ModelInfo) {
  return (
    `${what} is ${h}×${w}×${c}; model "${model.id}" takes ` +
    `${model.imageSize}×${model.imageSize}×${model.channels} images.`
  );
}

export function pickSource(
  pixels: Float32Array | null,
  label: string | null,
  model: ModelInfo,
): PickedImage {
  if (!pixels)
    return { ok: false, problem: 'There is no source image: pick an example, upload or draw one.' };
  const side = Math.round(Math.sqrt(pixels.length));
  if (model.channels !== 1 || side !== model.imageSize || side * side !== pixels.length) {
    return { ok: false, problem: shapeProblem('The source image', side, side, 1, model) };
  }
  return {
    ok: true,
    pixels: Array.from(pixels),
    knownClass: classFromSourceLabel(label, model),
    description: label ?? 'the source image',
  };
}

/** Image 1 of the last frame; `classId` is the class the controls ask for (null-class: none). */
export function pickSample(
  frame: FrameData | null,
  classId: number,
  model: ModelInfo,
): PickedImage {
  if (!frame)
    return { ok: false, problem: 'There is no generated sample yet: press Generate first.' };
  const { height: h, width: w, channels: c } = frame;
  if (h !== model.imageSize || w !== model.imageSize || c !== model.channels) {
    return { ok: false, problem: shapeProblem('The generated sample', h, w, c, model) };
  }
  const bytes = new Uint8Array(frame.sample, 0, h * w * c);
  const done = frame.step === frame.totalSteps;
  return {
    ok: true,
    pixels: Array.from(bytes, (b) => b / 127.5 - 1),
    knownClass: classId >= 0 && classId < model.nullClassId ? classId : null,
    description:
      `generated sample 1 (step ${frame.step} of ${frame.totalSteps}` +
      `${done ? '' : ', not finished'})`,
  };
}
