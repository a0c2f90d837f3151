// The source editor's state (src/state/sourceStore.ts) as the run needs it: which source image a
// new run starts from or keeps, and a hook for mask edits while a run goes on.
import type { InpaintSettings } from './engine/run/settings';
import type { SourceChoice } from './runControls';
import { useSourceStore } from './state/sourceStore';

export function currentSource(): SourceChoice {
  const { mode, pixels, mask, strength } = useSourceStore.getState();
  if (mode === 'inpaint' && pixels) return { inpaint: { pixels, mask }, img2img: null };
  if (mode === 'img2img' && pixels) return { inpaint: null, img2img: { pixels, strength } };
  return { inpaint: null, img2img: null };
}

/** Calls `onChange` with the new inpainting settings each time the mask changes. */
export function watchMask(onChange: (inpaint: InpaintSettings) => void): () => void {
  return useSourceStore.subscribe((state, previous) => {
    if (state.maskVersion === previous.maskVersion) return;
    if (state.mode === 'inpaint' && state.pixels) {
      onChange({ pixels: state.pixels, mask: state.mask });
    }
  });
}
