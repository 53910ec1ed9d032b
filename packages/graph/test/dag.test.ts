import { Errors, Matrix, Random } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Dag from "../src/Dag.ts"
import { CyclicGraph } from "../src/Errors.ts"

/** Pinned fast-check seed, so a failure reproduces exactly. */
const PROPERTY_SEED = 20260610

/**
 * h(W) of a DAG is tr e^{W∘W} − d with e^{W∘W} computed by scaling and
 * squaring: each of the d diagonal entries carries a few ulp of error, so
 * d·1e-15 bounds the residual for the d ≤ 12 graphs here.
 */
const DAG_RESIDUAL = 1e-13

/**
 * Closed forms (2·cosh(ab) − 2, −log(1 − a²b²)) against expm / elimination:
 * both are backward stable, so agreement to ~100 ulp relative is expected.
 */
const CLOSED_FORM = { rtol: 1e-13, atol: 1e-15 }

/**
 * Central differences with step 1e-6 on functions of size O(1) have
 * truncation error O(h²·f''') ≈ 1e-12 and rounding error O(ε/h) ≈ 1e-10,
 * so 1e-7 relative leaves a wide margin while catching any wrong term.
 */
const FINITE_DIFFERENCE = { rtol: 1e-7, atol: 1e-8 }

/** A random d × d matrix: each off-diagonal entry an edge with probability p, weight ±[0.5, 2]. */
const randomWeighted = (seed: number, d: number, p: number, selfLoops = false): Matrix.Matrix => {
  const [kMask, kWeight, kSign] = Random.split(Random.key(seed), 3)
  const mask = Random.uniform(kMask!, d * d)
  const weight = Random.uniform(kWeight!, d * d, { low: 0.5, high: 2 })
  const sign = Random.uniform(kSign!, d * d)
  const W = Matrix.zeros(d, d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const k = i * d + j
      if ((i !== j || selfLoops) && mask[k]! < p) W.data[k] = (sign[k]! < 0.5 ? -1 : 1) * weight[k]!
    }
  }
  return W
}

/** A random DAG: random weights on the edges consistent with a random order. */
const randomDagWeighted = (seed: number, d: number, p: number): Matrix.Matrix => {
  const W = randomWeighted(seed, d, p)
  const order = Random.permutation(Random.foldIn(Random.key(seed), 99), d)
  const position = new Int32Array(d)
  for (let r = 0; r < d; r++) position[order[r]!] = r
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) if (position[i]! >= position[j]!) W.data[i * d + j] = 0
  }
  return W
}

const hasEdge = (W: Matrix.Matrix, i: number, j: number) => W.data[i * W.cols + j] !== 0

describe("Dag combinatorics", () => {
  const chain = Matrix.fromRows([
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0]
  ]) // 1 → 0, 2 → 1
  const triangle = Matrix.fromRows([
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 0]
  ]) // 0 → 1 → 2 → 0

  it("recognizes DAGs, cycles and self-loops", () => {
    expect(Dag.isDag(chain)).toBe(true)
    expect(Dag.isDag(triangle)).toBe(false)
    expect(Dag.isDag(Matrix.fromRows([[2]]))).toBe(false)
    expect(Dag.isDag(Matrix.zeros(0, 0))).toBe(true)
    expect(Dag.findCycle(chain)).toBeUndefined()
    expect(Dag.findCycle(triangle)).toEqual([0, 1, 2])
    expect(
      Dag.findCycle(
        Matrix.fromRows([
          [0, 0],
          [0, -1]
        ])
      )
    ).toEqual([1])
  })

  it("orders topologically, deterministically", () => {
    expect(Array.from(Dag.topologicalOrder(chain))).toEqual([2, 1, 0])
    expect(Array.from(Dag.topologicalOrder(Matrix.zeros(3, 3)))).toEqual([0, 1, 2])
  })

  it("throws CyclicGraph naming a cycle", () => {
    try {
      Dag.topologicalOrder(triangle)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(CyclicGraph)
      expect((error as CyclicGraph).cycle).toEqual([0, 1, 2])
      expect((error as CyclicGraph).message).toContain("0 → 1 → 2 → 0")
    }
  })

  it("rejects non-square and non-finite input", () => {
    expect(() => Dag.isDag(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() =>
      Dag.isDag(
        Matrix.fromRows([
          [0, Number.NaN],
          [0, 0]
        ])
      )
    ).toThrow(Errors.NonFiniteInput)
    expect(() => Dag.threshold(chain, -1)).toThrow(Errors.InvalidOptions)
    expect(() => Dag.logDetAcyclicity(chain, 0)).toThrow(Errors.InvalidOptions)
  })

  it("lists, counts and binarizes edges", () => {
    const W = Matrix.fromRows([
      [0, -0.7, 0],
      [0, 0, 0],
      [1.5, 0, 0]
    ])
    expect(Dag.edges(W)).toEqual([
      { from: 0, to: 1, weight: -0.7 },
      { from: 2, to: 0, weight: 1.5 }
    ])
    expect(Dag.countEdges(W)).toBe(2)
    expect(Matrix.toRows(Dag.binary(W))).toEqual([
      [0, 1, 0],
      [0, 0, 0],
      [1, 0, 0]
    ])
  })

  it("property: cycles are real cycles, orders respect every edge", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 0, max: 0.5 }),
        fc.nat(),
        (d, p, seed) => {
          const W = randomWeighted(seed, d, p / 2, seed % 5 === 0)
          const cycle = Dag.findCycle(W)
          expect(Dag.isDag(W)).toBe(cycle === undefined)
          if (cycle !== undefined) {
            expect(new Set(cycle).size).toBe(cycle.length)
            for (let r = 0; r < cycle.length; r++) {
              expect(hasEdge(W, cycle[r]!, cycle[(r + 1) % cycle.length]!)).toBe(true)
            }
            expect(Dag.expAcyclicity(W)).toBeGreaterThan(0)
          } else {
            const order = Dag.topologicalOrder(W)
            expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: d }, (_, i) => i))
            const position = new Int32Array(d)
            for (let r = 0; r < d; r++) position[order[r]!] = r
            for (let i = 0; i < d; i++) {
              for (let j = 0; j < d; j++)
                if (hasEdge(W, i, j)) expect(position[i]!).toBeLessThan(position[j]!)
            }
            expect(Math.abs(Dag.expAcyclicity(W))).toBeLessThanOrEqual(DAG_RESIDUAL)
            expect(Math.abs(Dag.logDetAcyclicity(W))).toBeLessThanOrEqual(DAG_RESIDUAL)
          }
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 200 }
    )
  })
})

describe("Dag thresholding", () => {
  it("zeroes |W_ij| < τ, keeps |W_ij| = τ", () => {
    const W = Matrix.fromRows([
      [0, 0.3, -0.29],
      [0.5, 0, 0],
      [0, -0.3, 0]
    ])
    expect(Matrix.toRows(Dag.threshold(W, 0.3))).toEqual([
      [0, 0.3, 0],
      [0.5, 0, 0],
      [0, -0.3, 0]
    ])
  })

  it("repairs a cycle by removing the weakest edge", () => {
    const result = Dag.pruneToDag(
      Matrix.fromRows([
        [0, 2],
        [0.5, 0]
      ])
    )
    expect(Matrix.toRows(result.W)).toEqual([
      [0, 2],
      [0, 0]
    ])
    expect(result.removed).toBe(1)
    expect(result.threshold).toBe(0.5)
    const dag = Matrix.fromRows([
      [0, 0.1],
      [0, 0]
    ])
    expect(Dag.pruneToDag(dag, { threshold: 0.05 })).toEqual({ W: dag, threshold: 0.05, removed: 0 })
  })

  /** The one-edge-at-a-time loop of GOLEM's `threshold_till_dag`, as the reference. */
  const sequentialPrune = (W: Matrix.Matrix, tau: number) => {
    const out = Dag.threshold(W, tau)
    const order = Dag.edges(out)
      .map((e) => ({ ...e, k: e.from * W.cols + e.to }))
      .sort((a, b) => Math.abs(a.weight) - Math.abs(b.weight) || a.k - b.k)
    let removed = 0
    for (const e of order) {
      if (Dag.isDag(out)) break
      out.data[e.k] = 0
      removed++
    }
    return { W: out, removed }
  }

  it("property: bisection equals the sequential loop and yields a DAG", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 0.6 }),
        fc.double({ min: 0, max: 1.5 }),
        fc.nat(),
        (d, p, tau, seed) => {
          const W = randomWeighted(seed, d, p)
          // Ties: round weights to a coarse grid on some runs.
          if (seed % 3 === 0)
            for (let k = 0; k < W.data.length; k++) W.data[k] = Math.round(W.data[k]! * 2) / 2
          const fast = Dag.pruneToDag(W, { threshold: tau })
          const slow = sequentialPrune(W, tau)
          expect(Dag.isDag(fast.W)).toBe(true)
          expect(fast.removed).toBe(slow.removed)
          expect(Array.from(fast.W.data)).toEqual(Array.from(slow.W.data))
          for (const e of Dag.edges(fast.W)) expect(Math.abs(e.weight)).toBeGreaterThanOrEqual(fast.threshold)
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 200 }
    )
  })
})

describe("Dag acyclicity residuals", () => {
  const twoCycle = (a: number, b: number) =>
    Matrix.fromRows([
      [0, a],
      [b, 0]
    ])

  it("match closed forms on a 2-cycle", () => {
    for (const [a, b] of [
      [1, 1],
      [0.5, -0.7],
      [1e-3, 2e-3]
    ] as const) {
      // W∘W has eigenvalues ±|ab|: tr e^{W∘W} = 2 cosh(ab), det(I − W∘W) = 1 − a²b².
      assertClose(Dag.expAcyclicity(twoCycle(a, b)), 2 * Math.cosh(a * b) - 2, CLOSED_FORM)
      assertClose(Dag.logDetAcyclicity(twoCycle(a, b)), -Math.log1p(-(a * a * b * b)), CLOSED_FORM)
      assertClose(Dag.logDetAcyclicity(twoCycle(a, b), 4), -Math.log1p(-(a * a * b * b) / 16), CLOSED_FORM)
    }
  })

  it("h_s is +∞ outside ρ(W∘W) < s, even where det(sI − W∘W) > 0", () => {
    expect(Dag.logDetAcyclicity(twoCycle(1.5, 1))).toBe(Number.POSITIVE_INFINITY)
    // Two disjoint 2-cycles with ρ = 2.25 each: det(I − W∘W) = (1 − 2.25²)² > 0, yet outside the domain.
    const W = Matrix.zeros(4, 4)
    W.data[1] = 1.5
    W.data[4] = 1.5
    W.data[2 * 4 + 3] = 1.5
    W.data[3 * 4 + 2] = 1.5
    expect(Dag.logDetAcyclicity(W)).toBe(Number.POSITIVE_INFINITY)
    const g = Matrix.full(4, 4, 7)
    expect(Dag.logDetAcyclicityWithGradient(W, g)).toBe(Number.POSITIVE_INFINITY)
    expect(g.data.every((x) => x === 7)).toBe(true)
  })

  it("gradients match central differences", () => {
    const d = 5
    // Small weights keep ρ(W∘W) < 1 (the log-det domain) and h of order 1e-2.
    const W = randomWeighted(7, d, 0.6)
    for (let k = 0; k < W.data.length; k++) W.data[k] = W.data[k]! * 0.3
    for (const [value, withGradient] of [
      [Dag.expAcyclicity, Dag.expAcyclicityWithGradient],
      [
        (X: Matrix.Matrix) => Dag.logDetAcyclicity(X, 1.5),
        (X: Matrix.Matrix, G: Matrix.Matrix) => Dag.logDetAcyclicityWithGradient(X, G, 1.5)
      ]
    ] as const) {
      const G = Matrix.zeros(d, d)
      const h = withGradient(W, G)
      assertClose(h, value(W), { rtol: 1e-14, atol: 0 })
      const numeric = Matrix.zeros(d, d)
      const step = 1e-6
      for (let k = 0; k < d * d; k++) {
        const Wp = Matrix.clone(W)
        const Wm = Matrix.clone(W)
        Wp.data[k]! += step
        Wm.data[k]! -= step
        numeric.data[k] = (value(Wp) - value(Wm)) / (2 * step)
      }
      assertClose(G.data, numeric.data, FINITE_DIFFERENCE)
    }
  })

  it("vanish on DAGs and are positive on cyclic graphs (random DAGs)", () => {
    for (let seed = 0; seed < 20; seed++) {
      const W = randomDagWeighted(seed, 12, 0.4)
      expect(Math.abs(Dag.expAcyclicity(W))).toBeLessThanOrEqual(DAG_RESIDUAL)
      expect(Math.abs(Dag.logDetAcyclicity(W, 1))).toBeLessThanOrEqual(DAG_RESIDUAL)
    }
  })
})
