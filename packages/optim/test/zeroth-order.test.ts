import { Blas1, Blas2, Errors, Random, Vector } from "@descent/core"
import { Lu } from "@descent/linalg"
import {
  assertBitIdentical,
  assertClose,
  loadFixture,
  matrixFromRows,
  vectorOfLength
} from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Optimizers from "../src/Optimizers.ts"
import { polyakSgd } from "../src/Polyak.ts"
import * as ZerothOrder from "../src/ZerothOrder.ts"

interface Fixture {
  readonly quadratic: {
    readonly d: number
    readonly Q: number[][]
    readonly c: number[]
    readonly x: number[]
    readonly gradient: number[]
  }
}

const { quadratic: q } = loadFixture<Fixture>(import.meta.url, "fixtures/stochastic.json")
const n = q.d
const Q = matrixFromRows(q.Q)
const c = Vector.fromArray(q.c)
const scratch = Vector.zeros(n)
/** f(x) = ½xᵀQx + cᵀx (Q SPD, eigenvalues 1…5), ∇f = Qx + c. */
const quadratic = {
  dimension: n,
  value: (x: Float64Array): number => {
    Blas2.gemv(1, Q, x, 0, scratch)
    return 0.5 * Blas1.dot(x, scratch) + Blas1.dot(c, x)
  }
}
const x = Vector.fromArray(q.x)
const gradient = Vector.fromArray(q.gradient)
const minimizer = Lu.solve(Q, c).map((v) => -v)

/** fast-check runs from a pinned seed. */
const FC = { seed: 20_251_207, numRuns: 30 } as const

/** Draws `samples` estimates with keys foldIn(key, k); returns their mean and per-coordinate variance. */
const sampleEstimates = <W>(
  estimator: ZerothOrder.GradientEstimator<W>,
  samples: number
): { mean: Float64Array; variance: Float64Array } => {
  const w = estimator.init(n)
  const g = Vector.zeros(n)
  const mean = Vector.zeros(n)
  const second = Vector.zeros(n)
  const key = Random.key(11)
  const f = (v: Float64Array) => quadratic.value(v)
  const fx = f(x)
  for (let k = 0; k < samples; k++) {
    estimator.estimate(f, x, fx, Random.foldIn(key, k), g, w)
    for (let i = 0; i < n; i++) {
      mean[i] = mean[i]! + g[i]! / samples
      second[i] = second[i]! + (g[i]! * g[i]!) / samples
    }
  }
  const variance = second.map((s, i) => (s - mean[i]! * mean[i]!) * (samples / (samples - 1)))
  return { mean, variance }
}

/**
 * Unbiasedness is tested on the sample mean of N estimates: per coordinate
 * |mean − ∂ᵢf| ≤ Z·σᵢ/√N with the EXACT variance σᵢ² of the estimator on a
 * quadratic (below) and Z = 5, a two-sided tail of 5.7e-7 per coordinate.
 * The keys are pinned, so this is a deterministic check whose threshold is a
 * 5σ event, not a tuned constant.
 */
const Z = 5
const SAMPLES = 20_000
/**
 * The sample variance itself must match the analytic σᵢ²: its relative
 * standard error is √((κ − 1)/N) with κ the kurtosis of gᵢ (≤ 15 for these
 * products of Gaussians / signs), ≤ 2.7% at N = 20 000; 15% is > 5 of them.
 */
const VARIANCE_RTOL = 0.15

const normSquared = Blas1.dot(gradient, gradient)

describe("zeroth-order estimators are unbiased on a quadratic", () => {
  // For a quadratic, f(x + μu) − f(x) = μ·∇fᵀu + (μ²/2)·uᵀQu: the forward
  // Gaussian estimate is (∇fᵀu)u + (μ/2)(uᵀQu)u, whose second term has mean
  // zero (odd in u) and variance (μ/2)²·E[(uᵀQu)²uᵢ²] < 1e-9 for μ = 1e-6
  // (tr Q = 15): negligible. (∇fᵀu)u has Var = ‖∇f‖² + (∂ᵢf)² (Isserlis).
  // The central versions are exactly (∇fᵀu)u and (∇fᵀΔ)Δ; for Rademacher Δ,
  // Var = ‖∇f‖² − (∂ᵢf)².
  const cases = [
    {
      name: "Gaussian smoothing, forward (Nesterov & Spokoiny)",
      estimator: ZerothOrder.gaussianSmoothing(),
      variance: (i: number) => normSquared + gradient[i]! ** 2
    },
    {
      name: "Gaussian smoothing, central",
      estimator: ZerothOrder.gaussianSmoothing({ difference: "central", smoothing: 1e-3 }),
      variance: (i: number) => normSquared + gradient[i]! ** 2
    },
    {
      name: "Gaussian smoothing, 4 directions (variance / 4)",
      estimator: ZerothOrder.gaussianSmoothing({ difference: "central", directions: 4 }),
      variance: (i: number) => (normSquared + gradient[i]! ** 2) / 4
    },
    {
      name: "SPSA, Rademacher perturbations (Spall)",
      estimator: ZerothOrder.spsa(),
      variance: (i: number) => normSquared - gradient[i]! ** 2
    },
    {
      name: "SPSA, 3 directions (variance / 3)",
      estimator: ZerothOrder.spsa({ directions: 3, perturbation: 0.1 }),
      variance: (i: number) => (normSquared - gradient[i]! ** 2) / 3
    }
  ] as const
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_name, t) => {
    const { mean, variance } = sampleEstimates(t.estimator as ZerothOrder.GradientEstimator<unknown>, SAMPLES)
    for (let i = 0; i < n; i++) {
      const sigma = Math.sqrt(t.variance(i))
      expect(Math.abs(mean[i]! - gradient[i]!)).toBeLessThanOrEqual((Z * sigma) / Math.sqrt(SAMPLES))
      assertClose(variance[i]!, t.variance(i), { rtol: VARIANCE_RTOL, label: `variance of coordinate ${i}` })
    }
  })

  it("estimates are a pure function of the key, and restore x", () => {
    for (const e of [ZerothOrder.gaussianSmoothing({ directions: 2 }), ZerothOrder.spsa()]) {
      const w = e.init(n)
      const a = Vector.zeros(n)
      const b = Vector.zeros(n)
      const before = Vector.clone(x)
      const f = (v: Float64Array) => quadratic.value(v)
      e.estimate(f, x, f(x), Random.key(5), a, w as never)
      e.estimate(f, x, f(x), Random.key(5), b, w as never)
      assertBitIdentical(a, b, e.name)
      assertBitIdentical(x, before, "x restored")
    }
  })
})

describe("coordinate finite differences", () => {
  // f(x) = Σᵢ e^{xᵢ} + ½(Σᵢ xᵢ)²: ∂ᵢf = e^{xᵢ} + Σⱼxⱼ, ∂ᵢ²f = e^{xᵢ} + 1,
  // ∂ᵢ³f = e^{xᵢ} (the coupling is quadratic, so only the exponential
  // contributes truncation error).
  const smooth = {
    dimension: 4,
    value: (v: Float64Array) => {
      let s = 0
      let e = 0
      for (let i = 0; i < v.length; i++) {
        e += Math.exp(v[i]!)
        s += v[i]!
      }
      return e + 0.5 * s * s
    }
  }
  const point = Vector.fromArray([0.3, -0.7, 0.1, 0.9])
  const sum = point.reduce((a, b) => a + b, 0)
  const exact = point.map((v) => Math.exp(v) + sum)
  const errorsAt = (difference: ZerothOrder.Difference, h: number): Float64Array => {
    const e = ZerothOrder.coordinateDifferences({ difference, step: h })
    const g = Vector.zeros(4)
    const f = (v: Float64Array) => smooth.value(v)
    e.estimate(f, point, f(point), Random.key(0), g, e.init(4))
    return g.map((v, i) => v - exact[i]!)
  }

  /**
   * Central differences: error = (h²/6)·∂ᵢ³f + O(h⁴) (the h⁴ term is
   * (h⁴/120)·e^{xᵢ}, < 2e-10 of it at h = 1e-2; rounding, ε·|f|/h ≈ 2e-13,
   * is smaller still). The leading term must match to 1%, and halving h
   * must divide the error by 4 ± 1%.
   */
  const LEADING_TERM_RTOL = 0.01
  it("central differences match the true gradient to O(h²)", () => {
    for (const h of [1e-2, 5e-3, 2.5e-3]) {
      const err = errorsAt("central", h)
      for (let i = 0; i < 4; i++) {
        assertClose(err[i]!, ((h * h) / 6) * Math.exp(point[i]!), { rtol: LEADING_TERM_RTOL })
      }
    }
    const e1 = errorsAt("central", 1e-2)
    const e2 = errorsAt("central", 5e-3)
    for (let i = 0; i < 4; i++) assertClose(e1[i]! / e2[i]!, 4, { rtol: LEADING_TERM_RTOL })
  })

  it("forward differences match to O(h), error ≈ (h/2)·∂ᵢ²f", () => {
    for (const h of [1e-4, 5e-5]) {
      const err = errorsAt("forward", h)
      for (let i = 0; i < 4; i++)
        assertClose(err[i]!, (h / 2) * (Math.exp(point[i]!) + 1), { rtol: LEADING_TERM_RTOL })
    }
  })

  /**
   * With the default relative step ε^(1/3) ≈ 6e-6, central differences of a
   * quadratic have no truncation error; what remains is rounding,
   * ≈ ε·|f|/h·‖x‖-ish ≈ 1e-10 for |f|, |xᵢ| ≤ 10: 1e-8 absolute bounds it with margin.
   */
  const QUADRATIC_ROUNDING = 1e-8
  it("default central differences of a quadratic equal its gradient to rounding (fast-check)", () => {
    fc.assert(
      fc.property(vectorOfLength(n, 3), (v) => {
        const e = ZerothOrder.coordinateDifferences()
        const g = Vector.zeros(n)
        const f = (u: Float64Array) => quadratic.value(u)
        e.estimate(f, v, f(v), Random.key(0), g, e.init(n))
        const expected = Vector.clone(c)
        Blas2.gemv(1, Q, v, 1, expected)
        assertClose(g, expected, { rtol: 0, atol: QUADRATIC_ROUNDING })
      }),
      FC
    )
  })
})

describe("ZerothOrder.minimize: any gradient transform fed by an estimator", () => {
  const error = (v: Float64Array): number => Math.max(...v.map((vi, i) => Math.abs(vi - minimizer[i]!)))

  /**
   * On a quadratic the central estimators' noise is multiplicative ((∇fᵀu)u
   * vanishes with ∇f), so constant-step SGD converges linearly to the
   * minimizer (at lr 0.05 these runs are within 1e-8 after 400–600
   * iterations; the budget is 1500).
   */
  const ZO_ACCURACY = 1e-8
  it.each([
    ["central differences", ZerothOrder.coordinateDifferences(), 2 * n],
    ["Gaussian smoothing, central", ZerothOrder.gaussianSmoothing({ difference: "central" }), 2],
    ["SPSA", ZerothOrder.spsa(), 2]
  ] as const)(
    "%s + sgd reaches the minimizer; counts.value = (iterations + 1)·(1 + evaluations)",
    (_n, estimator, per) => {
      const r = ZerothOrder.minimize(quadratic, x, Optimizers.sgd(0.05), estimator as never, {
        maxIterations: 1500
      })
      expect(r.status).toBe("maxIterations")
      expect(error(r.x)).toBeLessThanOrEqual(ZO_ACCURACY)
      expect(r.counts.value).toBe((r.iterations + 1) * (1 + per))
      expect(r.counts.gradient).toBe(0)
    }
  )

  it("works with Adam and with the Polyak step (f(x) passed in extras.value)", () => {
    const fStar = quadratic.value(minimizer)
    const adam = ZerothOrder.minimize(quadratic, x, Optimizers.adam(0.05), ZerothOrder.spsa(), {
      maxIterations: 2000
    })
    expect(error(adam.x)).toBeLessThanOrEqual(ZO_ACCURACY)
    const polyak = ZerothOrder.minimize(
      quadratic,
      x,
      polyakSgd({ fMin: fStar }),
      ZerothOrder.gaussianSmoothing({ difference: "central" }),
      { maxIterations: 2000 }
    )
    // The Polyak step stops moving once ‖ĝ‖² ≤ 2⁻⁵² (see Polyak.ts): 1e-7 is above that floor.
    expect(error(polyak.x)).toBeLessThanOrEqual(1e-7)
  })

  it("deterministic estimators stop on tolerance; the same key reproduces a run bit for bit", () => {
    const r = ZerothOrder.minimize(quadratic, x, Optimizers.sgd(0.1), ZerothOrder.coordinateDifferences(), {
      tolerance: 1e-9,
      maxIterations: 1000
    })
    expect(r.status).toBe("converged")
    expect(r.gradientNorm).toBeLessThanOrEqual(1e-9)
    const a = ZerothOrder.minimize(quadratic, x, Optimizers.sgd(0.05), ZerothOrder.spsa(), {
      maxIterations: 50,
      key: Random.key(3)
    })
    const b = ZerothOrder.minimize(quadratic, x, Optimizers.sgd(0.05), ZerothOrder.spsa(), {
      maxIterations: 50,
      key: Random.key(3)
    })
    assertBitIdentical(a.x, b.x, "same key")
  })

  it("a step size far too large diverges; x is the last finite iterate", () => {
    // sgd(10) multiplies the error by up to |1 − 10·5| = 49 per step: overflow after ~180 steps.
    const r = ZerothOrder.minimize(quadratic, x, Optimizers.sgd(10), ZerothOrder.coordinateDifferences(), {
      maxIterations: 1000
    })
    expect(r.status).toBe("diverged")
    expect(r.iterations).toBeLessThan(1000)
    expect(Number.isFinite(r.fun)).toBe(true)
    expect(r.x.every(Number.isFinite)).toBe(true)
    // The last finite iterate is the one reached after iterations − 1 steps.
    const before = ZerothOrder.minimize(
      quadratic,
      x,
      Optimizers.sgd(10),
      ZerothOrder.coordinateDifferences(),
      {
        maxIterations: r.iterations - 1
      }
    )
    assertBitIdentical(r.x, before.x, "last finite iterate")
  })

  it("throws typed errors for bad starts and options", () => {
    const sgd = Optimizers.sgd(0.1)
    const est = ZerothOrder.spsa()
    expect(() => ZerothOrder.minimize(quadratic, Vector.zeros(n + 1), sgd, est)).toThrow(
      Errors.DimensionMismatch
    )
    expect(() =>
      ZerothOrder.minimize(quadratic, Vector.fromArray([Number.NaN, 0, 0, 0, 0]), sgd, est)
    ).toThrow(Errors.NonFiniteInput)
    const infinite = { dimension: 1, value: () => Number.POSITIVE_INFINITY }
    expect(() => ZerothOrder.minimize(infinite, Vector.zeros(1), sgd, est)).toThrow(Errors.NonFiniteInput)
    expect(() => ZerothOrder.minimize(quadratic, x, sgd, est, { tolerance: -1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => ZerothOrder.minimize(quadratic, x, sgd, est, { key: [0.5, 0] as never })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => ZerothOrder.gaussianSmoothing({ smoothing: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => ZerothOrder.gaussianSmoothing({ directions: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => ZerothOrder.coordinateDifferences({ difference: "backward" as never })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => ZerothOrder.spsa({ perturbation: Number.NaN })).toThrow(Errors.InvalidOptions)
  })
})
