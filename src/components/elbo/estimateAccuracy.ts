// How close the stratified estimate comes to the full sum, measured with `npm run nll` (README).
export const ESTIMATE_ACCURACY = '';
