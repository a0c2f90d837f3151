// The wasm backend's fused kernels. Importing this registers them with tfjs.
export { prepareWasmKernels, wasmKernelsProblem, wasmKernelsReady } from './wasmKernels';
export {
  FUSED_GROUP_NORM,
  fusedGroupNorm,
  fusedGroupNormAvailable,
  type FusedGroupNormAttrs,
} from './fusedGroupNorm';
export { FUSED_ATTENTION, fusedAttention } from './fusedAttention';
import './webgpuGroupNorm';
import './webglGroupNorm';
