// What a run gets from the source editor: pixels and mask at the loaded model's geometry, and
// the editor following the model when it changes.
import { beforeEach, describe, expect, it } from 'vitest';
import { currentSource, watchMask } from '../../src/sourceLink';
import { useSourceStore } from '../../src/state/sourceStore';
import { useAppStore } from '../../src/store';
import type { ModelInfo } from '../../src/worker/protocol';

const model = (id: string, imageSize: number, channels: number): ModelInfo => ({
  id,
  name: id,
  classLabels: [],
  nullClassId: 0,
  imageSize,
  channels,
  parameterCount: 1,
});
const MNIST = model('mnist', 28, 1);
const EMOJI = model('emoji', 32, 3);

const source = () => useSourceStore.getState();
const initialSource = useSourceStore.getState();
const initialApp = useAppStore.getState();

beforeEach(() => {
  useAppStore.setState(initialApp, true);
  useSourceStore.setState(initialSource, true);
});

describe('source link', () => {
  it('the editor follows the loaded model: a digit becomes a 32x32 colour source', () => {
    useAppStore.getState().setModel(MNIST);
    source().setSource(new Float32Array(784).fill(0.5), 'MNIST test #3 (0)');
    source().fillMask();
    source().setMode('inpaint');
    useAppStore.getState().setModel(EMOJI);
    expect(source().geometry).toEqual({ size: 32, channels: 3 });
    const { inpaint } = currentSource();
    expect(inpaint!.pixels).toHaveLength(3072);
    expect(inpaint!.mask).toHaveLength(1024);
    expect(inpaint!.mask.every((v) => v === 1)).toBe(true);
    // A model that is still loading (null) leaves the source alone.
    useAppStore.getState().setModel(null);
    expect(source().geometry).toEqual({ size: 32, channels: 3 });
  });

  it('a source made for another model is converted for the run, never sent at the wrong size', () => {
    useAppStore.getState().setModel(EMOJI);
    // Mid-switch: the editor still holds a 28x28 grey source and mask.
    useSourceStore.setState({
      geometry: { size: 28, channels: 1 },
      pixels: new Float32Array(784).fill(-1),
      mask: new Float32Array(784).fill(1),
      paintedMask: new Float32Array(784).fill(1),
      mode: 'img2img',
    });
    const { img2img, inpaint } = currentSource();
    expect(inpaint).toBeNull();
    expect(img2img!.pixels).toHaveLength(3072);
    expect(img2img!.pixels.every((v) => v === -1)).toBe(true);
    source().setMode('inpaint');
    const sent: number[] = [];
    const stop = watchMask((patch) => sent.push(patch.pixels.length, patch.mask.length));
    source().clearMask();
    stop();
    expect(sent).toEqual([3072, 1024]);
  });

  it('no source or no mode: nothing for the run', () => {
    expect(currentSource()).toEqual({ inpaint: null, img2img: null });
    source().setSource(new Float32Array(784), 'x');
    expect(currentSource()).toEqual({ inpaint: null, img2img: null });
  });
});
