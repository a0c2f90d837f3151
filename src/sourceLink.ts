// The source editor's state (src/state/sourceStore.ts) as the run needs it: which source image a
// new run starts from or keeps, and a hook for mask edits while a run goes on. It also keeps the
// editor at the loaded model's geometry (28x28 grey, 32x32 colour), and converts what it hands
// a run when the two differ for a moment (a source made for the previous model mid-switch), so
// the worker never gets pixels or a mask of the wrong size.
import type { InpaintSettings } from './engine/run/settings';
import type { SourceChoice } from './runControls';
import { convertMask, convertPixels } from './source/convert';
import { geometryOfModel, sameGeometry, type SourceGeometry } from './source/geometry';
import { useSourceStore } from './state/sourceStore';
import { useAppStore } from './store';

/** The geometry the loaded model takes; the editor's own while no model is loaded. */
function modelGeometry(): SourceGeometry {
  return geometryOfModel(useAppStore.getState().model, useSourceStore.getState().geometry);
}

/** Source pixels and mask at `to`, converted when the editor's geometry is another. */
function atGeometry(
  pixels: Float32Array,
  mask: Float32Array,
  from: SourceGeometry,
  to: SourceGeometry,
): { pixels: Float32Array; mask: Float32Array } {
  if (sameGeometry(from, to)) return { pixels, mask };
  return { pixels: convertPixels(pixels, from, to), mask: convertMask(mask, from, to) };
}

export function currentSource(): SourceChoice {
  const { mode, pixels, mask, strength, geometry } = useSourceStore.getState();
  if (!pixels || mode === 'none') return { inpaint: null, img2img: null };
  const fitted = atGeometry(pixels, mask, geometry, modelGeometry());
  if (mode === 'inpaint') return { inpaint: fitted, img2img: null };
  return { inpaint: null, img2img: { pixels: fitted.pixels, strength } };
}

/** Calls `onChange` with the new inpainting settings each time the mask changes. */
export function watchMask(onChange: (inpaint: InpaintSettings) => void): () => void {
  return useSourceStore.subscribe((state, previous) => {
    if (state.maskVersion === previous.maskVersion) return;
    if (state.mode === 'inpaint' && state.pixels) {
      onChange(atGeometry(state.pixels, state.mask, state.geometry, modelGeometry()));
    }
  });
}

/** Keeps the editor at the loaded model's geometry: a new model converts the source and mask. */
export function followModelGeometry(): () => void {
  const follow = () => {
    const { model } = useAppStore.getState();
    if (model) useSourceStore.getState().setGeometry(geometryOfModel(model));
  };
  follow();
  return useAppStore.subscribe((state, previous) => {
    if (state.model !== previous.model) follow();
  });
}

followModelGeometry();
