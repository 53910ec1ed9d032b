/**
 * Differentiable arrays: `Tensor` values of rank 0, 1 or 2 and the operations
 * that `Autodiff` can differentiate.
 *
 * Write a function with these operations and `Autodiff.grad`, `hvp`, `jvp`, …
 * differentiate it exactly. Every operation works on plain and traced tensors
 * alike; arguments may be tensors, numbers, `Float64Array`s (vectors) or
 * `Matrix` records (matrices), and binary operations broadcast as in NumPy.
 * Forward passes run on core's kernels (gemm, gemv, dot, the SIMD exp).
 *
 * Points where an operation is not differentiable take the convention of JAX:
 * relu′(0) = 0, |x|′ at 0 = 0 (sign(0) = 0), max/min and maximum/minimum
 * split the cotangent equally between ties, sqrt′(0) = +∞, norm′(0) = 0.
 *
 * @since 0.1.0
 */
import * as Blas1 from "./Blas1.ts"
import * as Blas2 from "./Blas2.ts"
import * as Blas3 from "./Blas3.ts"
import { DimensionMismatch } from "./Errors.ts"
import { allocateFloat64 } from "./internal/allocate.ts"
import {
  plain as plainTensor,
  primitive,
  type Shape,
  sizeOf,
  Tensor,
  type VjpRule,
  zerosOf
} from "./internal/autodiff/engine.ts"
import { exp as detExp, log as detLog, log1p as detLog1p } from "./internal/detmath.ts"
import { wasm } from "./internal/wasm/runtime.ts"
import type { Matrix } from "./Matrix.ts"

export type { Shape }
export { Tensor }

/**
 * What the operations accept: a tensor, a number (rank 0), a `Float64Array`
 * (rank 1, shared, not copied) or a `Matrix` (rank 2, shared).
 *
 * @category models
 * @since 0.1.0
 */
export type TensorLike = Tensor | number | Float64Array | Matrix

// ── constructors ──────────────────────────────────────────────────────────

/**
 * A tensor from a number, vector or matrix (arrays are shared, not copied).
 *
 * @category constructors
 * @since 0.1.0
 */
export const from = (x: TensorLike): Tensor => {
  if (x instanceof Tensor) return x
  if (typeof x === "number") {
    const d = allocateFloat64(1)
    d[0] = x
    return plainTensor([], d)
  }
  if (x instanceof Float64Array) return plainTensor([x.length], x)
  if (x.data.length !== x.rows * x.cols) {
    throw new DimensionMismatch({
      operation: "Tensor.from",
      what: "data",
      expected: [x.rows * x.cols],
      actual: [x.data.length]
    })
  }
  return plainTensor([x.rows, x.cols], x.data)
}

/**
 * A scalar tensor.
 *
 * @category constructors
 * @since 0.1.0
 */
export const scalar = (value: number): Tensor => from(value)

/**
 * A tensor of the given shape filled with `value`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const full = (shape: Shape, value: number): Tensor => {
  const t = zerosOf(shape)
  if (value !== 0) t.data.fill(value)
  return t
}

/**
 * A tensor of zeros.
 *
 * @category constructors
 * @since 0.1.0
 */
export const zeros = (shape: Shape): Tensor => zerosOf(shape)

/**
 * A tensor of ones.
 *
 * @category constructors
 * @since 0.1.0
 */
export const ones = (shape: Shape): Tensor => full(shape, 1)

/**
 * The values of a (possibly traced) tensor as a plain `Matrix` (rank 2), a
 * vector (rank 1) or a number (rank 0), copied.
 *
 * @category conversions
 * @since 0.1.0
 */
export const toValue = (x: Tensor): number | Float64Array | Matrix => {
  if (x.shape.length === 0) return x.data[0]!
  const d = allocateFloat64(x.data.length)
  d.set(x.data)
  return x.shape.length === 1 ? d : { rows: x.shape[0]!, cols: x.shape[1]!, data: d }
}

const out = (shape: Shape): Tensor => zerosOf(shape)
const same = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])
const shapeText = (s: Shape): number[] => [...s]

// ── broadcasting ──────────────────────────────────────────────────────────

/**
 * The NumPy broadcast of two shapes of rank ≤ 2.
 *
 * @throws DimensionMismatch when they do not broadcast.
 * @category shapes
 * @since 0.1.0
 */
export const broadcastShapes = (operation: string, a: Shape, b: Shape): Shape => {
  const rank = Math.max(a.length, b.length)
  const result: number[] = []
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k] ?? 1
    const db = b[b.length - rank + k] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new DimensionMismatch({
        operation,
        what: "second operand",
        expected: shapeText(a),
        actual: shapeText(b)
      })
    }
    result.push(da === 1 ? db : da)
  }
  return result
}

/** Copies plain `x` broadcast to `shape` (row-major). */
const broadcastRaw = (x: Tensor, shape: Shape): Tensor => {
  if (same(x.shape, shape)) return x
  const o = out(shape)
  const rows = shape.length === 2 ? shape[0]! : 1
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1]!
  const xr = x.shape.length === 2 ? x.shape[0]! : 1
  const xc = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1]!
  const rs = xr === 1 ? 0 : xc
  const cs = xc === 1 ? 0 : 1
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) o.data[i * cols + j] = x.data[i * rs + j * cs]!
  return o
}

/** Sums plain `x` down to `shape` (the transpose of broadcasting). */
const sumToRaw = (x: Tensor, shape: Shape): Tensor => {
  if (same(x.shape, shape)) return x
  const o = out(shape)
  const rows = x.shape.length === 2 ? x.shape[0]! : 1
  const cols = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1]!
  const orr = shape.length === 2 ? shape[0]! : 1
  const oc = shape.length === 0 ? 1 : shape[shape.length - 1]!
  const rs = orr === 1 ? 0 : oc
  const cs = oc === 1 ? 0 : 1
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) o.data[i * rs + j * cs] += x.data[i * cols + j]!
  return o
}

const broadcastToP = primitive(
  ([x, s]) => broadcastRaw(x!, s!.shape),
  [(g, _ans, [x]) => sumTo(g, x!.shape), undefined]
)
const sumToP = primitive(
  ([x, s]) => sumToRaw(x!, s!.shape),
  [(g, _ans, [x]) => broadcastTo(g, x!.shape), undefined]
)
// A shape is passed to primitives as an empty tensor of that shape.
const shapeToken = (shape: Shape): Tensor => new Tensor(shape, EMPTY)
const EMPTY = new Float64Array(0)

/**
 * `x` broadcast to `shape`.
 *
 * @category operations
 * @since 0.1.0
 */
export const broadcastTo = (x: TensorLike, shape: Shape): Tensor => {
  const t = from(x)
  if (same(t.shape, shape)) return t
  broadcastShapes("broadcastTo", t.shape, shape)
  return broadcastToP([t, shapeToken(shape)])
}

/**
 * `x` summed down to `shape` (undoes a broadcast).
 *
 * @category operations
 * @since 0.1.0
 */
export const sumTo = (x: TensorLike, shape: Shape): Tensor => {
  const t = from(x)
  return same(t.shape, shape) ? t : sumToP([t, shapeToken(shape)])
}

// ── elementwise binary operations ─────────────────────────────────────────

const Bin = { Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Max: 5, Min: 6 } as const
type Bin = (typeof Bin)[keyof typeof Bin]

/** The elementwise loop of one binary operation over equal-length arrays (b may be a scalar). */
const binaryLoop = (op: Bin, a: Float64Array, b: Float64Array, o: Float64Array, bScalar: boolean): void => {
  const n = o.length
  const s = b[0]!
  switch (op) {
    case Bin.Add:
      if (bScalar) for (let i = 0; i < n; i++) o[i] = a[i]! + s
      else for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]!
      return
    case Bin.Sub:
      if (bScalar) for (let i = 0; i < n; i++) o[i] = a[i]! - s
      else for (let i = 0; i < n; i++) o[i] = a[i]! - b[i]!
      return
    case Bin.Mul:
      if (bScalar) for (let i = 0; i < n; i++) o[i] = a[i]! * s
      else for (let i = 0; i < n; i++) o[i] = a[i]! * b[i]!
      return
    case Bin.Div:
      if (bScalar) for (let i = 0; i < n; i++) o[i] = a[i]! / s
      else for (let i = 0; i < n; i++) o[i] = a[i]! / b[i]!
      return
    case Bin.Pow:
      for (let i = 0; i < n; i++) o[i] = a[i]! ** (bScalar ? s : b[i]!)
      return
    case Bin.Max:
      for (let i = 0; i < n; i++) o[i] = Math.max(a[i]!, bScalar ? s : b[i]!)
      return
    case Bin.Min:
      for (let i = 0; i < n; i++) o[i] = Math.min(a[i]!, bScalar ? s : b[i]!)
      return
  }
}

const binaryForward =
  (op: Bin, name: string) =>
  ([a, b]: ReadonlyArray<Tensor>): Tensor => {
    const shape = broadcastShapes(name, a!.shape, b!.shape)
    const o = out(shape)
    if (b!.size === 1 && same(a!.shape, shape)) binaryLoop(op, a!.data, b!.data, o.data, true)
    else if (a!.size === 1 && same(b!.shape, shape) && (op === Bin.Add || op === Bin.Mul)) {
      binaryLoop(op, b!.data, a!.data, o.data, true)
    } else {
      binaryLoop(op, broadcastRaw(a!, shape).data, broadcastRaw(b!, shape).data, o.data, false)
    }
    return o
  }

const addP = primitive(binaryForward(Bin.Add, "add"), [
  (g, _ans, [a]) => sumTo(g, a!.shape),
  (g, _ans, [, b]) => sumTo(g, b!.shape)
])
const subP = primitive(binaryForward(Bin.Sub, "sub"), [
  (g, _ans, [a]) => sumTo(g, a!.shape),
  (g, _ans, [, b]) => sumTo(neg(g), b!.shape)
])
const mulP = primitive(binaryForward(Bin.Mul, "mul"), [
  (g, _ans, [a, b]) => sumTo(mul(g, b!), a!.shape),
  (g, _ans, [a, b]) => sumTo(mul(g, a!), b!.shape)
])
const divP = primitive(binaryForward(Bin.Div, "div"), [
  (g, _ans, [a, b]) => sumTo(div(g, b!), a!.shape),
  (g, ans, [, b]) => sumTo(neg(div(mul(g, ans), b!)), b!.shape)
])
const powP = primitive(binaryForward(Bin.Pow, "pow"), [
  // d/da a^b = b·a^(b−1); with b = 0 the derivative is 0 even at a = 0 (the
  // exponent is taken as 0 there, so that 0·0^(−1) = 0·∞ does not give NaN).
  (g, _ans, [a, b]) => sumTo(mul(g, mul(b!, powNoGrad(a!, sub(b!, sub(1, bothZero(a!, b!)))))), a!.shape),
  // d/db a^b = a^b·log a (taken as 0 where a = 0, as JAX does).
  (g, ans, [a, b]) => sumTo(mul(g, mul(ans, logOrZero(a!))), b!.shape)
])
/** maximum′ sends the cotangent to the larger argument, half to each on ties (as JAX). */
const balanced = (a: Tensor, b: Tensor, pick: typeof Bin.Max | typeof Bin.Min): Tensor => {
  const shape = broadcastShapes("maximum", a.shape, b.shape)
  const A = broadcastRaw(rawOf(a), shape).data
  const B = broadcastRaw(rawOf(b), shape).data
  const w = out(shape)
  for (let i = 0; i < w.data.length; i++) {
    const x = A[i]!
    const y = B[i]!
    w.data[i] = x === y ? 0.5 : (pick === Bin.Max ? x > y : x < y) ? 1 : 0
  }
  return w
}
const maximumP = primitive(binaryForward(Bin.Max, "maximum"), [
  (g, _ans, [a, b]) => sumTo(mul(g, balanced(a!, b!, Bin.Max)), a!.shape),
  (g, _ans, [a, b]) => sumTo(mul(g, balanced(b!, a!, Bin.Max)), b!.shape)
])
const minimumP = primitive(binaryForward(Bin.Min, "minimum"), [
  (g, _ans, [a, b]) => sumTo(mul(g, balanced(a!, b!, Bin.Min)), a!.shape),
  (g, _ans, [a, b]) => sumTo(mul(g, balanced(b!, a!, Bin.Min)), b!.shape)
])

/** The plain values under any number of traces (for masks that are not differentiated). */
const rawOf = (x: Tensor): Tensor => {
  let t = x
  while (t.trace !== 0) t = t.primal!
  return t
}

/**
 * a + b (broadcasting).
 *
 * @category operations
 * @since 0.1.0
 */
export const add = (a: TensorLike, b: TensorLike): Tensor => addP([from(a), from(b)])
/**
 * a − b (broadcasting).
 *
 * @category operations
 * @since 0.1.0
 */
export const sub = (a: TensorLike, b: TensorLike): Tensor => subP([from(a), from(b)])
/**
 * a · b elementwise (broadcasting).
 *
 * @category operations
 * @since 0.1.0
 */
export const mul = (a: TensorLike, b: TensorLike): Tensor => mulP([from(a), from(b)])
/**
 * a / b elementwise (broadcasting).
 *
 * @category operations
 * @since 0.1.0
 */
export const div = (a: TensorLike, b: TensorLike): Tensor => divP([from(a), from(b)])
/**
 * a^b elementwise (broadcasting); differentiable in both arguments.
 *
 * @category operations
 * @since 0.1.0
 */
export const pow = (a: TensorLike, b: TensorLike): Tensor => powP([from(a), from(b)])
/**
 * Elementwise maximum (broadcasting); ties split the cotangent equally.
 *
 * @category operations
 * @since 0.1.0
 */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => maximumP([from(a), from(b)])
/**
 * Elementwise minimum (broadcasting); ties split the cotangent equally.
 *
 * @category operations
 * @since 0.1.0
 */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => minimumP([from(a), from(b)])

// ── elementwise unary operations ──────────────────────────────────────────

const unary = (f: (x: Float64Array, o: Float64Array) => void, rule: VjpRule): ((x: TensorLike) => Tensor) => {
  const p = primitive(
    ([x]) => {
      const o = out(x!.shape)
      f(x!.data, o.data)
      return o
    },
    [rule]
  )
  return (x) => p([from(x)])
}

/** o ← exp(x) with the SIMD kernel when both live in WebAssembly memory (the same bits as `detExp`). */
const simdExp = (x: Float64Array, o: Float64Array): boolean => {
  if (wasm === undefined || !wasm.heap.contains(x) || !wasm.heap.contains(o)) return false
  wasm.kernels.expVector(x.length, x.byteOffset, o.byteOffset)
  return true
}

/**
 * −x.
 *
 * @category operations
 * @since 0.1.0
 */
export const neg: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = -x[i]!
  },
  (g) => neg(g)
)
/**
 * eˣ (core's engine-independent exp).
 *
 * @category operations
 * @since 0.1.0
 */
export const exp: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    if (simdExp(x, o)) return
    for (let i = 0; i < x.length; i++) o[i] = detExp(x[i]!)
  },
  (g, ans) => mul(g, ans)
)
/**
 * Natural logarithm (core's engine-independent log).
 *
 * @category operations
 * @since 0.1.0
 */
export const log: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = detLog(x[i]!)
  },
  (g, _ans, [x]) => div(g, x!)
)
/**
 * log(1 + x), accurate for small x.
 *
 * @category operations
 * @since 0.1.0
 */
export const log1p: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = detLog1p(x[i]!)
  },
  (g, _ans, [x]) => div(g, add(x!, 1))
)
/**
 * eˣ − 1, accurate for small x.
 *
 * @category operations
 * @since 0.1.0
 */
export const expm1: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.expm1(x[i]!)
  },
  (g, ans) => mul(g, add(ans, 1))
)
/**
 * √x (derivative +∞ at 0).
 *
 * @category operations
 * @since 0.1.0
 */
export const sqrt: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]!)
  },
  (g, ans) => div(mul(g, 0.5), ans)
)
/**
 * |x| (derivative sign(x), 0 at 0).
 *
 * @category operations
 * @since 0.1.0
 */
export const abs: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]!)
  },
  (g, _ans, [x]) => mul(g, sign(x!))
)
/**
 * sin x.
 *
 * @category operations
 * @since 0.1.0
 */
export const sin: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.sin(x[i]!)
  },
  (g, _ans, [x]) => mul(g, cos(x!))
)
/**
 * cos x.
 *
 * @category operations
 * @since 0.1.0
 */
export const cos: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.cos(x[i]!)
  },
  (g, _ans, [x]) => neg(mul(g, sin(x!)))
)
/**
 * tanh x.
 *
 * @category operations
 * @since 0.1.0
 */
export const tanh: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.tanh(x[i]!)
  },
  (g, ans) => mul(g, sub(1, mul(ans, ans)))
)
/**
 * The logistic sigmoid 1/(1 + e^(−x)), computed without overflow.
 *
 * @category operations
 * @since 0.1.0
 */
export const sigmoid: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!
      if (v >= 0) o[i] = 1 / (1 + detExp(-v))
      else {
        const e = detExp(v)
        o[i] = e / (1 + e)
      }
    }
  },
  (g, ans) => mul(g, mul(ans, sub(1, ans)))
)
/**
 * softplus(x) = log(1 + eˣ), computed without overflow.
 *
 * @category operations
 * @since 0.1.0
 */
export const softplus: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    // o ← −|x|, then e^(−|x|) (SIMD when resident), then max(x, 0) + log1p(·).
    for (let i = 0; i < x.length; i++) o[i] = -Math.abs(x[i]!)
    if (!simdExp(o, o)) for (let i = 0; i < x.length; i++) o[i] = detExp(o[i]!)
    for (let i = 0; i < x.length; i++) o[i] = Math.max(x[i]!, 0) + detLog1p(o[i]!)
  },
  (g, _ans, [x]) => mul(g, sigmoid(x!))
)
/**
 * max(x, 0) (derivative 0 at 0).
 *
 * @category operations
 * @since 0.1.0
 */
export const relu: (x: TensorLike) => Tensor = unary(
  (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.max(x[i]!, 0)
  },
  (g, _ans, [x]) => mul(g, step(x!))
)

/** Constant (non-differentiated) masks and signs. */
const constant = (x: Tensor, f: (v: number) => number): Tensor => {
  const r = rawOf(x)
  const o = out(r.shape)
  for (let i = 0; i < r.data.length; i++) o.data[i] = f(r.data[i]!)
  return o
}
/**
 * sign(x) ∈ {−1, 0, 1} (constant: not differentiated).
 *
 * @category operations
 * @since 0.1.0
 */
export const sign = (x: TensorLike): Tensor => constant(from(x), (v) => (v > 0 ? 1 : v < 0 ? -1 : v))
/** 1 where x > 0, else 0 (constant). */
const step = (x: Tensor): Tensor => constant(x, (v) => (v > 0 ? 1 : 0))
/** a^b without a derivative in its own right (used inside pow's rule, where it is differentiated as pow). */
const powNoGrad = (a: Tensor, b: Tensor): Tensor => pow(a, b)
/** 1 where a = 0 and b = 0, else 0 (constant, broadcast). */
const bothZero = (a: Tensor, b: Tensor): Tensor =>
  mul(
    constant(a, (v) => (v === 0 ? 1 : 0)),
    constant(b, (v) => (v === 0 ? 1 : 0))
  )
/** log a, with log 0 taken as 0 (pow's exponent derivative at a = 0, as JAX). */
const logOrZero = (a: Tensor): Tensor => {
  const zeroMask = constant(a, (v) => (v === 0 ? 1 : 0))
  return log(add(a, zeroMask))
}

/**
 * where(condition, a, b): a where condition ≠ 0, else b (broadcasting; the
 * condition is not differentiated).
 *
 * @category operations
 * @since 0.1.0
 */
export const where = (condition: TensorLike, a: TensorLike, b: TensorLike): Tensor =>
  whereP([constant(from(condition), (v) => (v !== 0 ? 1 : 0)), from(a), from(b)])
// A selection, not c·a + (1 − c)·b: a NaN or ±∞ in the branch not taken must not
// reach the result (0·∞ = NaN).
const whereP = primitive(
  ([c, a, b]) => {
    const shape = broadcastShapes("where", broadcastShapes("where", c!.shape, a!.shape), b!.shape)
    const C = broadcastRaw(c!, shape).data
    const A = broadcastRaw(a!, shape).data
    const B = broadcastRaw(b!, shape).data
    const o = out(shape)
    for (let i = 0; i < o.data.length; i++) o.data[i] = C[i] !== 0 ? A[i]! : B[i]!
    return o
  },
  [
    undefined,
    (g, _ans, [c, a]) => sumTo(where(c!, g, 0), a!.shape),
    (g, _ans, [c, , b]) => sumTo(where(c!, 0, g), b!.shape)
  ]
)

// ── reductions ────────────────────────────────────────────────────────────

/** Axis of a reduction: undefined reduces everything to a scalar. */
export type Axis = 0 | 1 | undefined

const reducedShape = (operation: string, shape: Shape, axis: Axis): Shape => {
  if (axis === undefined) return []
  if (axis >= shape.length) {
    throw new DimensionMismatch({
      operation,
      what: `axis ${axis} of x`,
      expected: [axis + 1],
      actual: [shape.length]
    })
  }
  return shape.filter((_, k) => k !== axis)
}
/** The shape of a reduction with the reduced axis kept as 1 (to broadcast back). */
const keptShape = (shape: Shape, axis: Axis): Shape =>
  axis === undefined ? shape.map(() => 1) : shape.map((d, k) => (k === axis ? 1 : d))

const sumRaw = (x: Tensor, axis: Axis): Tensor => {
  const shape = reducedShape("sum", x.shape, axis)
  const o = out(shape)
  if (axis === undefined) {
    o.data[0] = sumAll(x.data)
  } else if (x.shape.length === 1) {
    o.data[0] = sumAll(x.data)
  } else {
    const m = x.shape[0]!
    const n = x.shape[1]!
    if (axis === 1) for (let i = 0; i < m; i++) o.data[i] = sumRange(x.data, i * n, n)
    else for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) o.data[j] += x.data[i * n + j]!
  }
  return o
}
const sumAll = (x: Float64Array): number => sumRange(x, 0, x.length)
const sumRange = (x: Float64Array, o: number, n: number): number => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let i = 0
  for (; i + 4 <= n; i += 4) {
    s0 += x[o + i]!
    s1 += x[o + i + 1]!
    s2 += x[o + i + 2]!
    s3 += x[o + i + 3]!
  }
  let s = s0 + s1 + (s2 + s3)
  for (; i < n; i++) s += x[o + i]!
  return s
}
const sumP = primitive(
  ([x, a]) => sumRaw(x!, axisOf(a!)),
  [(g, _ans, [x, a]) => broadcastTo(reshape(g, keptShape(x!.shape, axisOf(a!))), x!.shape), undefined]
)
const axisToken = (axis: Axis): Tensor => new Tensor([axis === undefined ? -1 : axis], EMPTY)
const axisOf = (t: Tensor): Axis => (t.shape[0] === -1 ? undefined : (t.shape[0] as 0 | 1))

/**
 * Sum of all entries, or along an axis (0: down the rows, 1: along each row).
 *
 * @category operations
 * @since 0.1.0
 */
export const sum = (x: TensorLike, axis?: Axis): Tensor => sumP([from(x), axisToken(axis)])

/**
 * Mean of all entries, or along an axis.
 *
 * @category operations
 * @since 0.1.0
 */
export const mean = (x: TensorLike, axis?: Axis): Tensor => {
  const t = from(x)
  const count = axis === undefined ? t.size : t.shape[axis]!
  return div(sum(t, axis), count)
}

const maxRaw = (x: Tensor, axis: Axis): Tensor => {
  const shape = reducedShape("max", x.shape, axis)
  const o = out(shape)
  o.data.fill(Number.NEGATIVE_INFINITY)
  if (axis === undefined || x.shape.length === 1) {
    let m = Number.NEGATIVE_INFINITY
    for (let i = 0; i < x.data.length; i++) m = Math.max(m, x.data[i]!)
    o.data[0] = m
  } else {
    const m = x.shape[0]!
    const n = x.shape[1]!
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const k = axis === 1 ? i : j
        o.data[k] = Math.max(o.data[k]!, x.data[i * n + j]!)
      }
    }
  }
  return o
}
const maxP = primitive(
  ([x, a]) => maxRaw(x!, axisOf(a!)),
  [
    (g, ans, [x, a]) => {
      // Equal shares of the cotangent for every entry equal to the maximum.
      const axis = axisOf(a!)
      const kept = keptShape(x!.shape, axis)
      const hits = constant(sub(x!, broadcastTo(reshape(ans, kept), x!.shape)), (v) => (v === 0 ? 1 : 0))
      const counts = sumRaw(hits, axis)
      return mul(hits, broadcastTo(reshape(div(g, counts), kept), x!.shape))
    },
    undefined
  ]
)

/**
 * Maximum of all entries, or along an axis (ties share the cotangent).
 *
 * @category operations
 * @since 0.1.0
 */
export const max = (x: TensorLike, axis?: Axis): Tensor => maxP([from(x), axisToken(axis)])

/**
 * Minimum of all entries, or along an axis.
 *
 * @category operations
 * @since 0.1.0
 */
export const min = (x: TensorLike, axis?: Axis): Tensor => neg(max(neg(x), axis))

/**
 * log Σ exp(x), stable, over all entries or along an axis; its derivative is softmax.
 *
 * @category operations
 * @since 0.1.0
 */
export const logSumExp = (x: TensorLike, axis?: Axis): Tensor => {
  const t = from(x)
  // The shift is a constant: the result does not depend on it.
  const m = constant(max(t, axis), (v) => (Number.isFinite(v) ? v : 0))
  const kept = keptShape(t.shape, axis)
  const shifted = sub(t, broadcastTo(reshape(m, kept), t.shape))
  return add(log(sum(exp(shifted), axis)), m)
}

/**
 * softmax along an axis (or over all entries): exp(x − logSumExp(x)).
 *
 * @category operations
 * @since 0.1.0
 */
export const softmax = (x: TensorLike, axis?: Axis): Tensor => {
  const t = from(x)
  const lse = logSumExp(t, axis)
  return exp(sub(t, broadcastTo(reshape(lse, keptShape(t.shape, axis)), t.shape)))
}

// ── shapes ────────────────────────────────────────────────────────────────

const reshapeP = primitive(
  ([x, s]) => plainTensor(s!.shape, x!.data),
  [(g, _ans, [x]) => reshape(g, x!.shape), undefined]
)

/**
 * The same entries with another shape of equal size (shares storage when plain).
 *
 * @throws DimensionMismatch when the sizes differ.
 * @category operations
 * @since 0.1.0
 */
export const reshape = (x: TensorLike, shape: Shape): Tensor => {
  const t = from(x)
  if (sizeOf(shape) !== t.size) {
    throw new DimensionMismatch({
      operation: "reshape",
      what: "shape",
      expected: shapeText(t.shape),
      actual: shapeText(shape)
    })
  }
  return same(t.shape, shape) ? t : reshapeP([t, shapeToken(shape)])
}

const transposeRaw = (x: Tensor): Tensor => {
  if (x.shape.length < 2) return x
  const m = x.shape[0]!
  const n = x.shape[1]!
  const o = out([n, m])
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) o.data[j * m + i] = x.data[i * n + j]!
  return o
}
const transposeP = primitive(([x]) => transposeRaw(x!), [(g) => transpose(g)])

/**
 * The transpose of a matrix (vectors and scalars are returned unchanged).
 *
 * @category operations
 * @since 0.1.0
 */
export const transpose = (x: TensorLike): Tensor => {
  const t = from(x)
  return t.shape.length < 2 ? t : transposeP([t])
}

// ── linear algebra ────────────────────────────────────────────────────────

const asMatrix = (t: Tensor): Matrix => ({ rows: t.shape[0]!, cols: t.shape[1]!, data: t.data })

const matmulRaw = (a: Tensor, b: Tensor): Tensor => {
  const ra = a.shape.length
  const rb = b.shape.length
  const inner = ra === 2 ? a.shape[1]! : a.shape[0]!
  const innerB = b.shape[0]!
  if (ra === 0) {
    // A scalar has no inner dimension: a vector of b's inner length would do.
    throw new DimensionMismatch({ operation: "matmul", what: "a", expected: [b.shape[0] ?? 1], actual: [] })
  }
  if (rb === 0 || inner !== innerB) {
    throw new DimensionMismatch({
      operation: "matmul",
      what: "b",
      expected: [inner, ...b.shape.slice(1)],
      actual: shapeText(b.shape)
    })
  }
  if (ra === 1 && rb === 1) {
    const o = out([])
    o.data[0] = Blas1.dot(a.data, b.data)
    return o
  }
  if (ra === 2 && rb === 1) {
    const o = out([a.shape[0]!])
    Blas2.gemv(1, asMatrix(a), b.data, 0, o.data)
    return o
  }
  if (ra === 1 && rb === 2) {
    const o = out([b.shape[1]!])
    Blas2.gemvT(1, asMatrix(b), a.data, 0, o.data)
    return o
  }
  const o = out([a.shape[0]!, b.shape[1]!])
  Blas3.gemm(false, false, 1, asMatrix(a), asMatrix(b), 0, asMatrix(o))
  return o
}
const matmulP = primitive(
  ([a, b]) => matmulRaw(a!, b!),
  [
    (g, _ans, [a, b]) => {
      // d/dA (A·B) applied to G: G·Bᵀ (outer products for vector cases).
      if (a!.shape.length === 1) return b!.shape.length === 1 ? mul(g, b!) : matmul(b!, g)
      return b!.shape.length === 1 ? outer(g, b!) : matmul(g, transpose(b!))
    },
    (g, _ans, [a, b]) => {
      if (b!.shape.length === 1) return a!.shape.length === 1 ? mul(g, a!) : matmul(g, a!)
      return a!.shape.length === 1 ? outer(a!, g) : matmul(transpose(a!), g)
    }
  ]
)

/**
 * Matrix product with NumPy's rules for vectors: matrix·matrix (gemm),
 * matrix·vector (gemv), vector·matrix (gemvT), vector·vector (dot).
 *
 * @throws DimensionMismatch when the inner dimensions differ.
 * @category operations
 * @since 0.1.0
 */
export const matmul = (a: TensorLike, b: TensorLike): Tensor => matmulP([from(a), from(b)])

/**
 * The inner product of two vectors.
 *
 * @category operations
 * @since 0.1.0
 */
export const dot = (a: TensorLike, b: TensorLike): Tensor => {
  const ta = from(a)
  const tb = from(b)
  // Blame the operand that is not a vector (or b, for unequal lengths); expect a vector as long as the other.
  if (ta.shape.length !== 1) {
    throw new DimensionMismatch({
      operation: "dot",
      what: "a",
      expected: [tb.shape.length === 1 ? tb.size : ta.size],
      actual: shapeText(ta.shape)
    })
  }
  if (tb.shape.length !== 1 || tb.size !== ta.size) {
    throw new DimensionMismatch({
      operation: "dot",
      what: "b",
      expected: [ta.size],
      actual: shapeText(tb.shape)
    })
  }
  return matmul(ta, tb)
}

/**
 * The outer product a·bᵀ of two vectors.
 *
 * @category operations
 * @since 0.1.0
 */
export const outer = (a: TensorLike, b: TensorLike): Tensor => {
  const ta = from(a)
  const tb = from(b)
  return mul(reshape(ta, [ta.size, 1]), reshape(tb, [1, tb.size]))
}

/**
 * The trace Σᵢ Aᵢᵢ of a square matrix.
 *
 * @category operations
 * @since 0.1.0
 */
export const trace = (A: TensorLike): Tensor => {
  const t = from(A)
  // A scalar is reported against the 1 × 1 matrix it could have been.
  const n = t.shape[0] ?? 1
  if (t.shape.length !== 2 || t.shape[1] !== n) {
    throw new DimensionMismatch({
      operation: "trace",
      what: "A",
      expected: [n, n],
      actual: shapeText(t.shape)
    })
  }
  const eye = out([n, n])
  for (let i = 0; i < n; i++) eye.data[i * n + i] = 1
  return sum(mul(t, eye))
}

/**
 * The Euclidean (Frobenius for matrices) norm √(Σ x²); its derivative at 0 is taken as 0.
 *
 * @category operations
 * @since 0.1.0
 */
export const norm = (x: TensorLike): Tensor => normP([from(x)])
const normP = primitive(
  ([x]) => {
    const o = out([])
    o.data[0] = Blas1.nrm2(x!.data)
    return o
  },
  [(g, ans, [x]) => mul(g, div(x!, maximum(ans, Number.MIN_VALUE)))]
)

// ── indexing ──────────────────────────────────────────────────────────────

const gatherRaw = (x: Tensor, indices: Tensor): Tensor => {
  const n = x.shape[0]!
  const rowSize = x.shape.length === 2 ? x.shape[1]! : 1
  const k = indices.data.length
  const o = out(x.shape.length === 2 ? [k, rowSize] : [k])
  for (let t = 0; t < k; t++) {
    const i = indices.data[t]!
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw new RangeError(`gather: index ${i} is outside 0…${n - 1}`)
    for (let j = 0; j < rowSize; j++) o.data[t * rowSize + j] = x.data[i * rowSize + j]!
  }
  return o
}
const scatterAddRaw = (g: Tensor, indices: Tensor, shape: Shape): Tensor => {
  const o = out(shape)
  const rowSize = shape.length === 2 ? shape[1]! : 1
  for (let t = 0; t < indices.data.length; t++) {
    const i = indices.data[t]!
    for (let j = 0; j < rowSize; j++) o.data[i * rowSize + j] += g.data[t * rowSize + j]!
  }
  return o
}
const gatherP = primitive(
  ([x, idx]) => gatherRaw(x!, idx!),
  [(g, _ans, [x, idx]) => scatterAdd(g, idx!, x!.shape), undefined]
)
const scatterAddP = primitive(
  ([g, idx, s]) => scatterAddRaw(g!, idx!, s!.shape),
  [(h, _ans, [, idx]) => gatherP([h, idx!]), undefined, undefined]
)
const scatterAdd = (g: Tensor, idx: Tensor, shape: Shape): Tensor => scatterAddP([g, idx, shapeToken(shape)])

/**
 * Entries (of a vector) or rows (of a matrix) at the given integer indices;
 * repeated indices are allowed (their cotangents add up).
 *
 * @category operations
 * @since 0.1.0
 */
export const gather = (x: TensorLike, indices: ArrayLike<number>): Tensor => {
  const t = from(x)
  const idx = plainTensor([indices.length], Float64Array.from(indices))
  return gatherP([t, idx])
}

/**
 * Entries start … end−1 of a vector, or rows start … end−1 of a matrix.
 *
 * @category operations
 * @since 0.1.0
 */
export const slice = (x: TensorLike, start: number, end: number): Tensor => {
  const t = from(x)
  const n = t.shape[0] ?? 0
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= n)) {
    throw new RangeError(`slice: [${start}, ${end}) is outside 0…${n}`)
  }
  const idx: number[] = []
  for (let i = start; i < end; i++) idx.push(i)
  return gather(t, idx)
}

/**
 * Concatenates vectors (axis 0), or matrices along rows (axis 0) or columns (axis 1).
 *
 * @category operations
 * @since 0.1.0
 */
export const concat = (parts: ReadonlyArray<TensorLike>, axis: 0 | 1 = 0): Tensor => {
  const ts = parts.map(from)
  if (ts.length === 0) throw new RangeError("concat: nothing to concatenate")
  if (axis === 1) return transpose(concat(ts.map(transpose), 0))
  // Place each part with a scatter into the joined rows; differentiable through scatterAdd.
  const rank = ts[0]!.shape.length
  const cols = rank === 2 ? ts[0]!.shape[1]! : undefined
  let total = 0
  for (const t of ts) {
    if (t.shape.length !== rank || (cols !== undefined && t.shape[1] !== cols)) {
      throw new DimensionMismatch({
        operation: "concat",
        what: "part",
        expected: shapeText(ts[0]!.shape),
        actual: shapeText(t.shape)
      })
    }
    total += t.shape[0]!
  }
  const shape = cols === undefined ? [total] : [total, cols]
  let result: Tensor | undefined
  let offset = 0
  for (const t of ts) {
    const k = t.shape[0]!
    const idx = plainTensor(
      [k],
      Float64Array.from({ length: k }, (_, i) => offset + i)
    )
    const placed = scatterAdd(t, idx, shape)
    result = result === undefined ? placed : add(result, placed)
    offset += k
  }
  return result!
}

/**
 * Stacks scalars into a vector, or vectors of equal length into the rows of a matrix.
 *
 * @category operations
 * @since 0.1.0
 */
export const stack = (parts: ReadonlyArray<TensorLike>): Tensor => {
  const ts = parts.map(from)
  return concat(ts.map((t) => reshape(t, t.shape.length === 0 ? [1] : [1, ...t.shape])))
}
