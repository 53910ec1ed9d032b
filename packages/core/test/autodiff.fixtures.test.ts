/**
 * Autodiff against JAX: values, gradients (`valueAndGrad`) and Hessian-vector
 * products (`hvp`) of four functions written with `Tensor` operations, compared
 * with `jax.grad` and `jax.jvp(jax.grad(f), (x,), (v,))` in float64
 * (`fixtures/autodiff.json`, made by the committed, seeded
 * `fixtures/generate_autodiff.py`, which records the JAX/NumPy versions and seed):
 *
 * - n-dimensional Rosenbrock, n = 2, 10, 100, two points each (`slice`, `pow`);
 * - L2-regularized logistic loss, X 200 × 20, at a moderate point and a saturated
 *   one where some margins exceed 710 (`softplus` must neither overflow nor cancel);
 * - softmax cross-entropy of a tanh MLP, differentiated with respect to the
 *   parameter tree { W1: Matrix, b1: vector, W2: Matrix, b2: vector } (every
 *   leaf compared);
 * - logsumexp(Ax + b), A 30 × 10, at a moderate point and one whose logits
 *   exceed 710 (the shift inside `logSumExp` must prevent exp overflow).
 *
 * Tolerances are derived from rounding-error bounds, not from observed errors.
 * For every reference quantity the generator stores `errorBound`: the largest,
 * over the quantity's entries, of a first-order bound on the rounding error of
 * its closed form (value, gradient and HVP written out by hand) in float64,
 * Σₖ |∂result/∂δₖ|·bₖ over every operation k with rounding error ≤ bₖ — the
 * linearized accumulated rounding error (Linnainmaa, BIT 16, 1976). Through
 * those derivatives the bound keeps the condition of each quantity: the
 * absolute error of large logits that softmax turns into relative error, the
 * cancellations in xᵢ₊₁ − xᵢ², σ(z) − y and q − pᵀq, the saturation of σ. Its
 * error model: each + − × ÷ within u = 2⁻⁵³ (a sum of n terms within
 * γₙ₋₁·Σ|terms| whatever its order, so any summation order is covered), each
 * exp/log/log1p/tanh within τ = 12u — XLA's are measured against correctly
 * rounded values by the generator (the worst, tanh, about 4u) and descent's
 * are checked below. The generator checks JAX against the closed form with the
 * same bound (`meta.maxJaxVsClosedFormOverBound`).
 *
 * Relative to a leaf's largest entry the allowances below come to 2e-15 to 5e-14 for
 * Rosenbrock (the sum of 99 terms and the cancellation in xᵢ₊₁ − xᵢ² dominate)
 * and 6e-15 to 7e-13 for the others (the 200- and 20-term sums of the
 * logistic loss and the softmax's sensitivity dominate). At the overflowing
 * logsumexp point the HVP is ~1e-40 (the top two logits are 94 apart: the
 * softmax is one-hot to e⁻⁹⁴), so only its absolute allowance, ~6e-14, applies
 * there: it checks that the result is finite and negligible.
 */
import { assertClose, loadFixture } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as Autodiff from "../src/Autodiff.ts"
import type { Matrix } from "../src/Matrix.ts"
import * as T from "../src/Tensor.ts"

// ---------------------------------------------------------------- tolerances --

/**
 * JAX and descent are each within their error bound of the exact value, so they
 * are within the sum of the two bounds of each other.
 */
const IMPLEMENTATIONS = 2

/**
 * The stored bound is for the closed form's sequence of operations. Both
 * libraries compute the same intermediate quantities through their autodiff
 * graphs instead: products re-associated (cotangent × local derivative),
 * cotangents of reused values accumulated by extra additions, multiplications
 * by the seeds 1 and 1/n, and in descent `pow(·, 2)` within 1 ulp rather than a
 * correctly rounded product. Every extra or re-associated rounding acts on an
 * intermediate of the same magnitude as one the closed form rounds, so each
 * library stays within twice the closed form's bound.
 */
const GRAPH_SLACK = 2

/**
 * The tolerance for a quantity with stored bound `errorBound`: absolute, from
 * the bound alone (it already contains every relative rounding), applied
 * entrywise with the largest bound of the quantity.
 */
const REFERENCE_RTOL = 0
const referenceAtol = (errorBound: number): number => IMPLEMENTATIONS * GRAPH_SLACK * errorBound

const tolerance = (errorBound: number, label: string) => ({
  rtol: REFERENCE_RTOL,
  atol: referenceAtol(errorBound),
  label
})

/**
 * The error model's accuracy of exp, log, log1p and tanh, relative (12u, 6 ulp
 * at worst); descent's must meet it for the bounds to apply to descent.
 */
const ELEMENTARY_RTOL = 12 * 2 ** -53

/**
 * Below 2⁻¹⁰²² results are subnormal and only absolutely accurate: the model's
 * allowance there is 6 subnormal steps.
 */
const ELEMENTARY_ATOL = 6 * Number.MIN_VALUE

// ------------------------------------------------------------------ fixture --

type Vec = ReadonlyArray<number>

interface FixtureMatrix {
  readonly rows: number
  readonly cols: number
  readonly data: Vec
}

interface Hvp {
  readonly v: Vec
  readonly hv: Vec
  readonly errorBound: number
}

interface Point {
  readonly name: string
  readonly value: number
  readonly gradient: Vec
  readonly hvps: ReadonlyArray<Hvp>
  readonly errorBound: { readonly value: number; readonly gradient: number }
}

interface MlpTree<A> {
  readonly W1: FixtureMatrix
  readonly b1: A
  readonly W2: FixtureMatrix
  readonly b2: A
}

const ELEMENTARY = { exp: T.exp, log: T.log, log1p: T.log1p, tanh: T.tanh } as const

type ElementaryName = keyof typeof ELEMENTARY

type MlpBounds = { readonly [K in keyof MlpTree<Vec>]: number }

interface AutodiffFixture {
  readonly meta: {
    readonly generator: string
    readonly jax: string
    readonly jaxlib: string
    readonly numpy: string
    readonly seed: number
    readonly jax_enable_x64: boolean
    readonly maxJaxVsClosedFormOverBound: number
    readonly elementaryFunctionRelativeError: number
  }
  readonly elementary: { readonly [K in ElementaryName]: { readonly x: Vec; readonly expected: Vec } }
  readonly rosenbrock: ReadonlyArray<Point & { readonly x: Vec }>
  readonly logistic: {
    readonly lambda: number
    readonly X: FixtureMatrix
    readonly y: Vec
    readonly points: ReadonlyArray<Point & { readonly w: Vec; readonly maxAbsMargin: number }>
  }
  readonly mlp: {
    readonly X: FixtureMatrix
    readonly Y: FixtureMatrix
    readonly params: MlpTree<Vec>
    readonly value: number
    readonly gradient: MlpTree<Vec>
    readonly hvps: ReadonlyArray<{
      readonly tangent: MlpTree<Vec>
      readonly hv: MlpTree<Vec>
      readonly errorBound: MlpBounds
    }>
    readonly errorBound: { readonly value: number; readonly gradient: MlpBounds }
  }
  readonly logSumExpAffine: {
    readonly A: FixtureMatrix
    readonly b: Vec
    readonly points: ReadonlyArray<Point & { readonly x: Vec; readonly maxLogit: number }>
  }
}

const fixture = loadFixture<AutodiffFixture>(import.meta.url, "./fixtures/autodiff.json")

const vector = (v: Vec): Float64Array => Float64Array.from(v)
const matrix = (m: FixtureMatrix): Matrix => ({ rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) })

// ---------------------------------------------------------------- functions --

/** Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)². */
const rosenbrock = (x: T.Tensor): T.Tensor => {
  const a = T.slice(x, 0, x.size - 1)
  const b = T.slice(x, 1, x.size)
  return T.sum(T.add(T.mul(100, T.pow(T.sub(b, T.mul(a, a)), 2)), T.pow(T.sub(1, a), 2)))
}

/** mean(softplus(Xw) − y ⊙ Xw) + λ/2‖w‖². */
const logisticLoss =
  (X: Matrix, y: Float64Array, lambda: number) =>
  (w: T.Tensor): T.Tensor => {
    const z = T.matmul(X, w)
    return T.add(T.mean(T.sub(T.softplus(z), T.mul(y, z))), T.mul(0.5 * lambda, T.sum(T.mul(w, w))))
  }

/** The MLP's parameters as descent receives them: a tree of a matrix, a vector, a matrix, a vector. */
type MlpParams = {
  readonly W1: Matrix
  readonly b1: Float64Array
  readonly W2: Matrix
  readonly b2: Float64Array
}

/** Softmax cross-entropy, mean over rows, of logits = tanh(X·W1ᵀ + b1)·W2ᵀ + b2 against one-hot Y. */
const mlpLoss =
  (X: Matrix, Y: Matrix) =>
  (p: Autodiff.Traced<MlpParams>): T.Tensor => {
    const H = T.tanh(T.add(T.matmul(X, T.transpose(p.W1)), p.b1))
    const logits = T.add(T.matmul(H, T.transpose(p.W2)), p.b2)
    return T.mean(T.sub(T.logSumExp(logits, 1), T.sum(T.mul(Y, logits), 1)))
  }

const mlpParams = (t: MlpTree<Vec>): MlpParams => ({
  W1: matrix(t.W1),
  b1: vector(t.b1),
  W2: matrix(t.W2),
  b2: vector(t.b2)
})

const MLP_KEYS = ["W1", "b1", "W2", "b2"] as const

/** log Σ exp(Ax + b). */
const logSumExpAffine =
  (A: Matrix, b: Float64Array) =>
  (x: T.Tensor): T.Tensor =>
    T.logSumExp(T.add(T.matmul(A, x), b))

// -------------------------------------------------------------------- tests --

/** Value and gradient of a function of one vector, then each HVP, against the point's references. */
const checkVectorPoint = (f: (x: T.Tensor) => T.Tensor, x: Float64Array, point: Point): void => {
  const { value, gradient } = Autodiff.valueAndGrad<[Float64Array]>(f)(x)
  assertClose(value, point.value, tolerance(point.errorBound.value, `${point.name}: value`))
  expect(gradient).toBeInstanceOf(Float64Array)
  assertClose(
    gradient as Float64Array,
    point.gradient,
    tolerance(point.errorBound.gradient, `${point.name}: gradient`)
  )
  point.hvps.forEach((h, k) => {
    const hv = Autodiff.hvp(f, x, vector(h.v))
    assertClose(hv, h.hv, tolerance(h.errorBound, `${point.name}: hvp ${k}`))
  })
}

describe("autodiff fixture", () => {
  it("was generated by JAX in float64 and its bounds hold for JAX", () => {
    expect(fixture.meta.generator).toBe("packages/core/test/fixtures/generate_autodiff.py")
    expect(fixture.meta.jax_enable_x64).toBe(true)
    expect(fixture.meta.jax).toMatch(/^\d+\.\d+/)
    expect(fixture.meta.numpy).toMatch(/^\d+\.\d+/)
    expect(Number.isInteger(fixture.meta.seed)).toBe(true)
    expect(fixture.meta.maxJaxVsClosedFormOverBound).toBeLessThanOrEqual(1)
    expect(fixture.meta.elementaryFunctionRelativeError).toBe(ELEMENTARY_RTOL)
  })

  it.each(["exp", "log", "log1p", "tanh"] as const)(
    "its error model holds for descent's %s (correctly rounded references)",
    (name) => {
      const { x, expected } = fixture.elementary[name]
      expect(x.length).toBeGreaterThanOrEqual(256)
      assertClose(ELEMENTARY[name](vector(x)).data, expected, {
        rtol: ELEMENTARY_RTOL,
        atol: ELEMENTARY_ATOL,
        label: name
      })
    }
  )
})

describe("Rosenbrock against JAX", () => {
  it.each(fixture.rosenbrock.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    checkVectorPoint(rosenbrock, vector(c.x), c)
  })

  it("covers n = 2, 10 and 100", () => {
    expect(new Set(fixture.rosenbrock.map((c) => c.x.length))).toEqual(new Set([2, 10, 100]))
  })
})

describe("L2-regularized logistic loss against JAX", () => {
  const { X, y, lambda, points } = fixture.logistic
  const f = logisticLoss(matrix(X), vector(y), lambda)

  it.each(points.map((p) => [p.name, p] as const))("%s point", (_name, p) => {
    checkVectorPoint(f, vector(p.w), p)
  })

  it("includes margins beyond exp's overflow threshold", () => {
    expect(Math.max(...points.map((p) => p.maxAbsMargin))).toBeGreaterThan(710)
  })
})

describe("MLP softmax cross-entropy against JAX, parameters as a tree", () => {
  const m = fixture.mlp
  const f = mlpLoss(matrix(m.X), matrix(m.Y))
  const params = mlpParams(m.params)

  it("value and gradient of every leaf", () => {
    const { value, gradient } = Autodiff.valueAndGrad<[MlpParams]>(f)(params)
    assertClose(value, m.value, tolerance(m.errorBound.value, "value"))
    const g = gradient as Autodiff.Plain<MlpParams>
    expect(Object.keys(g).sort()).toEqual([...MLP_KEYS].sort())
    for (const k of MLP_KEYS) {
      assertClose(g[k], m.gradient[k], tolerance(m.errorBound.gradient[k], `gradient ${k}`))
    }
  })

  it.each(m.hvps.map((h, k) => [k, h] as const))("HVP along tangent tree %i, every leaf", (_k, h) => {
    const hv = Autodiff.hvp(f, params, mlpParams(h.tangent))
    expect(Object.keys(hv).sort()).toEqual([...MLP_KEYS].sort())
    for (const k of MLP_KEYS) {
      assertClose(hv[k], h.hv[k], tolerance(h.errorBound[k], `hvp ${k}`))
    }
  })

  it("returns matrices for the matrix leaves and vectors for the vector leaves", () => {
    const g = Autodiff.grad<[MlpParams]>(f)(params)
    expect(g.W1).toMatchObject({ rows: 8, cols: 5 })
    expect(g.W2).toMatchObject({ rows: 3, cols: 8 })
    expect(g.b1).toBeInstanceOf(Float64Array)
    expect(g.b2).toBeInstanceOf(Float64Array)
  })
})

describe("logsumexp(Ax + b) against JAX", () => {
  const { A, b, points } = fixture.logSumExpAffine
  const f = logSumExpAffine(matrix(A), vector(b))

  it.each(points.map((p) => [p.name, p] as const))("%s point", (_name, p) => {
    checkVectorPoint(f, vector(p.x), p)
  })

  it("includes logits beyond exp's overflow threshold", () => {
    expect(Math.max(...points.map((p) => p.maxLogit))).toBeGreaterThan(710)
  })
})
