import { Errors, Matrix, Random, Solver, Vector } from "@descent/core"
import { Expm } from "@descent/linalg"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Dag from "../src/Dag.ts"
import { ConstantColumn, TooFewSamples } from "../src/Errors.ts"
import * as Metrics from "../src/Metrics.ts"
import * as Notears from "../src/Notears.ts"
import * as Simulate from "../src/Simulate.ts"
import { fixtureDatasetOfSize, notearsDagmaReferencesOf } from "./learnerCases.ts"

/** Pinned fast-check seed, so a failure reproduces exactly. */
const PROPERTY_SEED = 20260611

/** The acceptance bound on h(W) of NOTEARS results (the paper's h_tol). */
const H_ACCEPTANCE = 1e-8

/**
 * Central differences with step 1e-6 of an O(1)–O(10) objective: truncation
 * O(h²·f''') ≈ 1e-11 and rounding O(ε·|f|/h) ≈ 1e-9, so 1e-6 relative (with
 * an absolute floor for entries near zero) catches any wrong term.
 */
const FINITE_DIFFERENCE = { rtol: 1e-6, atol: 1e-7 }
const FD_STEP = 1e-6

/** A small linear-Gaussian ER2 sample from descent's simulator. */
const smallSample = (seed: number, d: number, n: number) =>
  Simulate.linear(Random.key(seed), { nodes: d, samples: n, edgesPerNode: 2 })

describe("Notears.fit on the reference data (acceptance, issue #10)", () => {
  const data = fixtureDatasetOfSize(10)
  const ref = notearsDagmaReferencesOf(data.name)
  const { X, B } = data
  const result = Notears.fit(X)

  it("converges to h(W) ≤ 1e-8 with a DAG", () => {
    expect(result.status).toBe("converged")
    expect(result.h).toBeLessThanOrEqual(H_ACCEPTANCE)
    expect(Dag.isDag(result.W)).toBe(true)
    expect(result.prunedEdges).toBe(0)
  })

  it("reaches SHD ≤ the reference implementation's on the same X", () => {
    const shd = Metrics.shd(B, result.W)
    expect(shd).toBeLessThanOrEqual(ref.notears.accuracy.shd)
  })

  it("learns the reference's edge set", () => {
    const reference = Matrix.fromRows(ref.notears.W_est)
    expect(Metrics.shd(reference, result.W)).toBe(0)
  })

  it("reports h and the loss of the raw estimate", () => {
    assertClose(result.h, Dag.expAcyclicity(result.Wraw), { rtol: 1e-6, atol: 1e-14 })
    expect(result.loss).toBeGreaterThan(0)
    expect(result.counts.subproblems).toBeGreaterThanOrEqual(result.iterations)
    expect(result.counts.evaluations).toBeGreaterThan(result.counts.subproblemIterations / 2)
    for (let i = 0; i < data.d; i++) expect(result.Wraw.data[i * data.d + i]).toBe(0)
  })
})

describe("Notears objective", () => {
  const sample = smallSample(7, 5, 60)

  const checkGradient = (options: Notears.NotearsOptions, X: Matrix.Matrix) => {
    const state = Notears.solver.init(X, options)
    state.buffers.penalty.rho = 3
    state.buffers.penalty.alpha = 0.7
    const f = state.objective
    const x = Random.uniform(Random.key(11), f.dimension, { low: 0, high: 0.6 })
    const g = Vector.zeros(f.dimension)
    const value = f.valueAndGradient(x, g)
    expect(value).toBeCloseTo(f.value(x), 12)
    const numeric = Vector.zeros(f.dimension)
    for (let k = 0; k < f.dimension; k++) {
      const xp = Vector.clone(x)
      const xm = Vector.clone(x)
      xp[k] = xp[k]! + FD_STEP
      xm[k] = xm[k]! - FD_STEP
      numeric[k] = (f.value(xp) - f.value(xm)) / (2 * FD_STEP)
    }
    assertClose(g, numeric, FINITE_DIFFERENCE)
  }

  it("has the gradient of its value (l2)", () => checkGradient({ lambda1: 0.1 }, sample.X))

  it("has the gradient of its value (logistic)", () => {
    const binary = Matrix.zeros(sample.X.rows, sample.X.cols)
    for (let k = 0; k < binary.data.length; k++) binary.data[k] = sample.X.data[k]! > 0 ? 1 : 0
    checkGradient({ lambda1: 0.05, loss: "logistic" }, binary)
  })

  it("equals the least-squares loss of the centered data plus the penalties", () => {
    const { X } = sample
    const { rows: n, cols: d } = X
    const state = Notears.solver.init(X, { lambda1: 0.2 })
    state.buffers.penalty.rho = 2
    state.buffers.penalty.alpha = 0.5
    const x = Random.uniform(Random.key(3), 2 * d * d, { low: 0, high: 0.4 })
    for (let i = 0; i < d; i++) {
      x[i * d + i] = 0
      x[d * d + i * d + i] = 0
    }
    const W = Matrix.zeros(d, d)
    for (let k = 0; k < d * d; k++) W.data[k] = x[k]! - x[d * d + k]!
    const mean = new Array<number>(d).fill(0)
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += X.data[i * d + j]! / n
    let squares = 0
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        let fitted = 0
        for (let k = 0; k < d; k++) fitted += (X.data[i * d + k]! - mean[k]!) * W.data[k * d + j]!
        squares += (X.data[i * d + j]! - mean[j]! - fitted) ** 2
      }
    }
    const A = Matrix.zeros(d, d)
    for (let k = 0; k < d * d; k++) A.data[k] = W.data[k]! ** 2
    const h = Expm.traceExpm(A) - d
    let l1 = 0
    for (let k = 0; k < 2 * d * d; k++) l1 += x[k]!
    const expected = squares / (2 * n) + 0.5 * 2 * h * h + 0.5 * h + 0.2 * l1
    assertClose(state.objective.value(x), expected, { rtol: 1e-12, atol: 0 })
  })
})

describe("Notears on the solver protocol", () => {
  const sample = smallSample(21, 6, 200)

  it("takes one dual-ascent step per iteration", () => {
    const run = Solver.run(Notears.solver, sample.X, {}, { maxIterations: 1, traceEvery: 1 })
    expect(run.status).toBe("maxIterations")
    expect(run.iterations).toBe(1)
    expect(run.trace.values.h!.length).toBe(2)
    expect(run.output.counts.subproblems).toBeGreaterThanOrEqual(1)
  })

  it("continues a run from its state to the same result as fit", () => {
    const state = Notears.solver.init(sample.X, {})
    Notears.solver.step(state)
    const resumed = Solver.runFrom(Notears.solver, state, { maxIterations: 99 })
    const direct = Notears.fit(sample.X)
    expect(resumed.iterations + 1).toBe(direct.iterations)
    assertClose(resumed.output.Wraw.data, direct.Wraw.data, { rtol: 0, atol: 0 })
  })

  it("stalls when ρ reaches maxPenalty before h ≤ tolerance", () => {
    const result = Notears.fit(sample.X, { maxPenalty: 10, tolerance: 1e-12 })
    expect(result.status).toBe("stalled")
    expect(result.rho).toBeGreaterThanOrEqual(10)
  })

  it("learns 0/1 data with the logistic loss", () => {
    const binary = Matrix.zeros(sample.X.rows, sample.X.cols)
    for (let k = 0; k < binary.data.length; k++) binary.data[k] = sample.X.data[k]! > 0 ? 1 : 0
    const result = Notears.fit(binary, { loss: "logistic", lambda1: 0.01 })
    expect(["converged", "stalled"]).toContain(result.status)
    expect(Dag.isDag(result.W)).toBe(true)
  })

  it("stops as interrupted when the signal is aborted", () => {
    const controller = new AbortController()
    controller.abort()
    expect(Notears.fit(sample.X, { signal: controller.signal }).status).toBe("interrupted")
  })
})

describe("Notears input errors", () => {
  const good = smallSample(3, 4, 30).X
  const withEntry = (value: number) => {
    const X = Matrix.clone(good)
    X.data[5] = value
    return X
  }

  it("names a NaN or infinite entry", () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const error = (() => {
        try {
          Notears.fit(withEntry(value))
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(Errors.NonFiniteInput)
      expect((error as Errors.NonFiniteInput).index).toBe(5)
    }
  })

  it("rejects fewer than 2 samples", () => {
    expect(() => Notears.fit(Matrix.rowRange(good, 0, 1))).toThrow(TooFewSamples)
  })

  it("names a constant column", () => {
    const X = Matrix.clone(good)
    for (let i = 0; i < X.rows; i++) X.data[i * X.cols + 2] = 1.5
    expect(() => Notears.fit(X)).toThrow(ConstantColumn)
    try {
      Notears.fit(X)
    } catch (e) {
      expect((e as ConstantColumn).column).toBe(2)
    }
  })

  it("rejects a negative λ₁ and other out-of-range options, naming the field", () => {
    const field = (options: Notears.NotearsOptions): string | undefined => {
      try {
        Notears.fit(good, options)
      } catch (e) {
        expect(e).toBeInstanceOf(Errors.InvalidOptions)
        return (e as Errors.InvalidOptions).field
      }
      return undefined
    }
    expect(field({ lambda1: -0.1 })).toBe("lambda1")
    expect(field({ threshold: -1 })).toBe("threshold")
    expect(field({ tolerance: 0 })).toBe("tolerance")
    expect(field({ penaltyGrowth: 1 })).toBe("penaltyGrowth")
    expect(field({ progressRatio: 1 })).toBe("progressRatio")
    expect(field({ loss: "poisson" as Notears.Loss })).toBe("loss")
  })
})

describe("Notears properties", () => {
  it("learns a DAG with zero diagonal on any small linear SEM", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 10, max: 80 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        (seed, d, n, lambda1) => {
          const { X } = smallSample(seed, d, n)
          const result = Notears.fit(X, { lambda1 })
          expect(Dag.isDag(result.W)).toBe(true)
          for (let i = 0; i < d; i++) expect(result.W.data[i * d + i]).toBe(0)
          if (result.status === "converged") expect(result.h).toBeLessThanOrEqual(H_ACCEPTANCE)
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 25 }
    )
  })
})
