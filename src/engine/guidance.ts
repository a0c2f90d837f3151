// Classifier-free guidance's batch rule, without tfjs: the UI imports it, and tfjs-core must not
// load on the page (it reads its flags from the page's URL and throws on a malformed one).

/** The model batch a guided call takes for `images` images (see denoiser.ts guidedModelOutput). */
export function guidedBatchSize(images: number, guidanceScale: number): number {
  return guidanceScale === 0 || guidanceScale === 1 ? images : 2 * images;
}
