import { Errors, Matrix, Random, Solver } from "@descent/core"
import { Lu } from "@descent/linalg"
import { Schedules } from "@descent/optim"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Dag from "../src/Dag.ts"
import * as Dagma from "../src/Dagma.ts"
import { ConstantColumn, TooFewSamples } from "../src/Errors.ts"
import { makeMMatrixWorkspace, shiftedSquareInverse } from "../src/internal/mMatrix.ts"
import * as Metrics from "../src/Metrics.ts"
import * as Simulate from "../src/Simulate.ts"
import { fixtureDatasetOfSize, notearsDagmaReferencesOf } from "./learnerCases.ts"

/** Pinned fast-check seed, so a failure reproduces exactly. */
const PROPERTY_SEED = 20260612

/**
 * Block elimination without pivoting vs LAPACK-style partial pivoting on
 * well-conditioned M-matrices (ρ(W∘W) ≤ 0.8·s): both are backward stable, so
 * the inverses and log-determinants agree to a few hundred ulp.
 */
const ELIMINATION = { rtol: 1e-12, atol: 1e-14 }

/**
 * h₁ = −Σ log(pivotᵢ) from two eliminations of I − W∘W (blocked here,
 * unblocked in `Dag`): each of the d ≤ 20 logs of pivots ≈ 1 carries about
 * one ulp, so the sums agree to a few d·ε absolutely.
 */
const LOG_DET_SUM = { rtol: 1e-10, atol: 1e-14 }

/** Shorter Adam runs for the property test (the defaults run 1.8·10⁵ steps). */
const SHORT_RUN = { warmIterations: 2000, finalIterations: 4000 } as const

const smallSample = (seed: number, d: number, n: number) =>
  Simulate.linear(Random.key(seed), { nodes: d, samples: n, edgesPerNode: 2 })

describe.each([10, 20])("Dagma.fit on the reference data, d = %i (acceptance, issue #10)", (d) => {
  const data = fixtureDatasetOfSize(d)
  const ref = notearsDagmaReferencesOf(data.name)
  const { X, B } = data
  const result = Dagma.fit(X)

  it("learns a DAG with SHD ≤ the reference implementation's on the same X", () => {
    expect(Dag.isDag(result.W)).toBe(true)
    expect(result.prunedEdges).toBe(0)
    expect(Metrics.shd(B, result.W)).toBeLessThanOrEqual(ref.dagma.accuracy.shd)
  })

  it("ends the central path with h₁ of the reference's order", () => {
    expect(result.status).toBe("converged")
    expect(result.iterations).toBe(5)
    expect(result.s).toEqual([1, 0.9, 0.8, 0.7, 0.6])
    assertClose(result.h, Dag.logDetAcyclicity(result.Wraw, 1), LOG_DET_SUM)
    // Both runs stop on a relative objective change of 1e-6: h₁ of the raw estimates agree in order.
    expect(result.h).toBeLessThan(10 * ref.dagma.h_final)
    expect(result.h).toBeGreaterThan(ref.dagma.h_final / 10)
  })

  it("learns the reference's edge set", () => {
    expect(Metrics.shd(Matrix.fromRows(ref.dagma.W_est), result.W)).toBe(0)
  })
})

describe("sI − W∘W: inverse, log-determinant and domain (internal kernel)", () => {
  it("matches LU with partial pivoting for d from 1 to 60", () => {
    for (const d of [1, 2, 7, 24, 25, 33, 60]) {
      const W = Random.uniform(Random.key(d), d * d, { low: -0.9 / Math.sqrt(d), high: 0.9 / Math.sqrt(d) })
      for (const s of [1, 0.8]) {
        const ws = makeMMatrixWorkspace(d)
        const logDet = shiftedSquareInverse(W, s, ws)
        const M = Matrix.identity(d)
        for (let k = 0; k < d * d; k++) M.data[k] = (k % (d + 1) === 0 ? s : 0) - W[k]! * W[k]!
        const f = Lu.factor(M)
        assertClose(logDet, Lu.logAbsDeterminant(f).logAbsDet, ELIMINATION)
        assertClose(ws.inverse.data, Lu.inverse(f).data, ELIMINATION)
        expect(Math.min(...ws.inverse.data)).toBeGreaterThanOrEqual(0)
      }
    }
  })

  it("reports leaving the domain ρ(W∘W) ≥ s", () => {
    // A 2-cycle with weights a, b: ρ(W∘W) = |ab|.
    const W = Float64Array.from([0, 1.2, 0.9, 0])
    const ws = makeMMatrixWorkspace(2)
    expect(shiftedSquareInverse(W, 1, ws)).toBe(Number.NEGATIVE_INFINITY)
    expect(shiftedSquareInverse(W, 1.1, ws)).toBeCloseTo(Math.log(1.1 * 1.1 - 1.44 * 0.81), 14)
    // A block beyond the Gauss–Jordan size: a 40-cycle of weight 1.01.
    const d = 40
    const cycle = new Float64Array(d * d)
    for (let i = 0; i < d; i++) cycle[i * d + ((i + 1) % d)] = 1.01
    expect(shiftedSquareInverse(cycle, 1, makeMMatrixWorkspace(d))).toBe(Number.NEGATIVE_INFINITY)
    expect(Number.isFinite(shiftedSquareInverse(cycle, 1.03, makeMMatrixWorkspace(d)))).toBe(true)
    expect(shiftedSquareInverse(Float64Array.from([Number.NaN]), 1, makeMMatrixWorkspace(1))).toBe(
      Number.NEGATIVE_INFINITY
    )
  })
})

describe("Dagma on the solver protocol", () => {
  const sample = smallSample(5, 6, 300)

  it("takes one central-path stage per iteration", () => {
    const run = Solver.run(Dagma.solver, sample.X, SHORT_RUN, { maxIterations: 2, traceEvery: 1 })
    expect(run.status).toBe("maxIterations")
    expect(run.iterations).toBe(2)
    expect(run.trace.values.stage).toEqual([0, 1, 2])
    expect(run.output.s).toEqual([1, 0.9])
  })

  it("accepts μ as any schedule and s as one number", () => {
    const result = Dagma.fit(sample.X, {
      ...SHORT_RUN,
      stages: 3,
      mu: Schedules.piecewiseConstant({ initValue: 0.5, boundaries: [1, 2], scales: [0.2, 0.2] }),
      s: 1
    })
    expect(result.s).toEqual([1, 1, 1])
    expect(Dag.isDag(result.W)).toBe(true)
  })

  it("restarts a stage with a larger s when its start is outside the domain", () => {
    // The first stage at s = 1 ends near the true weights; a second stage at
    // s = 0.05 starts outside ρ(W∘W) < 0.05 and must restart with s + 0.1, ….
    const result = Dagma.fit(sample.X, { ...SHORT_RUN, stages: 2, s: [1, 0.05] })
    expect(result.counts.restarts).toBeGreaterThan(0)
    expect(result.s[1]!).toBeGreaterThan(0.05)
    expect(Dag.isDag(result.W)).toBe(true)
  })

  it("stalls when the restarts run out", () => {
    const result = Dagma.fit(sample.X, { ...SHORT_RUN, stages: 2, s: [1, 0.05], maxRestarts: 0 })
    expect(result.status).toBe("stalled")
    expect(Dag.isDag(result.W)).toBe(true)
  })

  it("learns 0/1 data with the logistic loss", () => {
    const binary = Matrix.zeros(sample.X.rows, sample.X.cols)
    for (let k = 0; k < binary.data.length; k++) binary.data[k] = sample.X.data[k]! > 0 ? 1 : 0
    const result = Dagma.fit(binary, { ...SHORT_RUN, loss: "logistic" })
    expect(Number.isFinite(result.loss)).toBe(true)
    expect(Dag.isDag(result.W)).toBe(true)
  })
})

describe("Dagma input errors", () => {
  const good = smallSample(3, 4, 30).X

  it("names a NaN or infinite entry", () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const X = Matrix.clone(good)
      X.data[6] = value
      expect(() => Dagma.fit(X)).toThrow(Errors.NonFiniteInput)
    }
  })

  it("rejects fewer than 2 samples and a constant column", () => {
    expect(() => Dagma.fit(Matrix.rowRange(good, 0, 1))).toThrow(TooFewSamples)
    const X = Matrix.clone(good)
    for (let i = 0; i < X.rows; i++) X.data[i * X.cols + 1] = -3
    expect(() => Dagma.fit(X)).toThrow(ConstantColumn)
  })

  it("rejects a negative λ₁ and other out-of-range options, naming the field", () => {
    const field = (options: Dagma.DagmaOptions): string | undefined => {
      try {
        Dagma.fit(good, options)
      } catch (e) {
        expect(e).toBeInstanceOf(Errors.InvalidOptions)
        return (e as Errors.InvalidOptions).field
      }
      return undefined
    }
    expect(field({ lambda1: -0.02 })).toBe("lambda1")
    expect(field({ learningRate: 0 })).toBe("learningRate")
    expect(field({ beta1: 1 })).toBe("beta1")
    expect(field({ s: [1, -0.5] })).toBe("s[1]")
    expect(field({ s: [] })).toBe("s")
    expect(field({ stages: 0 })).toBe("stages")
    expect(field({ mu: Schedules.constant(0) })).toBe("mu(0)")
    expect(field({ warmIterations: 1.5 })).toBe("warmIterations")
  })
})

describe("Dagma properties", () => {
  it("learns a DAG with zero diagonal on any small linear SEM", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 10, max: 80 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        (seed, d, n, lambda1) => {
          const { X } = smallSample(seed, d, n)
          const result = Dagma.fit(X, { ...SHORT_RUN, lambda1 })
          expect(Dag.isDag(result.W)).toBe(true)
          for (let i = 0; i < d; i++) expect(result.W.data[i * d + i]).toBe(0)
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 20 }
    )
  })
})
