/**
 * Elementwise kernels: out ← x ∘ y for the four arithmetic operations, scalar
 * shifts, clamping, the exponential, and the diagonal scalings diag(d)·A and A·diag(d) that
 * Sinkhorn-type and preconditioned methods apply every iteration.
 *
 * Outputs may alias inputs (`add(x, y, x)` is x += y).
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import { exp as detExp } from "./internal/detmath.ts"
import { scalAt } from "./internal/level1.ts"
import { wasm } from "./internal/wasm/runtime.ts"
import type { Matrix } from "./Matrix.ts"

const check3 = (operation: string, x: Float64Array, y: Float64Array, out: Float64Array): void => {
  if (y.length !== x.length)
    throw new DimensionMismatch({ operation, what: "y", expected: [x.length], actual: [y.length] })
  if (out.length !== x.length) {
    throw new DimensionMismatch({ operation, what: "out", expected: [x.length], actual: [out.length] })
  }
}

/**
 * outᵢ ← exp(xᵢ): core's engine-independent exp (the same bits on every
 * backend and engine; `Math.exp` is not specified to the last bit), two
 * lanes at a time on WebAssembly SIMD when x and out live in its memory.
 * Sinkhorn kernels exp(−C/ε) and entropic plans are formed with it.
 *
 * @throws DimensionMismatch when out and x differ in length.
 * @category kernels
 * @since 0.1.0
 */
export const exp = (x: Float64Array, out: Float64Array): void => {
  if (out.length !== x.length) {
    throw new DimensionMismatch({ operation: "exp", what: "out", expected: [x.length], actual: [out.length] })
  }
  if (wasm !== undefined && wasm.heap.contains(x) && wasm.heap.contains(out)) {
    wasm.kernels.expVector(x.length, x.byteOffset, out.byteOffset)
    return
  }
  for (let i = 0; i < x.length; i++) out[i] = detExp(x[i]!)
}

/**
 * outᵢ ← xᵢ + yᵢ.
 *
 * @category kernels
 * @since 0.1.0
 */
export const add = (x: Float64Array, y: Float64Array, out: Float64Array): void => {
  check3("add", x, y, out)
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + y[i]!
}

/**
 * outᵢ ← xᵢ − yᵢ (two lanes at a time on WebAssembly SIMD when all three
 * live in its memory: quasi-Newton methods form s = x₊ − x and y = g₊ − g
 * every iteration).
 *
 * @category kernels
 * @since 0.1.0
 */
export const sub = (x: Float64Array, y: Float64Array, out: Float64Array): void => {
  check3("sub", x, y, out)
  if (wasm !== undefined && wasm.heap.contains(x) && wasm.heap.contains(y) && wasm.heap.contains(out)) {
    wasm.kernels.subtract(x.length, x.byteOffset, y.byteOffset, out.byteOffset)
    return
  }
  for (let i = 0; i < x.length; i++) out[i] = x[i]! - y[i]!
}

/**
 * outᵢ ← xᵢ · yᵢ (Hadamard product).
 *
 * @category kernels
 * @since 0.1.0
 */
export const mul = (x: Float64Array, y: Float64Array, out: Float64Array): void => {
  check3("mul", x, y, out)
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * y[i]!
}

/**
 * outᵢ ← xᵢ / yᵢ.
 *
 * @category kernels
 * @since 0.1.0
 */
export const div = (x: Float64Array, y: Float64Array, out: Float64Array): void => {
  check3("div", x, y, out)
  for (let i = 0; i < x.length; i++) out[i] = x[i]! / y[i]!
}

/**
 * outᵢ ← xᵢ + c.
 *
 * @category kernels
 * @since 0.1.0
 */
export const addScalar = (x: Float64Array, c: number, out: Float64Array): void => {
  check3("addScalar", x, x, out)
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + c
}

/**
 * outᵢ ← min(max(xᵢ, lower), upper).
 *
 * @category kernels
 * @since 0.1.0
 */
export const clamp = (x: Float64Array, lower: number, upper: number, out: Float64Array): void => {
  check3("clamp", x, x, out)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    out[i] = v < lower ? lower : Math.min(v, upper)
  }
}

/**
 * A ← diag(d)·A in place: row i scaled by dᵢ.
 *
 * @category kernels
 * @since 0.1.0
 */
export const scaleRows = (A: Matrix, d: Float64Array): void => {
  if (d.length !== A.rows) {
    throw new DimensionMismatch({ operation: "scaleRows", what: "d", expected: [A.rows], actual: [d.length] })
  }
  for (let i = 0; i < A.rows; i++) scalAt(A.cols, d[i]!, A.data, i * A.cols)
}

/**
 * A ← A·diag(d) in place: column j scaled by dⱼ.
 *
 * @category kernels
 * @since 0.1.0
 */
export const scaleCols = (A: Matrix, d: Float64Array): void => {
  if (d.length !== A.cols) {
    throw new DimensionMismatch({ operation: "scaleCols", what: "d", expected: [A.cols], actual: [d.length] })
  }
  const { rows: m, cols: n, data: a } = A
  for (let i = 0; i < m; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) a[o + j] = a[o + j]! * d[j]!
  }
}

/**
 * out ← sI − A∘A (every entry −a²ᵢⱼ, then s added on the diagonal), or its
 * transpose (sI − A∘A)ᵀ when `transposed`: for A = W a weighted adjacency
 * matrix, the M-matrix of DAGMA's log-determinant acyclicity function
 * (Bello et al. 2022). The transpose is read by 2 × 2 blocks on the SIMD
 * backend; both backends compute the same bits. `out` must not overlap A.
 *
 * @throws DimensionMismatch when A is not square or out differs in shape.
 * @category kernels
 * @since 0.1.0
 */
export const shiftedNegativeSquare = (A: Matrix, s: number, transposed: boolean, out: Matrix): void => {
  const n = A.rows
  if (A.cols !== n) {
    throw new DimensionMismatch({
      operation: "shiftedNegativeSquare",
      what: "A",
      expected: [n, n],
      actual: [n, A.cols]
    })
  }
  if (out.rows !== n || out.cols !== n) {
    throw new DimensionMismatch({
      operation: "shiftedNegativeSquare",
      what: "out",
      expected: [n, n],
      actual: [out.rows, out.cols]
    })
  }
  const a = A.data
  const x = out.data
  if (wasm !== undefined && wasm.heap.contains(a) && wasm.heap.contains(x)) {
    wasm.kernels.shiftedNegativeSquare(n, s, a.byteOffset, transposed ? 1 : 0, x.byteOffset)
    return
  }
  if (transposed) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const w = a[j * n + i]!
        x[i * n + j] = -(w * w)
      }
    }
  } else {
    for (let k = 0; k < n * n; k++) x[k] = -(a[k]! * a[k]!)
  }
  for (let i = 0; i < n; i++) x[i * n + i] = x[i * n + i]! + s
}
