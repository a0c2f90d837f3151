// The playground's images are single-channel 28x28 (MNIST-sized); every source helper works on
// flat row-major arrays of this size.
export const IMAGE_SIZE = 28;
export const PIXEL_COUNT = IMAGE_SIZE * IMAGE_SIZE;
