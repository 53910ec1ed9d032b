import { describe, expect, it } from "vitest"
import { InvalidOptions } from "../src/Errors.ts"
import * as Objective from "../src/Objective.ts"
import * as Solver from "../src/Solver.ts"

/** x ← x − η∇f(x) on f(x) = ½ Σ dᵢ xᵢ²: a tiny solver exercising the protocol. */
interface State {
  x: Float64Array
  g: Float64Array
  f: number
  gnorm: number
}
const quadratic = (d: ReadonlyArray<number>): Objective.Objective => ({
  dimension: d.length,
  value: (x) => d.reduce((s, di, i) => s + 0.5 * di * x[i]! ** 2, 0),
  valueAndGradient: (x, g) => {
    let s = 0
    for (let i = 0; i < d.length; i++) {
      g[i] = d[i]! * x[i]!
      s += 0.5 * d[i]! * x[i]! ** 2
    }
    return s
  }
})
const makeSolver = (
  step: number,
  tolerance: number
): Solver.IterativeSolver<{ f: Objective.Objective; x0: Float64Array }, undefined, State, Float64Array> & {
  f?: Objective.Objective
} => {
  let f: Objective.Objective
  const evaluate = (s: State): State => {
    s.f = f.valueAndGradient(s.x, s.g)
    s.gnorm = Math.hypot(...s.g)
    return s
  }
  return {
    name: "gd",
    init: (p) => {
      f = p.f
      return evaluate({ x: Float64Array.from(p.x0), g: new Float64Array(p.x0.length), f: 0, gnorm: 0 })
    },
    step: (s) => {
      for (let i = 0; i < s.x.length; i++) s.x[i] = s.x[i]! - step * s.g[i]!
      return evaluate(s)
    },
    status: (s) => (s.gnorm <= tolerance ? "converged" : undefined),
    residual: (s) => s.gnorm,
    metrics: (s) => ({ objective: s.f, gradientNorm: s.gnorm }),
    output: (s) => s.x
  }
}

describe("Solver.run", () => {
  const problem = { f: quadratic([1, 2, 4]), x0: Float64Array.from([1, 1, 1]) }

  it("converges and reports the iteration count", () => {
    const r = Solver.run(makeSolver(0.2, 1e-10), problem, undefined, { maxIterations: 1000 })
    expect(r.status).toBe("converged")
    expect(r.residual).toBeLessThanOrEqual(1e-10)
    expect(r.iterations).toBeGreaterThan(10)
    expect(Math.max(...r.output.map(Math.abs))).toBeLessThan(1e-9)
  })

  it("stops at the budget with status maxIterations", () => {
    const r = Solver.run(makeSolver(0.01, 1e-14), problem, undefined, { maxIterations: 7 })
    expect(r.status).toBe("maxIterations")
    expect(r.iterations).toBe(7)
  })

  it("reports divergence instead of looping on NaN/Inf", () => {
    // Step 1 on curvature 4 multiplies x₃ by −3 each step: it overflows to Inf, then NaN.
    const r = Solver.run(makeSolver(1, 1e-12), problem, undefined, { maxIterations: 100_000 })
    expect(r.status).toBe("diverged")
    expect(r.iterations).toBeLessThan(1000)
  })

  it("checks only every checkEvery iterations but never exceeds the budget", () => {
    const r = Solver.run(makeSolver(0.2, 1e-10), problem, undefined, { maxIterations: 1000, checkEvery: 10 })
    expect(r.status).toBe("converged")
    expect(r.iterations % 10).toBe(0)
    const capped = Solver.run(makeSolver(0.01, 1e-14), problem, undefined, {
      maxIterations: 25,
      checkEvery: 10
    })
    expect(capped.iterations).toBe(25)
  })

  it("records a trace of named metrics", () => {
    const r = Solver.run(makeSolver(0.2, 1e-6), problem, undefined, { traceEvery: 5 })
    expect(r.trace.iteration[0]).toBe(0)
    expect(r.trace.iteration.at(-1)).toBe(r.iterations)
    expect(r.trace.values.objective!.length).toBe(r.trace.iteration.length)
    const f = r.trace.values.objective!
    for (let k = 1; k < f.length; k++) expect(f[k]!).toBeLessThanOrEqual(f[k - 1]!)
    const quiet = Solver.run(makeSolver(0.2, 1e-6), problem, undefined)
    expect(quiet.trace.iteration).toEqual([])
  })

  it("is interrupted by the observer or an abort signal", () => {
    const r = Solver.run(makeSolver(0.01, 1e-14), problem, undefined, {
      observer: (k) => (k >= 3 ? "stop" : undefined)
    })
    expect(r.status).toBe("interrupted")
    expect(r.iterations).toBe(3)
    const controller = new AbortController()
    controller.abort()
    const s = Solver.run(makeSolver(0.01, 1e-14), problem, undefined, { signal: controller.signal })
    expect(s.status).toBe("interrupted")
    expect(s.iterations).toBe(1)
  })

  it("rejects bad loop options with InvalidOptions naming the field", () => {
    expect(() => Solver.run(makeSolver(0.1, 1e-6), problem, undefined, { maxIterations: -1 })).toThrow(
      InvalidOptions
    )
    try {
      Solver.run(makeSolver(0.1, 1e-6), problem, undefined, { checkEvery: 0 })
    } catch (e) {
      expect((e as InvalidOptions).field).toBe("checkEvery")
      expect((e as InvalidOptions)._tag).toBe("InvalidOptions")
    }
  })

  it("a zero budget returns the initial state", () => {
    const r = Solver.run(makeSolver(0.1, 1e-6), problem, undefined, { maxIterations: 0 })
    expect(r.status).toBe("maxIterations")
    expect(r.iterations).toBe(0)
  })
})

describe("Objective.meter", () => {
  it("counts value, gradient and Hessian-vector calls", () => {
    const base = quadratic([1, 2])
    const f = Objective.meter({
      ...base,
      hessianVectorProduct: (_x, v, out) => {
        out[0] = v[0]!
        out[1] = 2 * v[1]!
      }
    })
    const x = Float64Array.from([1, 1])
    const g = new Float64Array(2)
    f.value(x)
    f.valueAndGradient(x, g)
    f.hessianVectorProduct!(x, x, g)
    expect(f.counts).toEqual({ value: 2, gradient: 1, hessianVector: 1, matvec: 0 })
    f.reset()
    expect(f.counts).toEqual({ value: 0, gradient: 0, hessianVector: 0, matvec: 0 })
  })

  it("counts matvecs of an operator", () => {
    const op = Objective.meterOperator(
      Objective.operatorFromMatrix({ rows: 2, cols: 2, data: Float64Array.from([1, 2, 3, 4]) })
    )
    const out = new Float64Array(2)
    op.apply(Float64Array.from([1, 1]), out)
    expect(Array.from(out)).toEqual([3, 7])
    op.applyTranspose!(Float64Array.from([1, 1]), out)
    expect(Array.from(out)).toEqual([4, 6])
    expect(op.counts.matvec).toBe(2)
  })
})
