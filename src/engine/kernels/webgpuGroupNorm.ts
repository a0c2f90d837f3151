// act(GroupNorm(x + add)) as one WebGPU compute shader, the same kernel as group_norm.c on wasm
// (FUSED_GROUP_NORM, registered here for the 'webgpu' backend). In tfjs ops a norm is about 13
// kernels (moments over reshaped axes, the affine, SiLU), each its own dispatch; for a model this
// small, per-dispatch costs rather than arithmetic dominate on a GPU. One workgroup per (image,
// group): 64 threads stride over the group's elements, tree-reduce the sum, then the sum of
// squared deviations (two-pass, biased variance, as PyTorch), then write the output.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { checkGroupNormInputs, FUSED_GROUP_NORM } from './groupNormInputs';

const THREADS = 64;

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here (public, but not in core's types). */
interface WebGPUBackendLike {
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: tf.TensorInfo[],
    outputDtype: 'float32',
    uniforms: { type: 'int32' | 'float32'; data: number[] }[],
  ): tf.TensorInfo;
}

class GroupNormProgram implements WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly uniforms = 'groups : i32, eps : f32, silu : i32,';

  constructor(
    shape: number[],
    groups: number,
    private readonly withAdd: boolean,
  ) {
    this.variableNames = withAdd ? ['x', 'gamma', 'beta', 'addend'] : ['x', 'gamma', 'beta'];
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [shape[0] * groups, 1, 1];
    this.shaderKey = `playgroundGroupNorm_${withAdd ? 'add' : 'plain'}`;
  }

  getUserCode(): string {
    const addend = this.withAdd ? ' + getAddend(b, c)' : '';
    return `
      var<workgroup> partial : array<f32, ${THREADS}>;

      // Sum of every thread's value; all threads get it. Called in uniform control flow.
      fn workgroupSum(value : f32, tid : i32) -> f32 {
        partial[tid] = value;
        workgroupBarrier();
        for (var stride = ${THREADS / 2}; stride > 0; stride = stride >> 1) {
          if (tid < stride) {
            partial[tid] = partial[tid] + partial[tid + stride];
          }
          workgroupBarrier();
        }
        let total = partial[0];
        workgroupBarrier();
        return total;
      }

      // Element i of (image b, group g), i over positions then the group's channels.
      fn element(b : i32, g : i32, i : i32, width : i32) -> f32 {
        let w = uniforms.outShape[2];
        let p = i / width;
        let c = g * width + i % width;
        return getX(b, p / w, p % w, c)${addend};
      }

      fn main(index : i32) {
        let tid = i32(localId.x);
        let groups = uniforms.groups;
        let b = i32(workgroupId.x) / groups;
        let g = i32(workgroupId.x) % groups;
        let width = uniforms.outShape[3] / groups;
        let n = uniforms.outShape[1] * uniforms.outShape[2] * width;
        var sum = 0.0;
        for (var i = tid; i < n; i = i + ${THREADS}) {
          sum = sum + element(b, g, i, width);
        }
        let mean = workgroupSum(sum, tid) / f32(n);
        var squares = 0.0;
        for (var i = tid; i < n; i = i + ${THREADS}) {
          let d = element(b, g, i, width) - mean;
          squares = squares + d * d;
        }
        let rstd = inverseSqrt(workgroupSum(squares, tid) / f32(n) + uniforms.eps);
        let w = uniforms.outShape[2];
        for (var i = tid; i < n; i = i + ${THREADS}) {
          let p = i / width;
          let c = g * width + i % width;
          var y = (element(b, g, i, width) - mean) * rstd * getGamma(c) + getBeta(c);
          if (uniforms.silu != 0) {
            y = y / (1.0 + exp(-y));
          }
          setOutputAtCoords(b, p / w, p % w, c, y);
        }
      }
    `;
  }
}

tf.registerKernel({
  kernelName: FUSED_GROUP_NORM,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, gamma, beta, add, groups, eps, silu } = checkGroupNormInputs(inputs, attrs);
    const program = new GroupNormProgram(x.shape, groups, add !== undefined);
    return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(
      program,
      add ? [x, gamma, beta, add] : [x, gamma, beta],
      'float32',
      [
        { type: 'int32', data: [groups] },
        { type: 'float32', data: [eps] },
        { type: 'int32', data: [silu ? 1 : 0] },
      ],
    );
  },
});
