// The class models' images are single-channel 28x28 (MNIST-sized). A source follows the loaded
// model's geometry (geometry.ts: 28x28 grey or 32x32 colour); these are that default, and the
// size of data saved before the geometry was recorded.
export const IMAGE_SIZE = 28;
export const PIXEL_COUNT = IMAGE_SIZE * IMAGE_SIZE;
