import { Errors, type Objective, Solver } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as GradientDescent from "../src/GradientDescent.ts"
import * as Lbfgs from "../src/Lbfgs.ts"
import * as LbfgsB from "../src/LbfgsB.ts"
import type { MinimizeOptions, MinimizeResult } from "../src/Minimize.ts"
import * as NonlinearCg from "../src/NonlinearCg.ts"
import { rosenbrock } from "./quasiNewtonProblems.ts"

/** f(x) = ½Σ wᵢ(xᵢ − cᵢ)² with weights 1…n. */
const separable = (center: ReadonlyArray<number>): Objective.Objective => ({
  dimension: center.length,
  value: (x) => center.reduce((s, c, i) => s + 0.5 * (i + 1) * (x[i]! - c) ** 2, 0),
  valueAndGradient: (x, g) => {
    let f = 0
    for (let i = 0; i < center.length; i++) {
      const r = x[i]! - center[i]!
      g[i] = (i + 1) * r
      f += 0.5 * (i + 1) * r * r
    }
    return f
  }
})

type Minimizer = (
  objective: Objective.Objective,
  x0: Float64Array,
  options?: MinimizeOptions
) => MinimizeResult

const solvers: ReadonlyArray<readonly [string, Minimizer]> = [
  ["GradientDescent", GradientDescent.minimize],
  ["NonlinearCg", NonlinearCg.minimize],
  ["Lbfgs", Lbfgs.minimize],
  ["LbfgsB", LbfgsB.minimize]
]

describe("errors", () => {
  it.each(solvers)("%s: NonFiniteInput for a NaN start, a NaN f(x0) or ∇f(x0)", (_name, minimize) => {
    const f = separable([1, 2])
    expect(() => minimize(f, new Float64Array([Number.NaN, 0]))).toThrow(Errors.NonFiniteInput)
    const nanValue: Objective.Objective = {
      ...f,
      valueAndGradient: (x, g) => {
        f.valueAndGradient(x, g)
        return Number.NaN
      }
    }
    expect(() => minimize(nanValue, new Float64Array([0, 0]))).toThrow(Errors.NonFiniteInput)
    const infGradient: Objective.Objective = {
      ...f,
      valueAndGradient: (x, g) => {
        const v = f.valueAndGradient(x, g)
        g[1] = Number.POSITIVE_INFINITY
        return v
      }
    }
    expect(() => minimize(infGradient, new Float64Array([0, 0]))).toThrow(Errors.NonFiniteInput)
  })

  it.each(solvers)("%s: DimensionMismatch for a start of the wrong length", (_name, minimize) => {
    expect(() => minimize(separable([1, 2]), new Float64Array(3))).toThrow(Errors.DimensionMismatch)
  })

  it.each(solvers)("%s: InvalidOptions for a bad budget or tolerance", (_name, minimize) => {
    const f = separable([1, 2])
    const x0 = new Float64Array(2)
    expect(() => minimize(f, x0, { maxIterations: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => minimize(f, x0, { tolerance: -1 } as MinimizeOptions)).toThrow(Errors.InvalidOptions)
    expect(() => minimize(f, x0, { functionTolerance: Number.NaN } as MinimizeOptions)).toThrow(
      Errors.InvalidOptions
    )
  })

  it("solver-specific options are checked", () => {
    const f = separable([1, 2])
    const x0 = new Float64Array(2)
    const bad: ReadonlyArray<() => unknown> = [
      () => GradientDescent.minimize(f, x0, { stepSize: 0 }),
      () => GradientDescent.minimize(f, x0, { stepGrowth: 0.5 }),
      () => GradientDescent.minimize(f, x0, { lineSearch: { shrink: 1 } }),
      () => NonlinearCg.minimize(f, x0, { beta: "dai-yuan" as never }),
      () => NonlinearCg.minimize(f, x0, { restartEvery: -1 }),
      () => NonlinearCg.minimize(f, x0, { restartThreshold: -1 }),
      () => NonlinearCg.minimize(f, x0, { lineSearch: { curvature: 1e-5 } }),
      () => Lbfgs.minimize(f, x0, { memory: 0 }),
      () => LbfgsB.minimize(f, x0, { memory: 1.5 }),
      () => LbfgsB.minimize(f, x0, { maxLineSearchTrials: 0 })
    ]
    for (const call of bad) expect(call).toThrow(Errors.InvalidOptions)
  })

  it("LbfgsB: InvalidOptions when a lower bound exceeds its upper bound, DimensionMismatch for a bound of the wrong length", () => {
    const f = separable([1, 2])
    const x0 = new Float64Array(2)
    const error = (() => {
      try {
        LbfgsB.minimize(f, x0, { lower: [0, 3], upper: [1, 2] })
      } catch (e) {
        return e
      }
    })() as Errors.InvalidOptions
    expect(error).toBeInstanceOf(Errors.InvalidOptions)
    expect(error.field).toBe("lower[1]")
    expect(() => LbfgsB.minimize(f, x0, { lower: Number.NaN })).toThrow(Errors.InvalidOptions)
    expect(() => LbfgsB.minimize(f, x0, { lower: [0, 0, 0] })).toThrow(Errors.DimensionMismatch)
  })
})

describe("statuses", () => {
  const f = separable([1, -2, 3])
  const x0 = new Float64Array([5, 5, 5])

  it.each(solvers)("%s: converged, maxIterations and interrupted", (_name, minimize) => {
    const done = minimize(f, x0, { maxIterations: 5000 })
    expect(done.status).toBe("converged")
    expect(done.gradientNorm).toBeLessThanOrEqual(1e-5)
    expect(done.message.length).toBeGreaterThan(0)
    const budget = minimize(rosenbrock(4), new Float64Array([-1.2, 1, -1.2, 1]), { maxIterations: 3 })
    expect(budget.status).toBe("maxIterations")
    expect(budget.iterations).toBe(3)
    const controller = new AbortController()
    controller.abort()
    const stopped = minimize(rosenbrock(4), new Float64Array([-1.2, 1, -1.2, 1]), {
      signal: controller.signal
    })
    expect(stopped.status).toBe("interrupted")
    expect(stopped.iterations).toBe(1)
  })

  it.each(solvers)("%s: converged at 0 iterations from the minimizer", (_name, minimize) => {
    const r = minimize(f, new Float64Array([1, -2, 3]))
    expect([r.status, r.iterations, r.counts.value]).toEqual(["converged", 0, 1])
  })

  it.each(solvers)("%s: stalled when the gradient is wrong (no descent along −g)", (_name, minimize) => {
    // ∇f reported with the wrong sign: every search direction is an ascent
    // direction of the true f, so no step decreases it.
    const wrong: Objective.Objective = {
      ...f,
      valueAndGradient: (x, g) => {
        const v = f.valueAndGradient(x, g)
        for (let i = 0; i < g.length; i++) g[i] = -g[i]!
        return v
      }
    }
    const r = minimize(wrong, x0)
    expect(r.status).toBe("stalled")
    expect(r.message).toMatch(/line search/)
    // The result is the start: nothing was accepted.
    expect(Array.from(r.x)).toEqual(Array.from(x0))
    expect(r.fun).toBe(f.value(x0))
  })

  it("GradientDescent: diverged with a fixed step above 2/L, keeping the last finite iterate", () => {
    // f = ½Σ i·xᵢ², L = 3: the step 10 multiplies x₃ by (1 − 30) each
    // iteration until it overflows to ±∞ (and f to +∞).
    const r = GradientDescent.minimize(separable([0, 0, 0]), new Float64Array([1, 1, 1]), {
      stepSize: 10,
      maxIterations: 10_000
    })
    expect(r.status).toBe("diverged")
    expect(r.x.every(Number.isFinite)).toBe(true)
    expect(Number.isFinite(r.fun)).toBe(true)
    // f(x) of the returned x (value() sums in another association: ulps).
    expect(Math.abs(r.fun - separable([0, 0, 0]).value(r.x))).toBeLessThanOrEqual(1e-15 * r.fun)
    expect(r.iterations).toBeGreaterThan(100)
  })
})

describe("NaN mid-run", () => {
  /**
   * f(x) = ½‖x − 2‖² − Σ log(1 − xᵢ): finite only for x < 1 (log of a
   * negative number is NaN beyond). The minimizer is interior,
   * xᵢ = (3 − √5)/2 ≈ 0.382, but a unit step from the start overshoots into
   * the NaN region, so the line searches must shrink.
   */
  const barrier = (n: number): Objective.Objective & { nanTrials: () => number } => {
    let nanTrials = 0
    return {
      dimension: n,
      nanTrials: () => nanTrials,
      value: (x) => {
        let f = 0
        for (let i = 0; i < n; i++) f += 0.5 * (x[i]! - 2) ** 2 - Math.log(1 - x[i]!)
        return f
      },
      valueAndGradient: (x, g) => {
        let f = 0
        for (let i = 0; i < n; i++) {
          f += 0.5 * (x[i]! - 2) ** 2 - Math.log(1 - x[i]!)
          g[i] = x[i]! - 2 + 1 / (1 - x[i]!)
        }
        if (!Number.isFinite(f)) nanTrials++
        return f
      }
    }
  }
  const xStar = (3 - Math.sqrt(5)) / 2

  // Whether the solver's first trial step overshoots into the NaN region
  // from this start: gradient descent tries α = 1 (x₁ = −3 + 4.75 > 1);
  // L-BFGS(-B) start at 1/‖∇f‖₂ and CG at 1.01/‖∇f‖₂ (SciPy's choices), which
  // stay inside, but L-BFGS's later unit steps overshoot.
  it.each([
    ["GradientDescent", GradientDescent.minimize, true],
    ["NonlinearCg", NonlinearCg.minimize, false],
    ["Lbfgs", Lbfgs.minimize, true],
    ["LbfgsB", LbfgsB.minimize, true]
  ] as const)(
    "%s: the line search shrinks past the NaN region and converges",
    (name, minimize, overshoots) => {
      const objective = barrier(3)
      const r = minimize(objective, new Float64Array([-3, -2, -1]), {
        tolerance: 1e-8,
        functionTolerance: 0,
        maxIterations: 5000
      } as MinimizeOptions)
      expect(r.status, name).toBe("converged")
      if (overshoots) expect(objective.nanTrials(), name).toBeGreaterThan(0)
      // Strongly convex (∇²f ⪰ I): ‖x − x*‖∞ ≤ ‖∇f‖₂ ≤ √3·1e-8.
      for (const xi of r.x) expect(Math.abs(xi - xStar)).toBeLessThan(2e-8)
    }
  )

  it("GradientDescent with a fixed step into the NaN region: diverged, last finite iterate", () => {
    const objective = barrier(2)
    const r = GradientDescent.minimize(objective, new Float64Array([-3, -2]), { stepSize: 1 })
    expect(r.status).toBe("diverged")
    expect(r.x.every((v) => v < 1)).toBe(true)
    expect(Number.isFinite(r.fun)).toBe(true)
    expect(r.fun).toBe(objective.value(r.x))
  })

  it.each(solvers)(
    "%s: NaN beyond a wall before the minimizer: the result is a finite iterate",
    (name, minimize) => {
      // f = ½‖x − 3‖², NaN where any xᵢ > 2: the minimizer is out of reach.
      const walled: Objective.Objective = {
        dimension: 2,
        value: (x) => (x[0]! > 2 || x[1]! > 2 ? Number.NaN : 0.5 * ((x[0]! - 3) ** 2 + (x[1]! - 3) ** 2)),
        valueAndGradient: (x, g) => {
          g[0] = x[0]! - 3
          g[1] = x[1]! - 3
          return walled.value(x)
        }
      }
      const r = minimize(walled, new Float64Array([0, 0.5]), { maxIterations: 500 })
      // Line-search solvers end at the wall as `diverged` (every trial beyond
      // it is NaN; the issue's "NaN mid-run → diverged with the last finite
      // iterate"); gradient descent's backtracking keeps accepting ever
      // shorter steps towards it until the budget ends.
      // (CG's last search there can also end on a finite trial that fails the
      // Wolfe test: `stalled`.)
      expect(["diverged", "stalled", "converged", "maxIterations"], name).toContain(r.status)
      if (name === "Lbfgs" || name === "LbfgsB") expect(r.status, name).not.toBe("stalled")
      expect(Number.isFinite(r.fun)).toBe(true)
      expect(r.fun).toBe(walled.value(r.x))
      expect(r.x.every((v) => v <= 2)).toBe(true)
    }
  )
})

describe("LbfgsB and the box", () => {
  it("projects a start outside the box and says so", () => {
    const r = LbfgsB.minimize(separable([1, -2, 3]), new Float64Array([5, -5, 0]), { lower: -1, upper: 2 })
    expect(r.projectedStart).toBe(true)
    expect(r.status).toBe("converged")
    // Minimizer of a separable quadratic on a box: the clipped center (the
    // active coordinates exactly at their bounds).
    expect(r.x[0]).toBeCloseTo(1, 8)
    expect([r.x[1], r.x[2]]).toEqual([-1, 2])
    expect(r.activeBounds).toBe(2)
    const inside = LbfgsB.minimize(separable([1, -2, 3]), new Float64Array([0, 0, 0]), {
      lower: -1,
      upper: 2
    })
    expect(inside.projectedStart).toBe(false)
  })

  it("fixed variables (lower = upper) stay fixed", () => {
    const r = LbfgsB.minimize(separable([1, -2, 3]), new Float64Array([0, 0, 0]), {
      lower: [0.5, -3, Number.NEGATIVE_INFINITY],
      upper: [0.5, 3, Number.POSITIVE_INFINITY]
    })
    expect(r.status).toBe("converged")
    expect(r.x[0]).toBe(0.5)
    expect(r.x[1]).toBeCloseTo(-2, 5)
    expect(r.x[2]).toBeCloseTo(3, 5)
  })

  it("every point evaluated lies in the box, and the result is first-order optimal (property)", () => {
    const inf = Number.POSITIVE_INFINITY
    const point = fc.double({ min: -3, max: 3, noNaN: true })
    // Per coordinate: no bound, lower only, upper only, both (width 0 = fixed).
    const pair = fc.oneof(
      fc.constant([-inf, inf] as const),
      point.map((l) => [l, inf] as const),
      point.map((u) => [-inf, u] as const),
      fc.tuple(point, fc.double({ min: 0, max: 4, noNaN: true })).map(([l, w]) => [l, l + w] as const)
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.record({
            bounds: fc.array(pair, { minLength: n, maxLength: n }),
            x0: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n }),
            shift: fc.double({ min: -2, max: 2, noNaN: true }),
            memory: fc.integer({ min: 1, max: 5 })
          })
        ),
        ({ bounds, x0, shift, memory }) => {
          const n = bounds.length
          const lower = bounds.map((b) => b[0])
          const upper = bounds.map((b) => b[1])
          // Rosenbrock (nonconvex) plus a tilt, n ≥ 2; a quadratic for n = 1.
          const base = n >= 2 ? rosenbrock(n) : separable([shift])
          let outside = 0
          const objective: Objective.Objective = {
            dimension: n,
            value: (x) => base.value(x),
            valueAndGradient: (x, g) => {
              for (let i = 0; i < n; i++) if (x[i]! < lower[i]! || x[i]! > upper[i]!) outside++
              const v = base.valueAndGradient(x, g)
              for (let i = 0; i < n; i++) g[i] = g[i]! + shift
              let tilt = 0
              for (let i = 0; i < n; i++) tilt += shift * x[i]!
              return v + tilt
            }
          }
          const r = LbfgsB.minimize(objective, Float64Array.from(x0), {
            lower,
            upper,
            memory,
            maxIterations: 500
          })
          expect(outside).toBe(0)
          for (let i = 0; i < n; i++) {
            expect(r.x[i]!).toBeGreaterThanOrEqual(lower[i]!)
            expect(r.x[i]!).toBeLessThanOrEqual(upper[i]!)
          }
          expect(r.projectedStart).toBe(x0.some((v, i) => v < lower[i]! || v > upper[i]!))
          expect(["converged", "stalled", "maxIterations"]).toContain(r.status)
        }
      ),
      { numRuns: 200, seed: 42 }
    )
  })

  it("iterates stay in the box at every iteration (observer)", () => {
    const lower = [-1, 0.2, -2, -2, -2, 0.5]
    const upper = [0.9, 2, 2, 0.7, 2, 2]
    const seen: number[] = []
    Solver.run(
      LbfgsB.solver,
      { objective: rosenbrock(6), x0: new Float64Array([-3, 3, 0, 1, -1, 4]), lower, upper },
      {},
      {
        maxIterations: 200,
        observer: (_k, state) => {
          for (let i = 0; i < 6; i++) {
            if (state.x[i]! < lower[i]! || state.x[i]! > upper[i]!) seen.push(i)
          }
        }
      }
    )
    expect(seen).toEqual([])
  })
})
