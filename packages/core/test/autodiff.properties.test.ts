/**
 * Property tests of automatic differentiation (`Tensor` operations and the
 * `Autodiff` transformations) against central finite differences and against
 * each other.
 *
 * - Every operation: the gradient of x ↦ Σ op(x) ⊙ r (r a fixed random
 *   weighting with |rⱼ| ∈ [½, 1], so every output entry matters) agrees with
 *   central differences on random shapes (scalars, vectors, matrices including
 *   1 × 1 and non-square, and the broadcasting cases) and values, away from
 *   the points where the operation is not differentiable.
 * - Second order: `hvp` agrees with central differences of gradients on
 *   composite functions; `hessian` is symmetric and H·v = `hvp`(v).
 * - Forward mode: `jvp` equals J·v from `jacobian` and from `vjp`, and central
 *   differences; `jacobian` agrees with central differences.
 * - Parameter trees, `argnums`, custom rules, and the documented conventions at
 *   non-differentiable points (those of JAX).
 *
 * Every `fc.assert` runs with the pinned seed SEED.
 *
 * Tolerances. A central difference (f(x + h) − f(x − h)) / 2h differs from
 * f′(x) by a truncation error ≤ h²/6·|f‴| and a rounding error ≤ δ/h, where δ
 * bounds the absolute rounding error of one evaluation of f. With N roundings
 * on any path through f, each relative u = 2⁻⁵³, δ ≤ N·u·S with S the sum of
 * the magnitudes of the terms f adds up. Each comparison below states its
 * bounds on |f‴| (or |∇f‴| for gradients) and S over the input domain it
 * draws from, and takes the sum of the two terms as its absolute tolerance —
 * derived, not tuned. Comparisons of two exact methods (jvp vs J·v, H vs Hᵀ)
 * differ only by rounding: ≤ 2·N·u·(magnitude of the terms), computed at the
 * point.
 */
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Autodiff from "../src/Autodiff.ts"
import type { Matrix } from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as T from "../src/Tensor.ts"

type Tensor = T.Tensor
type Shape = T.Shape

const SEED = 20261122

/** Unit roundoff of float64. */
const U = 2 ** -53

/** Upper bound on the roundings along any path through the test functions (ops, weighting, sums of ≤ 25 terms). */
const ROUNDINGS = 64

/** Central-difference step, relative to max(1, |xᵢ|) for the op tests (checkGrad's convention), absolute elsewhere. */
const H = 1e-5

/** Inputs of the op tests lie in [−X_MAX, X_MAX], so their step is at most X_MAX·H. */
const X_MAX = 2.5

/**
 * x ± h is rounded, so the step actually taken differs from h by ≤ u·|x|: a
 * relative error ≤ u·X_MAX/H ≈ 3·10⁻¹¹ of the difference quotient (×4 for both
 * sides and the division).
 */
const STEP_RTOL = (4 * U * X_MAX) / H

/** Products that underflow are rounded to the nearest multiple of 2⁻¹⁰⁷⁴: 8 such roundings. */
const UNDERFLOW_ATOL = 8 * Number.MIN_VALUE

/** The two error terms of a central difference: truncation h²/6·|f‴| and rounding N·u·S/h (twice δ over 2h). */
const centralDifferenceAtol = (step: number, thirdDerivative: number, magnitude: number): number =>
  (step ** 2 / 6) * thirdDerivative + (ROUNDINGS * U * magnitude) / step

/**
 * Op tests: one input reaches ≤ 16 outputs (a scalar broadcast to 4 × 4), each
 * weighted by |rⱼ| ≤ 1, through an operation whose third derivative is ≤ 20 on
 * the domain it is drawn from (e^2.5 ≈ 12 for exp and expm1; 2/x³ ≤ 16 for log
 * on [½, 2.5] and log1p on [−½, 2.5]; 6/b⁴ ≤ 6 for a/b with |b| ≥ 1; ≤ 13.1 for
 * a^b with a ∈ [1, 2.5], b ∈ [−1.5, 1.5]; ≤ 12 for the norm with ‖x‖ ≥ ½; ≤ 2
 * for the others; 0 for the (multi)linear and piecewise-linear ones).
 */
const OP_THIRD_DERIVATIVE = 16 * 20
/**
 * Op tests: f sums ≤ 25 weighted outputs (a 5 × 5 outer product) whose own
 * terms are ≤ 25 in magnitude (a 4-term matmul of entries ≤ 2.5).
 */
const OP_MAGNITUDE = 25 * 25
/** ≈ 3.3·10⁻⁸ (truncation) + 4.4·10⁻⁷ (rounding, worst case over the domain). */
const OP_ATOL = centralDifferenceAtol(X_MAX * H, OP_THIRD_DERIVATIVE, OP_MAGNITUDE)

// ── helpers ───────────────────────────────────────────────────────────────

const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1)

/** Splits a flat (traced) vector into tensors of the given shapes. */
const split = (z: Tensor, shapes: ReadonlyArray<Shape>): Tensor[] => {
  let offset = 0
  return shapes.map((s) => {
    const n = sizeOf(s)
    const part = T.reshape(T.slice(z, offset, offset + n), s)
    offset += n
    return part
  })
}

/** The values of `f` at `x` as a JS-heap array (valid after the memory scope). */
const evaluate = (f: (z: Tensor) => Tensor, x: Float64Array): Float64Array =>
  Memory.scoped(
    () => Float64Array.from(T.from(f(T.from(x))).data),
    () => []
  )

/** The shape of `f`'s output at `x`. */
const outputShape = (f: (z: Tensor) => Tensor, x: Float64Array): Shape =>
  Memory.scoped(
    () => [...T.from(f(T.from(x))).shape],
    () => []
  )

const gradient = (f: (z: Tensor) => Tensor | number, x: Float64Array): Float64Array =>
  Float64Array.from(Autodiff.grad<[Float64Array]>(f)(x))

/** (g(x + h·v) − g(x − h·v)) / 2h for a vector function g. */
const centralDifference = (
  g: (x: Float64Array) => Float64Array,
  x: Float64Array,
  v: Float64Array,
  h: number
): Float64Array => {
  const up = g(x.map((xi, i) => xi + h * v[i]!))
  const down = g(x.map((xi, i) => xi - h * v[i]!))
  return up.map((u, i) => (u - down[i]!) / (2 * h))
}

const dotArrays = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/** A·v and |A|·|v| for a row-major matrix. */
const matVec = (A: Matrix, v: ArrayLike<number>): { value: Float64Array; magnitude: Float64Array } => {
  const value = new Float64Array(A.rows)
  const magnitude = new Float64Array(A.rows)
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < A.cols; j++) {
      value[i]! += A.data[i * A.cols + j]! * v[j]!
      magnitude[i]! += Math.abs(A.data[i * A.cols + j]! * v[j]!)
    }
  }
  return { value, magnitude }
}

// ── arbitraries ───────────────────────────────────────────────────────────

const between = (min: number, max: number): fc.Arbitrary<number> =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
const anyValue = between(-X_MAX, X_MAX)
/** |x| ∈ [lo, X_MAX] with either sign. */
const signed = (lo: number): fc.Arbitrary<number> =>
  fc.tuple(between(lo, X_MAX), fc.boolean()).map(([m, s]) => (s ? m : -m))
/** |x| ≥ 0.1: far (≫ h) from the kinks of abs and relu. */
const awayFromZero = signed(0.1)
const values = (n: number, domain: fc.Arbitrary<number> = anyValue): fc.Arbitrary<number[]> =>
  fc.array(domain, { minLength: n, maxLength: n })
/** n distinct values on a grid of spacing 0.05 in [−X_MAX, X_MAX]: no ties within ≫ h. */
const distinctValues = (n: number): fc.Arbitrary<number[]> =>
  fc
    .uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: n, maxLength: n })
    .map((ks) => ks.map((k) => k * 0.05))
/** Weights rⱼ with |rⱼ| ∈ [½, 1]; 64 of them, more than any output has entries. */
const weights = fc.array(
  fc.tuple(between(0.5, 1), fc.boolean()).map(([m, s]) => (s ? m : -m)),
  { minLength: 64, maxLength: 64 }
)

const dim = fc.integer({ min: 1, max: 4 })
/** Scalars, vectors, matrices; 1, 1 × 1 and non-square shapes always among the candidates. */
const shapes: fc.Arbitrary<Shape> = fc.oneof(
  fc.constantFrom<Shape>([], [1], [1, 1], [2, 3], [3, 2]),
  fc.integer({ min: 1, max: 5 }).map((n) => [n]),
  fc.tuple(dim, dim).map(([m, n]) => [m, n])
)
/** The pairs of operand shapes that broadcast: equal, scalar⊕vector, vector⊕matrix, [m,1]⊕[1,n], …. */
const broadcastPairs: fc.Arbitrary<[Shape, Shape]> = fc
  .tuple(dim, dim, fc.integer({ min: 0, max: 9 }))
  .map(([m, n, k]): [Shape, Shape] => {
    const cases: Array<[Shape, Shape]> = [
      [
        [m, n],
        [m, n]
      ],
      [[n], [n]],
      [[], []],
      [[], [n]],
      [[n], []],
      [[n], [m, n]],
      [[m, n], [n]],
      [
        [m, 1],
        [1, n]
      ],
      [
        [1, n],
        [m, 1]
      ],
      [
        [1, 1],
        [m, n]
      ]
    ]
    return cases[k]!
  })

/** One op test: the point, the (non-scalar) function of the flat input, and a label for failures. */
interface OpInput {
  readonly x: Float64Array
  readonly f: (z: Tensor) => Tensor
  readonly label: string
}

const opInput = (x: ReadonlyArray<number>, f: (z: Tensor) => Tensor, label: string): OpInput => ({
  x: Float64Array.from(x),
  f,
  label
})

const unaryCase = (
  op: (x: Tensor) => Tensor,
  domain: fc.Arbitrary<number> = anyValue,
  shape: fc.Arbitrary<Shape> = shapes
): fc.Arbitrary<OpInput> =>
  shape.chain((s) =>
    values(sizeOf(s), domain).map((x) => opInput(x, (z) => op(T.reshape(z, s)), `shape [${s}]`))
  )

const binaryCase = (
  op: (a: Tensor, b: Tensor) => Tensor,
  domainA: fc.Arbitrary<number> = anyValue,
  domainB: fc.Arbitrary<number> = anyValue,
  accept: (a: Float64Array, sa: Shape, b: Float64Array, sb: Shape) => boolean = () => true
): fc.Arbitrary<OpInput> =>
  broadcastPairs
    .chain(([sa, sb]) =>
      fc.tuple(fc.constant(sa), fc.constant(sb), values(sizeOf(sa), domainA), values(sizeOf(sb), domainB))
    )
    .filter(([sa, sb, a, b]) => accept(Float64Array.from(a), sa, Float64Array.from(b), sb))
    .map(([sa, sb, a, b]) =>
      opInput(
        [...a, ...b],
        (z) => {
          const [ta, tb] = split(z, [sa, sb])
          return op(ta!, tb!)
        },
        `shapes [${sa}] and [${sb}]`
      )
    )

/** Smallest |aᵢ − bⱼ| over broadcast pairs: maximum/minimum are differentiable when it is ≫ h. */
const smallestGap = (a: Float64Array, sa: Shape, b: Float64Array, sb: Shape): number =>
  Memory.scoped(
    () => T.min(T.abs(T.sub(T.reshape(a, sa), T.reshape(b, sb)))).item(),
    () => []
  )

/** Valid reduction axes of a shape. */
const axesOf = (s: Shape): Array<T.Axis> =>
  s.length === 2 ? [undefined, 0, 1] : s.length === 1 ? [undefined, 0] : [undefined]

const reductionCase = (
  op: (x: Tensor, axis: T.Axis) => Tensor,
  valuesOf: (n: number) => fc.Arbitrary<number[]> = (n) => values(n)
): fc.Arbitrary<OpInput> =>
  shapes.chain((s) =>
    fc
      .tuple(valuesOf(sizeOf(s)), fc.constantFrom(...axesOf(s)))
      .map(([x, axis]) => opInput(x, (z) => op(T.reshape(z, s), axis), `shape [${s}], axis ${axis}`))
  )

// ── every operation's gradient against central differences ──────────────

const opCases: ReadonlyArray<[string, fc.Arbitrary<OpInput>]> = [
  ["neg", unaryCase(T.neg)],
  ["exp", unaryCase(T.exp)],
  ["log", unaryCase(T.log, between(0.5, X_MAX))],
  ["log1p", unaryCase(T.log1p, between(-0.5, X_MAX))],
  ["expm1", unaryCase(T.expm1)],
  ["sqrt", unaryCase(T.sqrt, between(0.5, X_MAX))],
  ["abs (away from 0)", unaryCase(T.abs, awayFromZero)],
  ["sin", unaryCase(T.sin)],
  ["cos", unaryCase(T.cos)],
  ["tanh", unaryCase(T.tanh)],
  ["sigmoid", unaryCase(T.sigmoid)],
  ["softplus", unaryCase(T.softplus)],
  ["relu (away from 0)", unaryCase(T.relu, awayFromZero)],
  ["pow(x, 2) and pow(x, 3), any sign", unaryCase((x) => T.add(T.pow(x, 2), T.pow(x, 3)))],
  ["add", binaryCase(T.add)],
  ["sub", binaryCase(T.sub)],
  ["mul", binaryCase(T.mul)],
  ["div (|b| ≥ 1)", binaryCase(T.div, anyValue, signed(1))],
  ["pow (a ∈ [1, 2.5], b ∈ [−1.5, 1.5])", binaryCase(T.pow, between(1, X_MAX), between(-1.5, 1.5))],
  [
    "maximum (no ties)",
    binaryCase(T.maximum, anyValue, anyValue, (a, sa, b, sb) => smallestGap(a, sa, b, sb) >= 0.05)
  ],
  [
    "minimum (no ties)",
    binaryCase(T.minimum, anyValue, anyValue, (a, sa, b, sb) => smallestGap(a, sa, b, sb) >= 0.05)
  ],
  [
    "where",
    broadcastPairs.chain(([sa, sb]) => {
      const out = [...T.broadcastShapes("where", sa, sb)]
      return fc
        .tuple(
          values(sizeOf(sa)),
          values(sizeOf(sb)),
          fc.array(fc.boolean(), { minLength: sizeOf(out), maxLength: sizeOf(out) })
        )
        .map(([a, b, c]) =>
          opInput(
            [...a, ...b],
            (z) => {
              const [ta, tb] = split(z, [sa, sb])
              return T.where(T.reshape(Float64Array.from(c, Number), out), ta!, tb!)
            },
            `shapes [${sa}] and [${sb}]`
          )
        )
    })
  ],
  ["sum", reductionCase((x, axis) => T.sum(x, axis))],
  ["mean", reductionCase((x, axis) => T.mean(x, axis))],
  ["max (distinct entries)", reductionCase((x, axis) => T.max(x, axis), distinctValues)],
  ["min (distinct entries)", reductionCase((x, axis) => T.min(x, axis), distinctValues)],
  ["logSumExp", reductionCase((x, axis) => T.logSumExp(x, axis))],
  ["softmax", reductionCase((x, axis) => T.softmax(x, axis))],
  [
    "reshape",
    shapes.chain((s) => {
      const n = sizeOf(s)
      const targets: Shape[] = [[n], [1, n], [n, 1], s.length === 2 ? [s[1]!, s[0]!] : []]
      return fc
        .tuple(values(n), fc.constantFrom(...targets.filter((t) => sizeOf(t) === n)))
        .map(([x, t]) => opInput(x, (z) => T.reshape(T.reshape(z, s), t), `[${s}] → [${t}]`))
    })
  ],
  ["transpose", unaryCase(T.transpose)],
  [
    "broadcastTo",
    fc.tuple(dim, dim, fc.integer({ min: 0, max: 5 })).chain(([m, n, k]) => {
      const cases: Array<[Shape, Shape]> = [
        [[], [m, n]],
        [[n], [m, n]],
        [
          [1, n],
          [m, n]
        ],
        [
          [m, 1],
          [m, n]
        ],
        [
          [1, 1],
          [m, n]
        ],
        [[], [n]]
      ]
      const [from, to] = cases[k]!
      return values(sizeOf(from)).map((x) =>
        opInput(x, (z) => T.broadcastTo(T.reshape(z, from), to), `[${from}] → [${to}]`)
      )
    })
  ],
  [
    "sumTo",
    fc.tuple(dim, dim, fc.integer({ min: 0, max: 6 })).chain(([m, n, k]) => {
      const cases: Array<[Shape, Shape]> = [
        [[m, n], []],
        [[m, n], [n]],
        [
          [m, n],
          [1, n]
        ],
        [
          [m, n],
          [m, 1]
        ],
        [
          [m, n],
          [1, 1]
        ],
        [[n], []],
        [[n], [1]]
      ]
      const [from, to] = cases[k]!
      return values(sizeOf(from)).map((x) =>
        opInput(x, (z) => T.sumTo(T.reshape(z, from), to), `[${from}] → [${to}]`)
      )
    })
  ],
  [
    "matmul (matrix·matrix, matrix·vector, vector·matrix, vector·vector)",
    fc.tuple(dim, dim, dim, fc.integer({ min: 0, max: 3 })).chain(([m, k, n, kind]) => {
      const pairs: Array<[Shape, Shape]> = [
        [
          [m, k],
          [k, n]
        ],
        [[m, k], [k]],
        [[k], [k, n]],
        [[k], [k]]
      ]
      const [sa, sb] = pairs[kind]!
      return values(sizeOf(sa) + sizeOf(sb)).map((x) =>
        opInput(
          x,
          (z) => {
            const [a, b] = split(z, [sa, sb])
            return T.matmul(a!, b!)
          },
          `[${sa}]·[${sb}]`
        )
      )
    })
  ],
  [
    "dot",
    dim.chain((n) =>
      values(2 * n).map((x) =>
        opInput(
          x,
          (z) => {
            const [a, b] = split(z, [[n], [n]])
            return T.dot(a!, b!)
          },
          `length ${n}`
        )
      )
    )
  ],
  [
    "outer",
    fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })).chain(([m, n]) =>
      values(m + n).map((x) =>
        opInput(
          x,
          (z) => {
            const [a, b] = split(z, [[m], [n]])
            return T.outer(a!, b!)
          },
          `lengths ${m}, ${n}`
        )
      )
    )
  ],
  [
    "trace",
    dim.chain((n) =>
      values(n * n).map((x) => opInput(x, (z) => T.trace(T.reshape(z, [n, n])), `${n} × ${n}`))
    )
  ],
  [
    "norm (‖x‖ ≥ ½)",
    shapes.chain((s) =>
      values(sizeOf(s))
        .filter((x) => Math.hypot(...x) >= 0.5)
        .map((x) => opInput(x, (z) => T.norm(T.reshape(z, s)), `shape [${s}]`))
    )
  ],
  [
    "gather (repeated indices)",
    fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }))
      .chain(([n, c]) =>
        fc.tuple(
          fc.constant(n),
          fc.constant(c),
          values(n * Math.max(c, 1)),
          fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 6 })
        )
      )
      .map(([n, c, x, idx]) => {
        const s: Shape = c === 0 ? [n] : [n, c]
        return opInput(x, (z) => T.gather(T.reshape(z, s), idx), `[${s}] at [${idx}]`)
      })
  ],
  [
    "slice",
    fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }))
      .chain(([n, c]) =>
        fc.tuple(
          fc.constant(n),
          fc.constant(c),
          values(n * Math.max(c, 1)),
          fc
            .integer({ min: 0, max: n - 1 })
            .chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: start + 1, max: n })))
        )
      )
      .map(([n, c, x, [start, end]]) => {
        const s: Shape = c === 0 ? [n] : [n, c]
        return opInput(x, (z) => T.slice(T.reshape(z, s), start, end), `[${s}] rows ${start}…${end - 1}`)
      })
  ],
  [
    "concat (vectors; matrices along axis 0 and 1)",
    fc
      .tuple(
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        dim
      )
      .chain(([kind, lengths, other]) => {
        const parts: Shape[] = lengths.map((k) => (kind === 0 ? [k] : kind === 1 ? [k, other] : [other, k]))
        const axis = kind === 2 ? 1 : 0
        return values(parts.reduce((s, p) => s + sizeOf(p), 0)).map((x) =>
          opInput(x, (z) => T.concat(split(z, parts), axis), `parts ${JSON.stringify(parts)}, axis ${axis}`)
        )
      })
  ],
  [
    "stack (scalars; vectors)",
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 })).chain(([count, n]) => {
      const part: Shape = n === 0 ? [] : [n]
      return values(count * Math.max(n, 1)).map((x) =>
        opInput(x, (z) => T.stack(split(z, Array(count).fill(part))), `${count} parts of [${part}]`)
      )
    })
  ]
]

describe("every operation's gradient agrees with central differences", () => {
  for (const [name, input] of opCases) {
    it(name, () => {
      fc.assert(
        fc.property(input, weights, ({ x, f, label }, w) => {
          const shape = outputShape(f, x)
          expect(sizeOf(shape)).toBeLessThanOrEqual(w.length)
          const r = T.reshape(Float64Array.from(w.slice(0, sizeOf(shape))), shape)
          const result = Autodiff.checkGrad((z) => T.sum(T.mul(f(z), r)), x, {
            eps: H,
            rtol: STEP_RTOL,
            atol: OP_ATOL
          })
          assertClose(result.gradient, result.finiteDifference, {
            rtol: STEP_RTOL,
            atol: OP_ATOL,
            label: `${name}, ${label}`
          })
          expect(result.ok).toBe(true)
        }),
        { seed: SEED, numRuns: 30 }
      )
    })
  }
})

// ── second derivatives ────────────────────────────────────────────────────

/**
 * A scalar test function with the bounds of its central-difference tolerance:
 * `fourth` bounds |∂ᵢ D³ᵥ f| (the third derivative of ∇f along v, ‖v‖∞ ≤ 1)
 * and `magnitude` the terms that make up ∇f and ∇²f, over the drawn domain.
 */
interface ScalarCase {
  readonly x: Float64Array
  readonly f: (z: Tensor) => Tensor
}
interface SecondOrderCase {
  readonly name: string
  readonly input: fc.Arbitrary<ScalarCase>
  readonly fourth: number
  readonly magnitude: number
  /** Bound on ‖v‖∞ for the directions drawn (default 1). */
  readonly direction?: number
}

/** A case's point and a direction v with ‖v‖∞ ≤ its bound. */
const withDirection = (c: SecondOrderCase) =>
  c.input.chain((p) =>
    fc.tuple(
      fc.constant(p),
      values(p.x.length, between(-(c.direction ?? 1), c.direction ?? 1)).map((v) => Float64Array.from(v))
    )
  )

const rosenbrock = (x: Tensor): Tensor => {
  const a = T.slice(x, 0, x.size - 1)
  const b = T.slice(x, 1, x.size)
  return T.sum(T.add(T.mul(100, T.pow(T.sub(b, T.mul(a, a)), 2)), T.pow(T.sub(1, a), 2)))
}

const matrixOf = (rows: number, cols: number, domain: fc.Arbitrary<number> = between(-1, 1)) =>
  values(rows * cols, domain).map((d): Matrix => ({ rows, cols, data: Float64Array.from(d) }))

/** Logistic loss mean(softplus(Xw) − y·Xw) with labels y ∈ {0, 1}. */
const logisticLoss =
  (X: Matrix, y: Float64Array) =>
  (w: Tensor): Tensor => {
    const z = T.matmul(X, w)
    return T.mean(T.sub(T.softplus(z), T.mul(y, z)))
  }

/** A one-hidden-layer tanh network's squared error, parameters packed in z. */
const mlpLoss =
  (input: Float64Array, target: number, hidden: number) =>
  (z: Tensor): Tensor => {
    const d = input.length
    const [W1, b1, w2, b2] = split(z, [[hidden, d], [hidden], [hidden], []])
    const h = T.tanh(T.add(T.matmul(W1!, input), b1!))
    return T.pow(T.sub(T.add(T.dot(w2!, h), b2!), target), 2)
  }

/** Mean softmax cross-entropy of scores X·Wᵀ for one-hot labels Y; W is k × d, packed in z. */
const softmaxCrossEntropy =
  (X: Matrix, Y: Matrix, k: number) =>
  (z: Tensor): Tensor => {
    const W = T.reshape(z, [k, X.cols])
    const scores = T.matmul(X, T.transpose(W))
    return T.mean(T.sub(T.logSumExp(scores, 1), T.sum(T.mul(Y, scores), 1)))
  }

const oneHot = (rows: number, k: number) =>
  fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: rows, maxLength: rows }).map((labels): Matrix => {
    const data = new Float64Array(rows * k)
    labels.forEach((c, i) => {
      data[i * k + c] = 1
    })
    return { rows, cols: k, data }
  })

const secondOrderCases: ReadonlyArray<SecondOrderCase> = [
  {
    name: "Rosenbrock",
    input: fc
      .integer({ min: 2, max: 6 })
      .chain((n) => values(n, between(-1.5, 1.5)))
      .map((x) => ({ x: Float64Array.from(x), f: rosenbrock })),
    // ∂⁴ of 100(b − a²)² is ≤ 2400 per term plus mixed terms ≤ 100·12, and a
    // coordinate enters two terms: ≤ 7200. Gradient terms ≤ 400·1.5·3.75 + 200·3.75 + 5 ≈ 3000;
    // Hessian terms ≤ 1200·1.5² + 400·1.5 + 200 + 2 ≈ 3500.
    fourth: 7200,
    magnitude: 4000
  },
  {
    name: "logistic loss",
    input: fc
      .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }))
      .chain(([m, d]) =>
        fc.tuple(
          matrixOf(m, d),
          fc.array(fc.constantFrom(0, 1), { minLength: m, maxLength: m }),
          values(d, between(-1, 1))
        )
      )
      .map(([X, y, w]) => ({ x: Float64Array.from(w), f: logisticLoss(X, Float64Array.from(y)) })),
    // softplus⁗ ≤ 1/8, times |Xᵢ|·|X·v|³ ≤ 5³: ≤ 16. Terms ≤ |X| ≤ 1 (× d = 5 summed).
    fourth: 16,
    magnitude: 5
  },
  {
    name: "tanh MLP",
    input: fc
      .tuple(values(3, between(-1, 1)), between(-1, 1), values(4 * 3 + 4 + 4 + 1, between(-1, 1)))
      .map(([input, target, z]) => ({
        x: Float64Array.from(z),
        f: mlpLoss(Float64Array.from(input), target, 4)
      })),
    // Directions ‖v‖∞ ≤ ¼ (see `direction`): the output o moves by |Dᵛo| ≤ 4·(¼ + 1) + ¼ ≤ 6
    // and |Dʲᵥo| ≤ 4·(2j + 2) (tanh⁽ʲ⁾ ≤ 2, pre-activations move by ≤ 1); (o − t)² then has
    // |∂ᵢD³ᵥ| ≤ 2·|o − t|·40 + 8·6·32 + 6·24² ≈ 5500: bounded by 1e4. Terms ≤ 2·6·4 ≈ 50.
    fourth: 1e4,
    magnitude: 60,
    direction: 0.25
  },
  {
    name: "logSumExp(Ax + b)",
    input: fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }))
      .chain(([m, n]) => fc.tuple(matrixOf(m, n), values(m, between(-1, 1)), values(n, between(-2, 2))))
      .map(([A, b, x]) => ({
        x: Float64Array.from(x),
        f: (z: Tensor) => T.logSumExp(T.add(T.matmul(A, z), Float64Array.from(b)))
      })),
    // The fourth derivative tensor L of logSumExp is a combination of moments of
    // softmax (κ₄ = μ₄ − 4μ₃μ₁ − 3μ₂² + 12μ₂μ₁² − 6μ₁⁴) with Σ|L| ≤ 1 + 4 + 3 + 12 + 6 = 26;
    // contracted with |Aᵢ| ≤ 1 and |A·v| ≤ 5 three times: ≤ 26·125.
    fourth: 3250,
    magnitude: 5
  },
  {
    name: "norm (‖x‖ ≥ 1)",
    input: fc
      .integer({ min: 1, max: 6 })
      .chain((n) => values(n, between(-2, 2)))
      .filter((x) => Math.hypot(...x) >= 1)
      .map((x) => ({ x: Float64Array.from(x), f: (z: Tensor) => T.norm(z) })),
    // ∂⁴‖x‖ ≤ 15/‖x‖³ per entry, contracted with ‖v‖₁³ ≤ 6³: ≤ 3240. Terms ≤ |xᵢ|/‖x‖ ≤ 1.
    fourth: 3240,
    magnitude: 1
  },
  {
    name: "softmax cross-entropy",
    input: fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 4 }))
      .chain(([m, d, k]) =>
        fc.tuple(fc.constant(k), matrixOf(m, d), oneHot(m, k), values(k * d, between(-1, 1)))
      )
      .map(([k, X, Y, w]) => ({ x: Float64Array.from(w), f: softmaxCrossEntropy(X, Y, k) })),
    // Per sample, Σ|L| ≤ 26 (as for logSumExp above) contracted with |Xᵢⱼ| ≤ 1 and score
    // changes |Xᵢ·Vc| ≤ d ≤ 4 three times: ≤ 26·64 ≈ 1700; the mean keeps the bound.
    fourth: 1700,
    magnitude: 8
  }
]

describe("second derivatives", () => {
  for (const c of secondOrderCases) {
    it(`hvp agrees with central differences of gradients: ${c.name}`, () => {
      const atol = centralDifferenceAtol(H, c.fourth, c.magnitude)
      fc.assert(
        fc.property(withDirection(c), ([{ x, f }, direction]) => {
          const hv = Autodiff.hvp<Float64Array>(f, x, direction)
          const fd = centralDifference((y) => gradient(f, y), x, direction, H)
          assertClose(hv, fd, { rtol: STEP_RTOL, atol, label: c.name })
        }),
        { seed: SEED, numRuns: 25 }
      )
    })
  }

  it("hessian is symmetric and H·v = hvp(v), up to rounding", () => {
    for (const c of secondOrderCases) {
      fc.assert(
        fc.property(withDirection(c), ([{ x, f }, direction]) => {
          const n = x.length
          const Hm = Autodiff.hessian(f, x)
          expect([Hm.rows, Hm.cols]).toEqual([n, n])
          // Hᵢⱼ and Hⱼᵢ come from different reverse passes, each within
          // ROUNDINGS·u of the terms that make it up (≤ c.magnitude).
          const entryAtol = 2 * ROUNDINGS * U * c.magnitude
          const Ht = new Float64Array(n * n)
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Ht[j * n + i] = Hm.data[i * n + j]!
          assertClose(Hm.data, Ht, { rtol: 0, atol: entryAtol, label: `${c.name}: H = Hᵀ` })
          // Both sides are Σⱼ Hᵢⱼvⱼ over n terms with |vⱼ| ≤ 1, each Hᵢⱼ within the bound above.
          assertClose(Autodiff.hvp<Float64Array>(f, x, direction), matVec(Hm, direction).value, {
            rtol: 0,
            atol: n * entryAtol,
            label: `${c.name}: H·v = hvp(v)`
          })
        }),
        { seed: SEED, numRuns: 10 }
      )
    }
  })

  it("hessian agrees with central differences of gradients, column by column", () => {
    const c = secondOrderCases[1]! // logistic loss
    const atol = centralDifferenceAtol(H, c.fourth, c.magnitude)
    fc.assert(
      fc.property(c.input, ({ x, f }) => {
        const n = x.length
        const Hm = Autodiff.hessian(f, x)
        for (let j = 0; j < n; j++) {
          const e = new Float64Array(n)
          e[j] = 1
          const fd = centralDifference((y) => gradient(f, y), x, e, H)
          const column = Float64Array.from({ length: n }, (_, i) => Hm.data[i * n + j]!)
          assertClose(column, fd, { rtol: STEP_RTOL, atol, label: `column ${j}` })
        }
      }),
      { seed: SEED, numRuns: 20 }
    )
  })
})

// ── forward mode and Jacobians ────────────────────────────────────────────

/**
 * f: ℝⁿ → ℝᵏ⁺ⁿ, x ↦ [tanh(Ax); eˣ ⊙ sin x] with |A| ≤ 1, x ∈ [−1, 1]ⁿ, n ≤ 4.
 * Along ‖v‖∞ ≤ 1 its third derivative is ≤ 2·|Aᵢ·v|³ ≤ 2·4³ = 128 (tanh‴ ≤ 2)
 * or |(eˣ sin x)‴| = 2eˣ|sin x + cos x|·… ≤ 8; its terms are ≤ e·1 + 4.
 */
const VECTOR_FUNCTION_THIRD = 128
const VECTOR_FUNCTION_MAGNITUDE = 8
const vectorFunction = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
  .chain(([k, n]) =>
    fc.tuple(
      matrixOf(k, n),
      values(n, between(-1, 1)),
      values(n, between(-1, 1)),
      values(k + n, between(-1, 1))
    )
  )
  .map(([A, x, v, u]) => ({
    f: (z: Tensor) => T.concat([T.tanh(T.matmul(A, z)), T.mul(T.exp(z), T.sin(z))]),
    x: Float64Array.from(x),
    v: Float64Array.from(v),
    u: Float64Array.from(u)
  }))

describe("forward mode and Jacobians", () => {
  it("jacobian agrees with central differences", () => {
    const atol = centralDifferenceAtol(H, VECTOR_FUNCTION_THIRD, VECTOR_FUNCTION_MAGNITUDE)
    fc.assert(
      fc.property(vectorFunction, ({ f, x }) => {
        const J = Autodiff.jacobian(f, x)
        const m = evaluate(f, x).length
        expect([J.rows, J.cols]).toEqual([m, x.length])
        for (let j = 0; j < x.length; j++) {
          const e = new Float64Array(x.length)
          e[j] = 1
          const fd = centralDifference((y) => evaluate(f, y), x, e, H)
          const column = Float64Array.from({ length: m }, (_, i) => J.data[i * x.length + j]!)
          assertClose(column, fd, { rtol: STEP_RTOL, atol, label: `column ${j}` })
        }
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("jvp equals J·v (jacobian), vjp-based J·v, and central differences; ⟨u, J·v⟩ = ⟨Jᵀu, v⟩", () => {
    const fdAtol = centralDifferenceAtol(H, VECTOR_FUNCTION_THIRD, VECTOR_FUNCTION_MAGNITUDE)
    fc.assert(
      fc.property(vectorFunction, ({ f, x, v, u }) => {
        const { output, tangent } = Autodiff.jvp<Float64Array>(f, x, v)
        const jv = Float64Array.from(tangent as Float64Array)
        assertClose(output as Float64Array, evaluate(f, x), { rtol: 0, atol: 0, label: "jvp output" })
        const J = Autodiff.jacobian(f, x)
        // Two exact methods of Σⱼ Jᵢⱼvⱼ (n terms, |vⱼ| ≤ 1), each Jᵢⱼ within
        // ROUNDINGS·u of its terms (≤ VECTOR_FUNCTION_MAGNITUDE).
        const exactAtol = 2 * ROUNDINGS * U * VECTOR_FUNCTION_MAGNITUDE * x.length
        assertClose(jv, matVec(J, v).value, { rtol: 0, atol: exactAtol, label: "jvp = J·v" })
        // Row i of J is the pullback of eᵢ.
        const { pullback } = Autodiff.vjp<Float64Array>(f, x)
        const viaVjp = jv.map((_, i) => {
          const e = new Float64Array(jv.length)
          e[i] = 1
          return dotArrays(pullback(e), v)
        })
        assertClose(jv, viaVjp, { rtol: 0, atol: exactAtol, label: "jvp = vjp-based J·v" })
        const dual = dotArrays(pullback(u), v)
        assertClose(dotArrays(u, jv), dual, {
          rtol: 0,
          atol: exactAtol * u.length,
          label: "⟨u, Jv⟩ = ⟨Jᵀu, v⟩"
        })
        assertClose(
          jv,
          centralDifference((y) => evaluate(f, y), x, v, H),
          {
            rtol: STEP_RTOL,
            atol: fdAtol,
            label: "jvp vs central differences"
          }
        )
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("jvp of a scalar function is ⟨∇f, v⟩", () => {
    const c = secondOrderCases[0]!
    fc.assert(
      fc.property(withDirection(c), ([{ x, f }, direction]) => {
        const g = gradient(f, x)
        const { tangent } = Autodiff.jvp<Float64Array>(f, x, direction)
        // n gradient entries, each within ROUNDINGS·u of its terms (≤ c.magnitude), |vᵢ| ≤ 1.
        assertClose(tangent as number, dotArrays(g, direction), {
          rtol: 0,
          atol: 2 * ROUNDINGS * U * c.magnitude * x.length
        })
      }),
      { seed: SEED, numRuns: 20 }
    )
  })
})

// ── parameter trees and argnums ───────────────────────────────────────────

// A type alias, not an interface: only aliases of object types are assignable to Tree's index signature.
type Params = {
  readonly a: Float64Array
  readonly b: { readonly c: Matrix; readonly d: number }
}

/** A function of every leaf, each used more than once. */
const treeLoss = (p: Autodiff.Traced<Params>): Tensor =>
  T.add(
    T.add(T.sum(T.mul(p.a, T.sin(p.a))), T.mul(p.b.d, T.sum(T.tanh(T.matmul(p.b.c, p.a))))),
    T.mul(p.b.d, p.b.d)
  )

const treeParams = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .chain(([m, n]) => fc.tuple(values(n, between(-1, 1)), matrixOf(m, n), between(-1, 1)))
  .map(([a, c, d]): Params => ({ a: Float64Array.from(a), b: { c, d } }))

describe("parameter trees and argnums", () => {
  it("the gradient of a function of {a: vector, b: {c: matrix, d: number}} has the same structure", () => {
    fc.assert(
      fc.property(treeParams, (p) => {
        const g = Autodiff.grad<[Params]>(treeLoss)(p)
        expect(Object.keys(g).sort()).toEqual(["a", "b"])
        expect(Object.keys(g.b).sort()).toEqual(["c", "d"])
        expect(g.a).toBeInstanceOf(Float64Array)
        expect(g.a.length).toBe(p.a.length)
        expect([g.b.c.rows, g.b.c.cols, g.b.c.data.length]).toEqual([
          p.b.c.rows,
          p.b.c.cols,
          p.b.c.data.length
        ])
        expect(typeof g.b.d).toBe("number")
        // The same function of the leaves packed in one vector (leaf order a, c, d):
        // slicing and reshaping only move cotangents, so the gradients are equal bit for bit.
        const n = p.a.length
        const { rows, cols } = p.b.c
        const packed = (z: Tensor): Tensor => {
          const [a, c, d] = split(z, [[n], [rows, cols], []])
          return treeLoss({ a: a!, b: { c: c!, d: d! } })
        }
        const x = Float64Array.from([...p.a, ...p.b.c.data, p.b.d])
        const flat = gradient(packed, x)
        assertClose(Float64Array.from([...g.a, ...g.b.c.data, g.b.d]), flat, {
          rtol: 0,
          atol: 0,
          label: "tree vs packed"
        })
        // Terms ≤ 4·(1 + 1) per entry; third derivatives ≤ 4³·2 (tanh of a 4-term product) + 3.
        const result = Autodiff.checkGrad(packed, x, { eps: H })
        assertClose(result.gradient, result.finiteDifference, {
          rtol: STEP_RTOL,
          atol: centralDifferenceAtol(H, 131, 8),
          label: "tree gradient vs central differences"
        })
        // valueAndGrad returns f's value alongside the same gradient.
        const vg = Autodiff.valueAndGrad<[Params]>(treeLoss)(p)
        expect(vg.value).toBe(evaluate(packed, x)[0])
        expect(vg.gradient).toEqual(g)
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("arrays are trees: grad of f([x, {y}]) is [gx, {y: gy}]", () => {
    type Pair = [Float64Array, { y: number }]
    // Traced and Plain map an array's elements to one union type; the test knows the positions.
    const f = (p: Autodiff.Traced<Pair>): Tensor => {
      const [x, o] = p as unknown as [Tensor, { y: Tensor }]
      return T.mul(T.sum(T.mul(x, x)), o.y)
    }
    const g = Autodiff.grad<[Pair]>(f)([new Float64Array([1, 2]), { y: 3 }]) as unknown as Pair
    expect(Array.isArray(g)).toBe(true)
    expect(g[0]).toBeInstanceOf(Float64Array)
    expect(Array.from(g[0])).toEqual([6, 12])
    expect(g[1]).toEqual({ y: 5 })
  })

  it("an argnums array returns a tuple of gradients; a single argnum returns one gradient", () => {
    fc.assert(
      fc.property(treeParams, values(3, between(-1, 1)), between(-1, 1), (p, ys, s) => {
        const y = Float64Array.from(ys)
        const f = (q: Autodiff.Traced<Params>, data: Tensor, scale: Tensor): Tensor =>
          T.add(T.mul(scale, treeLoss(q)), T.mul(T.sum(T.mul(data, data)), T.mul(scale, scale)))
        const both = Autodiff.grad<[Params, Float64Array, number]>(f, { argnums: [0, 2] })(
          p,
          y,
          s
        ) as unknown as [Autodiff.Plain<Params>, number]
        expect(Array.isArray(both)).toBe(true)
        expect(both).toHaveLength(2)
        const gp = both[0]
        const gs = both[1]
        // d/d scale = treeLoss + 2·scale·|y|²; d/dq = scale·∇treeLoss.
        const loss = Autodiff.valueAndGrad<[Params]>(treeLoss)(p)
        const yy = dotArrays(y, y)
        assertClose(gs, loss.value + 2 * s * yy, { rtol: 0, atol: 8 * U * (Math.abs(loss.value) + 2 * yy) })
        const scaled = loss.gradient as Autodiff.Plain<Params>
        // The cotangent s enters each path of the gradient instead of multiplying the sum:
        // equal up to ROUNDINGS·u of the terms (≤ 8, |s| ≤ 1).
        const scaledAtol = 2 * ROUNDINGS * U * 8
        assertClose(
          gp.a,
          scaled.a.map((v) => s * v),
          { rtol: 0, atol: scaledAtol }
        )
        assertClose(
          gp.b.c,
          { ...scaled.b.c, data: scaled.b.c.data.map((v) => s * v) },
          { rtol: 0, atol: scaledAtol }
        )
        assertClose(gp.b.d, s * scaled.b.d, { rtol: 0, atol: scaledAtol })
        const gy = Autodiff.grad<[Params, Float64Array, number]>(f, { argnums: 1 })(
          p,
          y,
          s
        ) as unknown as Float64Array
        expect(gy).toBeInstanceOf(Float64Array)
        // 2·y·s² in another association: ≤ 3 roundings on each side.
        assertClose(
          gy,
          y.map((v) => 2 * v * s * s),
          { rtol: 8 * U, atol: UNDERFLOW_ATOL }
        )
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("arguments that are not differentiated also arrive as trees of tensors", () => {
    const f = (w: Tensor, data: Autodiff.Traced<{ X: Matrix; y: Float64Array }>): Tensor => {
      expect(data.X).toBeInstanceOf(T.Tensor)
      expect(data.y).toBeInstanceOf(T.Tensor)
      expect(data.X.shape).toEqual([2, 2])
      return T.sum(T.mul(T.matmul(data.X, w), data.y))
    }
    const X: Matrix = { rows: 2, cols: 2, data: new Float64Array([1, 2, 3, 4]) }
    const g = Autodiff.grad<[Float64Array, { X: Matrix; y: Float64Array }]>(f)(new Float64Array([1, 1]), {
      X,
      y: new Float64Array([1, -1])
    })
    expect(Array.from(g)).toEqual([-2, -2])
  })

  it("hvp over a tree equals hvp over the packed vector", () => {
    fc.assert(
      fc.property(treeParams, (p) => {
        const n = p.a.length
        const { rows, cols } = p.b.c
        const packed = (z: Tensor): Tensor => {
          const [a, c, d] = split(z, [[n], [rows, cols], []])
          return treeLoss({ a: a!, b: { c: c!, d: d! } })
        }
        const v: Params = {
          a: p.a.map((_, i) => Math.cos(i)),
          b: { c: { rows, cols, data: p.b.c.data.map((_, i) => Math.sin(i)) }, d: 0.5 }
        }
        const tree = Autodiff.hvp<Params>(treeLoss, p, v)
        const flat = Autodiff.hvp<Float64Array>(
          packed,
          Float64Array.from([...p.a, ...p.b.c.data, p.b.d]),
          Float64Array.from([...v.a, ...v.b.c.data, v.b.d])
        )
        expect(tree.a).toBeInstanceOf(Float64Array)
        expect(typeof tree.b.d).toBe("number")
        // ⟨∇f, v⟩ is summed leaf by leaf for the tree and in one sum for the packed
        // vector, so the results differ by rounding of terms ≤ 8 (see above).
        assertClose(Float64Array.from([...tree.a, ...tree.b.c.data, tree.b.d]), flat, {
          rtol: 0,
          atol: 2 * ROUNDINGS * U * 8
        })
      }),
      { seed: SEED, numRuns: 20 }
    )
  })
})

// ── custom rules ──────────────────────────────────────────────────────────

const softplusVjp = Autodiff.customVjp(
  ([x]) => T.softplus(x!),
  (g, _y, [x]) => [T.mul(g, T.sigmoid(x!))]
)
const softplusJvp = Autodiff.customJvp(
  ([x]) => T.softplus(x!),
  ([x], [t]) => T.mul(t!, T.sigmoid(x!))
)
/** x³ with a forward pass that is not traceable (a plain loop) and a rule in traced ops. */
const cube = Autodiff.customVjp(
  ([x]) => {
    const out = new Float64Array(x!.size)
    for (let i = 0; i < out.length; i++) out[i] = x!.data[i]! ** 3
    return T.reshape(out, x!.shape)
  },
  (g, _y, [x]) => [T.mul(g, T.mul(3, T.mul(x!, x!)))]
)
/** a·sin(b) by its forward rule (two arguments). */
const aSinB = Autodiff.customJvp(
  ([a, b]) => T.mul(a!, T.sin(b!)),
  ([a, b], [ta, tb]) => T.add(T.mul(ta!, T.sin(b!)), T.mul(T.mul(a!, T.cos(b!)), tb!))
)

describe("custom rules", () => {
  const logistic = fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }))
    .chain(([m, d]) =>
      fc.tuple(
        matrixOf(m, d),
        values(m, fc.constantFrom(0, 1)),
        values(d, between(-2, 2)),
        values(d, between(-1, 1))
      )
    )
    .map(([X, y, w, v]) => {
      const loss =
        (softplus: (x: Tensor) => Tensor) =>
        (z: Tensor): Tensor => {
          const s = T.matmul(X, z)
          return T.mean(T.sub(softplus(s), T.mul(Float64Array.from(y), s)))
        }
      return { loss, w: Float64Array.from(w), v: Float64Array.from(v) }
    })

  it("customVjp and customJvp softplus give the built-in's gradient, HVP and JVP", () => {
    fc.assert(
      fc.property(logistic, ({ loss, w, v }) => {
        const builtIn = loss(T.softplus)
        const g = gradient(builtIn, w)
        const hv = Autodiff.hvp<Float64Array>(builtIn, w, v)
        const jv = Autodiff.jvp<Float64Array>(builtIn, w, v).tangent
        for (const custom of [loss((x) => softplusVjp(x)), loss((x) => softplusJvp(x))]) {
          // The rules are the built-in's rule written by hand (g·σ(x)), so the same
          // operations run in the same order: the results are equal bit for bit.
          assertClose(gradient(custom, w), g, { rtol: 0, atol: 0, label: "gradient" })
          assertClose(Autodiff.hvp<Float64Array>(custom, w, v), hv, { rtol: 0, atol: 0, label: "hvp" })
          assertClose(Autodiff.jvp<Float64Array>(custom, w, v).tangent as number, jv as number, {
            rtol: 0,
            atol: 0,
            label: "jvp"
          })
        }
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("a rule written with traced ops composes with hvp even when the forward pass is not traceable", () => {
    fc.assert(
      fc.property(values(4, between(-2, 2)), values(4, between(-1, 1)), (xs, vs) => {
        const x = Float64Array.from(xs)
        const v = Float64Array.from(vs)
        const f = (z: Tensor): Tensor => T.sum(cube(z))
        // ∇f = 3x², ∇²f·v = 6x⊙v, J·v = 3x²⊙v: ≤ 4 roundings on each side, each
        // relative u, or absolute ½·2⁻¹⁰⁷⁴ when the result underflows (tiny x).
        assertClose(
          gradient(f, x),
          x.map((t) => 3 * t * t),
          { rtol: 8 * U, atol: UNDERFLOW_ATOL }
        )
        assertClose(
          Autodiff.hvp<Float64Array>(f, x, v),
          x.map((t, i) => 6 * t * v[i]!),
          { rtol: 8 * U, atol: UNDERFLOW_ATOL }
        )
        // Under jvp (the derivative of the rule's VJP): J·v = 3x²⊙v.
        const { tangent } = Autodiff.jvp<Float64Array>((z) => cube(z), x, v)
        assertClose(
          tangent as Float64Array,
          x.map((t, i) => 3 * t * t * v[i]!),
          { rtol: 8 * U, atol: UNDERFLOW_ATOL }
        )
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("a two-argument customJvp gives the built-in's gradient and HVP in both arguments", () => {
    fc.assert(
      fc.property(values(6, between(-2, 2)), values(6, between(-1, 1)), (xs, vs) => {
        const x = Float64Array.from(xs)
        const v = Float64Array.from(vs)
        const make =
          (op: (a: Tensor, b: Tensor) => Tensor) =>
          (z: Tensor): Tensor => {
            const [a, b] = split(z, [[3], [3]])
            return T.sum(T.mul(op(a!, b!), T.tanh(a!)))
          }
        const custom = make((a, b) => aSinB(a, b))
        const builtIn = make((a, b) => T.mul(a, T.sin(b)))
        // The derived VJP multiplies the same factors in another order: equal to a few
        // roundings of terms ≤ 2·1·2 (gradient) and ≤ 8·(1 + 2)·… ≤ 40 (HVP).
        assertClose(gradient(custom, x), gradient(builtIn, x), { rtol: 0, atol: 2 * ROUNDINGS * U * 4 })
        assertClose(Autodiff.hvp<Float64Array>(custom, x, v), Autodiff.hvp<Float64Array>(builtIn, x, v), {
          rtol: 0,
          atol: 2 * ROUNDINGS * U * 40
        })
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("checkGrad reports a wrong rule", () => {
    const wrong = Autodiff.customVjp(
      ([x]) => T.softplus(x!),
      (g, _y, [x]) => [T.mul(g, T.mul(2, T.sigmoid(x!)))]
    )
    const x = new Float64Array([-1, 0.5, 2])
    const result = Autodiff.checkGrad((z) => T.sum(wrong(z)), x)
    expect(result.ok).toBe(false)
    expect(result.worstIndex).toBeGreaterThanOrEqual(0)
    // The wrong rule doubles σ(x): the error is σ(xᵢ), largest at x = 2.
    expect(result.worstIndex).toBe(2)
    expect(result.maxAbsError).toBeCloseTo(1 / (1 + Math.exp(-2)), 6)
    expect(Autodiff.checkGrad((z) => T.sum(T.softplus(z)), x).ok).toBe(true)
  })
})

// ── conventions at non-differentiable points ─────────────────────────────

describe("documented conventions at non-differentiable points (as JAX)", () => {
  const g1 = (f: (x: Tensor) => Tensor, x: ArrayLike<number>): number[] =>
    // +0 for −0: the conventions are about values, not the sign of zero.
    Array.from(gradient(f, Float64Array.from(x)), (v) => v + 0)

  it("relu′(0) = 0 and |x|′ at 0 is 0", () => {
    expect(g1((x) => T.sum(T.relu(x)), [0, -1, 2])).toEqual([0, 0, 1])
    expect(g1((x) => T.sum(T.abs(x)), [0, -1, 2])).toEqual([0, -1, 1])
    expect(g1((x) => T.sum(T.abs(x)), [-0])).toEqual([0])
  })

  it("max and min split the cotangent equally between ties, per row or column", () => {
    expect(g1((x) => T.max(x), [2, 1, 2])).toEqual([0.5, 0, 0.5])
    expect(g1((x) => T.min(x), [1, 1, 1, 3])).toEqual([1 / 3, 1 / 3, 1 / 3, 0])
    // Row maxima weighted 1 and 10: ties in row 0 (two) and row 1 (three).
    const rows = (x: Tensor) => T.sum(T.mul(T.max(T.reshape(x, [2, 3]), 1), new Float64Array([1, 10])))
    expect(g1(rows, [1, 1, 0, 5, 5, 5])).toEqual([0.5, 0.5, 0, 10 / 3, 10 / 3, 10 / 3])
    const columns = (x: Tensor) => T.sum(T.mul(T.min(T.reshape(x, [2, 2]), 0), new Float64Array([1, 4])))
    expect(g1(columns, [1, 2, 1, 3])).toEqual([0.5, 4, 0.5, 0])
  })

  it("maximum and minimum split ties equally between their arguments (also when broadcast)", () => {
    const both = (f: (a: Tensor, b: Tensor) => Tensor, a: Float64Array, b: number) =>
      Autodiff.grad<[Float64Array, number]>(f, { argnums: [0, 1] })(a, b) as unknown as [Float64Array, number]
    const [ga, gb] = both((a, b) => T.sum(T.maximum(a, b)), new Float64Array([1, 0, 2]), 1)
    expect(Array.from(ga)).toEqual([0.5, 0, 1])
    expect(gb).toBe(1.5)
    const [ha, hb] = both((a, b) => T.sum(T.minimum(a, b)), new Float64Array([1, 0, 2]), 1)
    expect(Array.from(ha)).toEqual([0.5, 1, 0])
    expect(hb).toBe(1.5)
  })

  it("sqrt′(0) = +∞, norm′(0) = 0, and d/da a⁰ = 0 also at a = 0", () => {
    expect(g1((x) => T.sum(T.sqrt(x)), [0])).toEqual([Number.POSITIVE_INFINITY])
    expect(g1((x) => T.norm(x), [0, 0])).toEqual([0, 0])
    expect(g1((x) => T.sum(T.pow(x, 0)), [0, 2])).toEqual([0, 0])
    // d/db aᵇ at a = 0 is taken as 0.
    expect(g1((b) => T.sum(T.pow(0, b)), [1, 2])).toEqual([0, 0])
  })

  it("where selects: a non-finite value in the branch not taken affects neither value nor gradient", () => {
    const value = T.toValue(
      T.where(new Float64Array([1, 0]), new Float64Array([1, Infinity]), new Float64Array([Number.NaN, 3]))
    )
    expect(Array.from(value as Float64Array)).toEqual([1, 3])
    // where(x > 0, log x, 0) at x = (−1, 2): log(−1) is NaN but not taken.
    const f = (x: Tensor) => T.sum(T.where(T.relu(x), T.log(x), 0))
    const x = new Float64Array([-1, 2])
    expect(evaluate(f, x)[0]).toBe(Math.log(2))
    expect(g1(f, x)).toEqual([0, 0.5])
  })

  it("logSumExp is shift-invariant: its gradient (softmax) at x + 1000 equals that at x", () => {
    fc.assert(
      fc.property(values(5, between(-2, 2)), (xs) => {
        const x = Float64Array.from(xs)
        const shifted = x.map((t) => t + 1000)
        const lse = (z: Tensor) => T.logSumExp(z)
        const g = gradient(lse, x)
        // Shifting by 1000 rounds each entry by ≤ u·1002 before the (stable) softmax,
        // whose derivative is ≤ 1: entries agree to ~4·u·1002.
        assertClose(gradient(lse, shifted), g, { rtol: 0, atol: 8 * U * 1002 })
        assertClose(
          g.reduce((s, t) => s + t, 0),
          1,
          { rtol: 0, atol: 8 * U }
        )
        assertClose(evaluate(lse, shifted)[0]!, evaluate(lse, x)[0]! + 1000, { rtol: 0, atol: 8 * U * 1002 })
      }),
      { seed: SEED, numRuns: 30 }
    )
  })
})
