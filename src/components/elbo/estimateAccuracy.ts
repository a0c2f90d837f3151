// How close the stratified estimate comes to the full sum, measured with `npm run nll` on the
// shipped MNIST model (6 test images, 10 draws per K; README, "The ELBO in bits per dimension").
export const ESTIMATE_ACCURACY =
  'Measured on MNIST test images: K = 50 lands within 0.04 bits/dim (2.5%, rms) of the full ' +
  '999-term sum, K = 10 within 0.09 (5%), with no bias; the full sum itself varies by about ' +
  '0.04 between noise draws.';
