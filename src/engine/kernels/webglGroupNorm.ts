// act(GroupNorm(x + add)) on WebGL in three shader programs, the same kernel as group_norm.c on
// wasm and webgpuGroupNorm.ts (FUSED_GROUP_NORM). In tfjs ops a norm is about 13 programs plus
// reshapes, which on WebGL re-lay textures out (a quarter of the U-Net's kernel time on
// SwiftShader's WebGL was Reshape). WebGL has no workgroup memory, so: partial sums of each
// group's (shifted) values and squares in 32 chunks, so that many texels share the work; a small
// program that combines them into each group's mean and 1 / std (biased variance, as PyTorch);
// an elementwise program for the affine and SiLU. Shapes are compiled into the shader source, as
// tfjs's own programs do: one set of programs per layer shape.
import * as tf from '@tensorflow/tfjs-core';
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import { checkGroupNormInputs, FUSED_GROUP_NORM } from './groupNormInputs';

/** The parts of tfjs-backend-webgl's MathBackendWebGL used here. */
interface WebGLBackendLike {
  runWebGLProgram(program: GPGPUProgram, inputs: tf.TensorInfo[], dtype: 'float32'): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

interface Layout {
  h: number;
  w: number;
  c: number;
  groups: number;
  withAdd: boolean;
}

/** GLSL for element i of (image b, group g) of x + add, i over positions then the group's channels. */
function elementFunction({ w, c, groups, withAdd }: Layout): string {
  const width = c / groups;
  return `
    float element(int b, int g, int i) {
      int p = i / ${width};
      int ch = g * ${width} + (i - p * ${width});
      int row = p / ${w};
      return getX(b, row, p - row * ${w}, ch)${withAdd ? ' + getAddend(b, ch)' : ''};
    }`;
}

/** Chunks each group's elements are split into, so that many texels share the statistics work. */
const CHUNKS = 32;

/**
 * Per (image, group, chunk): the sum of d = (x + add) - s and of d², s the group's first element
 * (a shift that keeps float32 sums accurate whatever the activations' offset). Output
 * [B, groups * CHUNKS * 2], texel j = ((g * CHUNKS) + chunk) * 2 + (0: sum, 1: squares).
 */
function partialProgram(layout: Layout, batch: number): GPGPUProgram {
  const { h, w, c, groups } = layout;
  const n = h * w * (c / groups);
  const length = Math.ceil(n / CHUNKS);
  return {
    variableNames: layout.withAdd ? ['x', 'addend'] : ['x'],
    outputShape: [batch, groups * CHUNKS * 2],
    userCode: `
      ${elementFunction(layout)}
      void main() {
        ivec2 coords = getOutputCoords();
        int b = coords.x;
        int squared = coords.y - (coords.y / 2) * 2;
        int chunk = (coords.y / 2) - (coords.y / ${2 * CHUNKS}) * ${CHUNKS};
        int g = coords.y / ${2 * CHUNKS};
        float shift = element(b, g, 0);
        float total = 0.0;
        for (int k = 0; k < ${length}; k++) {
          int i = chunk * ${length} + k;
          if (i >= ${n}) break;
          float d = element(b, g, i) - shift;
          total += squared == 1 ? d * d : d;
        }
        setOutput(total);
      }`,
  };
}

/**
 * From the partial sums: per (image, j), the group mean for j < groups, 1 / sqrt(var + eps)
 * after, with var = E[d²] - E[d]² of the shifted values. Output [B, 2 * groups].
 */
function statsProgram(layout: Layout, batch: number, eps: number): GPGPUProgram {
  const { h, w, c, groups } = layout;
  const n = h * w * (c / groups);
  return {
    variableNames: layout.withAdd ? ['x', 'partial', 'addend'] : ['x', 'partial'],
    outputShape: [batch, 2 * groups],
    userCode: `
      ${elementFunction(layout)}
      void main() {
        ivec2 coords = getOutputCoords();
        int b = coords.x;
        int g = coords.y < ${groups} ? coords.y : coords.y - ${groups};
        float sum = 0.0;
        float squares = 0.0;
        for (int k = 0; k < ${CHUNKS}; k++) {
          sum += getPartial(b, (g * ${CHUNKS} + k) * 2);
          squares += getPartial(b, (g * ${CHUNKS} + k) * 2 + 1);
        }
        float meanShifted = sum / ${n}.0;
        if (coords.y < ${groups}) {
          setOutput(element(b, g, 0) + meanShifted);
          return;
        }
        float variance = max(squares / ${n}.0 - meanShifted * meanShifted, 0.0);
        setOutput(inversesqrt(variance + ${eps.toExponential()}));
      }`,
  };
}

function applyProgram(layout: Layout, shape: number[], silu: boolean): GPGPUProgram {
  const { c, groups, withAdd } = layout;
  return {
    variableNames: withAdd
      ? ['x', 'stats', 'gamma', 'beta', 'addend']
      : ['x', 'stats', 'gamma', 'beta'],
    outputShape: shape,
    userCode: `
      void main() {
        ivec4 coords = getOutputCoords();
        int b = coords.x;
        int ch = coords.w;
        int g = ch / ${c / groups};
        float v = getX(b, coords.y, coords.z, ch)${withAdd ? ' + getAddend(b, ch)' : ''};
        float y = (v - getStats(b, g)) * getStats(b, g + ${groups}) * getGamma(ch) + getBeta(ch);
        ${silu ? 'y = y / (1.0 + exp(-y));' : ''}
        setOutput(y);
      }`,
  };
}

tf.registerKernel({
  kernelName: FUSED_GROUP_NORM,
  backendName: 'webgl',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, gamma, beta, add, groups, eps, silu } = checkGroupNormInputs(inputs, attrs);
    const webgl = backend as unknown as WebGLBackendLike;
    const [b, h, w, c] = x.shape;
    const layout: Layout = { h, w, c, groups, withAdd: add !== undefined };
    const extra = add ? [add] : [];
    const partial = webgl.runWebGLProgram(partialProgram(layout, b), [x, ...extra], 'float32');
    let stats: tf.TensorInfo;
    try {
      stats = webgl.runWebGLProgram(
        statsProgram(layout, b, eps),
        [x, partial, ...extra],
        'float32',
      );
    } finally {
      webgl.disposeIntermediateTensorInfo(partial);
    }
    try {
      return webgl.runWebGLProgram(
        applyProgram(layout, x.shape, silu),
        [x, stats, gamma, beta, ...extra],
        'float32',
      );
    } finally {
      webgl.disposeIntermediateTensorInfo(stats);
    }
  },
});
