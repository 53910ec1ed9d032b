import { Errors, Matrix, Random } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as Dag from "../src/Dag.ts"
import * as Data from "../src/Data.ts"
import { CyclicGraph } from "../src/Errors.ts"
import * as Simulate from "../src/Simulate.ts"

/** Euler–Mascheroni constant: the mean of a standard Gumbel variable. */
const EULER_GAMMA = 0.5772156649015329

/**
 * Moment checks on N = 20 000 residuals per node: a sample mean has standard
 * error σ/√N ≤ 2/141 ≈ 0.014 and a sample variance of a unit-variance variable
 * about √(κ − 1)/√N ≤ 0.02 for the noises here (kurtosis κ ≤ 9), so 0.1 is
 * beyond 5 standard errors: a wrong scale or distribution fails, chance does not.
 */
const MOMENT = { rtol: 0, atol: 0.1 }

const N = 20_000

/** Column means and variances of the residual Z = X − X·W. */
const residualMoments = (X: Matrix.Matrix, W: Matrix.Matrix) => {
  const { rows: n, cols: d } = X
  const Z = Matrix.clone(X)
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < d; j++) {
      let s = 0
      for (let i = 0; i < d; i++) s += X.data[t * d + i]! * W.data[i * d + j]!
      Z.data[t * d + j]! -= s
    }
  }
  const mean = Data.columnMeans(Z)
  const S = Data.covariance(Z, { center: true })
  const variance = Array.from({ length: d }, (_, j) => S.data[j * d + j]!)
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const z of Z.data) {
    min = Math.min(min, z)
    max = Math.max(max, z)
  }
  return { mean: Array.from(mean), variance, min, max }
}

const inDegrees = (B: Matrix.Matrix) =>
  Array.from({ length: B.rows }, (_, j) => {
    let c = 0
    for (let i = 0; i < B.rows; i++) c += B.data[i * B.rows + j]!
    return c
  })

describe("Simulate graphs", () => {
  it("Erdős–Rényi: exactly k·d edges, a binary DAG, capped at d(d − 1)/2", () => {
    for (let seed = 0; seed < 5; seed++) {
      const B = Simulate.erdosRenyi(Random.key(seed), 20, { edgesPerNode: 2 })
      expect(Dag.isDag(B)).toBe(true)
      expect(Dag.countEdges(B)).toBe(40)
      expect(B.data.every((x) => x === 0 || x === 1)).toBe(true)
    }
    expect(Dag.countEdges(Simulate.erdosRenyi(Random.key(1), 6, { edges: 100 }))).toBe(15)
    expect(Dag.countEdges(Simulate.erdosRenyi(Random.key(1), 7, { edges: 9 }))).toBe(9)
    expect(Dag.countEdges(Simulate.erdosRenyi(Random.key(1), 0))).toBe(0)
  })

  it("Erdős–Rényi: every pair equally likely, both orientations equally likely", () => {
    // 400 graphs on 4 nodes with 3 of 6 pairs: each ordered pair has probability 1/4.
    const counts = new Float64Array(16)
    for (let seed = 0; seed < 400; seed++) {
      const B = Simulate.erdosRenyi(Random.key(seed), 4, { edges: 3 })
      for (let k = 0; k < 16; k++) counts[k]! += B.data[k]!
    }
    // Binomial(400, 1/4): mean 100, sd ≈ 8.7; 45 is over 5 sd.
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        if (i === j) expect(counts[i * 4 + j]).toBe(0)
        else expect(Math.abs(counts[i * 4 + j]! - 100)).toBeLessThan(45)
      }
    }
  })

  it("scale-free: m·d − m(m+1)/2 edges, a DAG with hubs", () => {
    const B = Simulate.scaleFree(Random.key(3), 200, { edgesPerNode: 2 })
    expect(Dag.isDag(B)).toBe(true)
    expect(Dag.countEdges(B)).toBe(2 * 200 - 3)
    // Preferential attachment: the largest in-degree is far above the mean (2).
    expect(Math.max(...inDegrees(B))).toBeGreaterThan(15)
  })

  it("bipartite: s0 top → bottom edges among ⌊0.2·d⌋ top nodes", () => {
    const d = 20
    const B = Simulate.bipartite(Random.key(4), d, { edgesPerNode: 1 })
    expect(Dag.countEdges(B)).toBe(20)
    const parents = new Set<number>()
    const children = new Set<number>()
    for (const e of Dag.edges(B)) {
      parents.add(e.from)
      children.add(e.to)
    }
    expect(parents.size).toBeLessThanOrEqual(4)
    for (const p of parents) expect(children.has(p)).toBe(false)
    expect(Dag.countEdges(Simulate.bipartite(Random.key(4), 10, { edges: 1000 }))).toBe(16)
  })

  it("weights lie in ±[0.5, 2) exactly on the edges; custom ranges", () => {
    const B = Simulate.erdosRenyi(Random.key(5), 30, { edgesPerNode: 3 })
    const W = Simulate.weights(Random.key(6), B)
    assertBitIdentical(Dag.binary(W).data, B.data)
    let negative = 0
    for (const { weight } of Dag.edges(W)) {
      expect(Math.abs(weight)).toBeGreaterThanOrEqual(0.5)
      expect(Math.abs(weight)).toBeLessThan(2)
      if (weight < 0) negative++
    }
    expect(negative).toBeGreaterThan(20)
    expect(negative).toBeLessThan(70)
    const V = Simulate.weights(Random.key(6), B, { ranges: [[1, 1.5]] })
    for (const { weight } of Dag.edges(V)) expect(weight >= 1 && weight < 1.5).toBe(true)
    expect(() => Simulate.weights(Random.key(6), B, { ranges: [[2, 1]] })).toThrow(Errors.InvalidOptions)
  })
})

describe("Simulate SEMs", () => {
  const B = Simulate.erdosRenyi(Random.key(10), 6, { edgesPerNode: 1.5 })
  const W = Simulate.weights(Random.key(11), B)

  it("is bit-reproducible from its key (pinned values)", () => {
    const a = Simulate.linear(Random.key(0), { nodes: 5, samples: 4 })
    const b = Simulate.linear(Random.key(0), { nodes: 5, samples: 4 })
    assertBitIdentical(a.X.data, b.X.data)
    assertBitIdentical(a.W.data, b.W.data)
    const c = Simulate.linear(Random.key(1), { nodes: 5, samples: 4 })
    expect(Array.from(c.X.data)).not.toEqual(Array.from(a.X.data))
    // Pinned: a change of these bits means a change of every simulated benchmark.
    expect(Array.from(a.X.data.subarray(0, 5))).toEqual(PINNED_X_ROW0)
  })

  it("gaussian, exponential, gumbel, uniform noise have the stated moments (residual X − XW)", () => {
    const cases = [
      { noise: "gaussian", mean: 0, variance: 1 },
      { noise: "exponential", mean: 1, variance: 1 },
      { noise: "gumbel", mean: EULER_GAMMA, variance: (Math.PI * Math.PI) / 6 },
      { noise: "uniform", mean: 0, variance: 1 / 3 }
    ] as const
    for (const c of cases) {
      const X = Simulate.linearSem(Random.key(12), W, N, { noise: c.noise })
      const m = residualMoments(X, W)
      for (let j = 0; j < 6; j++) {
        assertClose(m.mean[j]!, c.mean, MOMENT)
        assertClose(m.variance[j]!, c.variance, MOMENT)
      }
      // Residuals are the noise up to rounding (1e-12 relative to X's O(10) entries).
      if (c.noise === "uniform") expect(m.min >= -1 - 1e-12 && m.max < 1 + 1e-12).toBe(true)
      if (c.noise === "exponential") expect(m.min).toBeGreaterThanOrEqual(-1e-12)
    }
  })

  it("non-equal noise scales, per node", () => {
    const scales = [0.5, 1, 1.5, 2, 0.25, 1]
    const X = Simulate.linearSem(Random.key(13), W, N, { noiseScale: scales })
    const m = residualMoments(X, W)
    for (let j = 0; j < 6; j++) assertClose(Math.sqrt(m.variance[j]!), scales[j]!, MOMENT)
    const drawn = Simulate.linear(Random.key(14), {
      nodes: 8,
      samples: 10,
      noiseScale: { low: 0.5, high: 1 }
    })
    for (const s of drawn.noiseScale) expect(s >= 0.5 && s < 1).toBe(true)
  })

  it("logistic SEM gives binary variables whose roots are Bernoulli(1/2)", () => {
    const X = Simulate.linearSem(Random.key(15), W, N, { noise: "logistic" })
    expect(X.data.every((x) => x === 0 || x === 1)).toBe(true)
    const means = Data.columnMeans(X)
    const roots = inDegrees(B)
    for (let j = 0; j < 6; j++) if (roots[j] === 0) assertClose(means[j]!, 0.5, MOMENT)
  })

  it("standardizes on request; W stays the generating matrix", () => {
    const s = Simulate.linear(Random.key(16), { nodes: 7, samples: 500, standardize: true })
    const S = Data.covariance(s.X)
    for (let j = 0; j < 7; j++) assertClose(S.data[j * 7 + j]!, 1, { rtol: 0, atol: 1e-12 })
    const raw = Simulate.linear(Random.key(16), { nodes: 7, samples: 500 })
    assertBitIdentical(raw.W.data, s.W.data)
  })

  it("nonlinear MLP SEM: roots are N(0, s²), children depend on their parents", () => {
    const s = Simulate.nonlinear(Random.key(17), { nodes: 5, samples: 4000, edgesPerNode: 1, hidden: 20 })
    expect(Dag.isDag(s.W)).toBe(true)
    assertBitIdentical(s.W.data, s.B.data)
    expect(s.X.data.every(Number.isFinite)).toBe(true)
    const roots = inDegrees(s.B)
    const S = Data.covariance(s.X, { center: true })
    for (let j = 0; j < 5; j++) {
      if (roots[j] === 0) assertClose(S.data[j * 5 + j]!, 1, MOMENT)
      // f_j(u) = σ(u·W1)·w2 with 20 hidden units adds variance: never below the noise's.
      else expect(S.data[j * 5 + j]!).toBeGreaterThan(0.9)
    }
    const again = Simulate.nonlinear(Random.key(17), { nodes: 5, samples: 4000, edgesPerNode: 1, hidden: 20 })
    assertBitIdentical(again.X.data, s.X.data)
  })

  it("rejects bad input with typed errors", () => {
    const cyclic = Matrix.fromRows([
      [0, 1],
      [1, 0]
    ])
    expect(() => Simulate.linearSem(Random.key(0), cyclic, 5)).toThrow(CyclicGraph)
    expect(() => Simulate.nonlinearSem(Random.key(0), cyclic, 5)).toThrow(CyclicGraph)
    expect(() => Simulate.linearSem(Random.key(0), W, 5, { noise: "cauchy" as never })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => Simulate.linearSem(Random.key(0), W, 5, { noiseScale: [1, 2] })).toThrow(
      Errors.DimensionMismatch
    )
    expect(() => Simulate.linearSem(Random.key(0), W, 5, { noiseScale: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => Simulate.linearSem(Random.key(0), W, -1)).toThrow(Errors.InvalidOptions)
    expect(() => Simulate.erdosRenyi(Random.key(0), 5, { edgesPerNode: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => Simulate.linear(Random.key(0), { nodes: 5, samples: 5, graph: "tree" as never })).toThrow(
      Errors.InvalidOptions
    )
  })
})

const PINNED_X_ROW0: ReadonlyArray<number> = [
  -1.993290130884121, 11.346369650646482, -1.8932473038714714, 1.0306888446705698, 2.194599513507086
]
