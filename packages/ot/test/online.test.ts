/**
 * Online point clouds: costs computed in row blocks at every pass instead of
 * materialized. The online solvers must give the materialized solvers'
 * numbers (the row updates bit for bit, the column updates up to the rounding
 * of their per-block merge), and the streamed normalizations the stored ones.
 */
import { Errors, Matrix, Random } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Geometry from "../src/Geometry.ts"
import * as CostSource from "../src/internal/costSource.ts"
import * as LinearProblem from "../src/LinearProblem.ts"
import * as Sinkhorn from "../src/Sinkhorn.ts"
import * as SinkhornLog from "../src/SinkhornLog.ts"

const SEED = 20261122

/**
 * Online vs materialized potentials: the column log-sums merge per-block
 * partial sums (one extra exp/log1p per block, a few ulps of the log-sum),
 * and Sinkhorn's fixed-point map is a contraction, so the potentials stay
 * within a few hundred ulps of ε·|LSE| ≈ 1 over a few hundred iterations.
 */
const ONLINE_ATOL = 1e-11

/**
 * Column log-sums merged from per-block partials: each merge is one
 * log1p(exp(·)) of a value ≲ 20 in magnitude (≈ 1 ulp = 4e-15), ≤ 40 merges.
 */
const LSE_MERGE_ATOL = 1e-12

const cloud = (key: Random.Key, n: number, d: number): Matrix.Matrix =>
  Matrix.fromData(n, d, Random.uniform(key, n * d))

const maxAbsDiff = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  let worst = 0
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!))
  return worst
}

describe("online point clouds", () => {
  it("costRows and materialize give the pointwise costs", () => {
    const [kx, ky] = Random.split(Random.key(SEED))
    const x = cloud(kx!, 7, 3)
    const y = cloud(ky!, 5, 3)
    for (const cost of ["sqeuclidean", "euclidean"] as const) {
      const g = Geometry.pointCloud(x, y, { cost, normalize: "max" })
      const C = Geometry.materialize(g)
      const rows = new Float64Array(3 * 5)
      Geometry.costRows(g, 2, 5, rows)
      expect(Array.from(rows)).toEqual(Array.from(C.data.subarray(10, 25)))
      for (let i = 0; i < 7; i++)
        for (let j = 0; j < 5; j++) expect(Geometry.costAt(g, i, j)).toBeCloseTo(C.data[i * 5 + j]!, 14)
    }
  })

  it("take a user cost, online or materialized, and reject its non-finite values by pair", () => {
    const [kx, ky] = Random.split(Random.key(SEED + 3))
    const x = cloud(kx!, 40, 2)
    const y = cloud(ky!, 30, 2)
    const manhattan: Geometry.UserCost = (p, q) => Math.abs(p[0]! - q[0]!) + Math.abs(p[1]! - q[1]!)
    const g = Geometry.pointCloud(x, y, { cost: manhattan, normalize: "max" })
    expect(g.costKind).toBe("user")
    const C = Geometry.materialize(g)
    let max = 0
    for (let i = 0; i < 40; i++)
      for (let j = 0; j < 30; j++)
        max = Math.max(max, manhattan(x.data.subarray(2 * i), y.data.subarray(2 * j)))
    expect(g.scale).toBe(max)
    expect(C.data[3 * 30 + 7]).toBe(manhattan(x.data.subarray(6), y.data.subarray(14)) * (1 / max))
    expect(Geometry.costAt(g, 3, 7)).toBeCloseTo(C.data[3 * 30 + 7]!, 15)
    const options = { epsilon: 0.05, tolerance: 1e-10, maxIterations: 500 }
    const stored = SinkhornLog.solve(LinearProblem.make(g), options)
    const online = SinkhornLog.solve(
      LinearProblem.make(Geometry.pointCloud(x, y, { cost: manhattan, normalize: "max", online: true })),
      options
    )
    expect(online.status).toBe("converged")
    expect(maxAbsDiff(stored.f, online.f)).toBeLessThanOrEqual(ONLINE_ATOL)
    const broken = Geometry.pointCloud(x, y, { cost: (p) => (p[0]! > 0.5 ? Number.NaN : 1) })
    expect(() => Geometry.materialize(broken)).toThrow(/cost\(x\[\d+\], y\[0\]\)/)
    expect(() =>
      Geometry.pointCloud(x, y, { cost: () => Number.POSITIVE_INFINITY, normalize: "max" })
    ).toThrow(Errors.NonFiniteInput)
  })

  it("streams max and mean normalizations to the factors of the full cost matrix", () => {
    const [kx, ky] = Random.split(Random.key(SEED + 1))
    const x = cloud(kx!, 300, 2)
    const y = cloud(ky!, 260, 2)
    const raw = Geometry.materialize(Geometry.pointCloud(x, y))
    for (const how of ["max", "mean", "median"] as const) {
      const stored = Geometry.fromCostMatrix(raw, { normalize: how })
      const streamed = Geometry.pointCloud(x, y, { normalize: how })
      // Same summation order (row-major) as the dense constructor: the same bits.
      expect(streamed.scale).toBe(stored.scale)
    }
  })

  it("are online by default above ONLINE_ENTRIES, and on request", () => {
    const x = Matrix.fromRows([[0], [1]])
    expect(Geometry.pointCloud(x, x).online).toBe(false)
    expect(Geometry.pointCloud(x, x, { online: true }).online).toBe(true)
    expect(Geometry.ONLINE_ENTRIES).toBe(2 ** 24)
  })

  it("online log-sum-exps and transport cost match the materialized ones for any block size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        (n, m, blockRows, seed) => {
          const [kx, ky, kf, kg] = Random.split(Random.key(seed), 4)
          const geometry = Geometry.pointCloud(cloud(kx!, n, 2), cloud(ky!, m, 2), { online: true })
          const f = Random.uniform(kf!, n, { low: -0.3, high: 0.3 })
          const g = Random.uniform(kg!, m, { low: -0.3, high: 0.3 })
          const dense = CostSource.matrixSource(Geometry.materialize(geometry))
          const online = CostSource.onlineSource(geometry, blockRows)
          const eps = 0.05
          const rowsA = new Float64Array(n)
          const rowsB = new Float64Array(n)
          CostSource.lseRows(dense, f, g, eps, rowsA)
          CostSource.lseRows(online, f, g, eps, rowsB)
          // Rows are reduced one by one either way: the same bits.
          expect(Array.from(rowsB)).toEqual(Array.from(rowsA))
          const colsA = new Float64Array(m)
          const colsB = new Float64Array(m)
          CostSource.lseCols(dense, f, g, eps, colsA)
          CostSource.lseCols(online, f, g, eps, colsB)
          // Log-sums of size ≈ |f + g − C|/ε ≲ 20, merged in ≤ 40 blocks: ≲ 1e-13.
          expect(maxAbsDiff(colsA, colsB)).toBeLessThanOrEqual(LSE_MERGE_ATOL)
          const costA = CostSource.transportCost(dense, f, g, eps)
          const costB = CostSource.transportCost(online, f, g, eps)
          expect(Math.abs(costA - costB)).toBeLessThanOrEqual(LSE_MERGE_ATOL * Math.abs(costA))
        }
      ),
      { seed: SEED, numRuns: 100 }
    )
  })

  it("log-domain Sinkhorn online gives the materialized run's potentials, cost and iterations", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        (n, m, d, seed) => {
          const [kx, ky] = Random.split(Random.key(seed))
          const x = cloud(kx!, n, d)
          const y = cloud(ky!, m, d)
          const stored = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max" }))
          const online = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max", online: true }))
          const options = { epsilon: 0.02, tolerance: 1e-9, maxIterations: 300 }
          const a = SinkhornLog.solve(stored, options)
          const b = SinkhornLog.solve(online, options)
          expect(b.status).toBe(a.status)
          expect(Math.abs(b.iterations - a.iterations)).toBeLessThanOrEqual(1)
          expect(maxAbsDiff(a.f, b.f)).toBeLessThanOrEqual(ONLINE_ATOL)
          expect(maxAbsDiff(a.g, b.g)).toBeLessThanOrEqual(ONLINE_ATOL)
          expect(Math.abs(a.cost - b.cost)).toBeLessThanOrEqual(ONLINE_ATOL)
        }
      ),
      { seed: SEED, numRuns: 25 }
    )
  })

  it("scaling-form Sinkhorn on an online cloud runs in the log domain over several blocks", () => {
    // 700 × 500: the online blocks hold max(32, 2¹⁸/500) = 524 rows, so two blocks.
    const [kx, ky] = Random.split(Random.key(SEED + 2))
    const x = cloud(kx!, 700, 2)
    const y = cloud(ky!, 500, 2)
    const stored = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max" }))
    const online = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max", online: true }))
    const options = { epsilon: 0.01, tolerance: 1e-8, maxIterations: 2000 }
    const reference = SinkhornLog.solve(stored, options)
    const result = Sinkhorn.solve(online, options)
    expect(result.domain).toBe("log")
    expect(result.status).toBe("converged")
    expect(result.marginalError).toBeLessThanOrEqual(1e-8)
    expect(maxAbsDiff(result.f, reference.f)).toBeLessThanOrEqual(ONLINE_ATOL)
    expect(Math.abs(result.cost - reference.cost)).toBeLessThanOrEqual(ONLINE_ATOL)
    // The plan on demand satisfies the marginals within the reported error.
    const P = result.plan()
    let rowError = 0
    for (let i = 0; i < 700; i++) {
      let r = 0
      for (let j = 0; j < 500; j++) r += P.data[i * 500 + j]!
      rowError += Math.abs(r - 1 / 700)
    }
    expect(rowError).toBeLessThanOrEqual(result.marginalError + 1e-12)
  })
})
