// Ties the outpainting store to the page URL: the canvas the URL names on load (a known image
// that would not fit is moved onto the canvas, with a message), and the URL rewritten whenever
// the canvas or the placement changes, so a link reproduces an outpainting run.
import type { UrlSettings } from '../urlSettings';
import { DEFAULT_CANVAS, useOutpaintStore } from './outpaintStore';
import { urlWithCanvas } from './outpaintUrl';

export function linkCanvasToUrl(url: UrlSettings, warn: (message: string) => void): void {
  const store = useOutpaintStore.getState();
  if (url.canvas) store.setCanvasSize(url.canvas);
  if (url.offset) {
    store.setOffset(url.offset);
    const { offsetX, offsetY } = useOutpaintStore.getState().canvas;
    if (offsetX !== url.offset.x || offsetY !== url.offset.y) {
      warn(
        `Moved offset=${url.offset.x},${url.offset.y} from the URL to ${offsetX},${offsetY}: ` +
          'the known image has to fit on the canvas.',
      );
    }
  }
  useOutpaintStore.subscribe((state, previous) => {
    if (state.canvas === previous.canvas) return;
    window.history.replaceState(
      null,
      '',
      urlWithCanvas(window.location.href, state.canvas, DEFAULT_CANVAS),
    );
  });
}
