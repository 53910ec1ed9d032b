import { Errors, Matrix, Random } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CyclicGraph } from "../src/Errors.ts"
import * as Metrics from "../src/Metrics.ts"

/** Pinned fast-check seed, so a failure reproduces exactly. */
const PROPERTY_SEED = 20260611

const m = (rows: ReadonlyArray<ReadonlyArray<number>>) => Matrix.fromRows(rows)

/** A random DAG on d nodes: each pair an edge with probability p, oriented by a random order. */
const randomDag = (seed: number, d: number, p: number): Matrix.Matrix => {
  const [kOrder, kMask] = Random.split(Random.key(seed), 2)
  const order = Random.permutation(kOrder!, d)
  const mask = Random.uniform(kMask!, d * d)
  const B = Matrix.zeros(d, d)
  for (let a = 0; a < d; a++) {
    for (let b = a + 1; b < d; b++) if (mask[a * d + b]! < p) B.data[order[a]! * d + order[b]!] = 1
  }
  return B
}

/** Any off-diagonal pattern (cycles and bidirectional pairs allowed), weights ±[0.5, 2]. */
const randomEstimate = (seed: number, d: number, p: number): Matrix.Matrix => {
  const mask = Random.uniform(Random.key(seed), d * d)
  const W = Matrix.zeros(d, d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) if (i !== j && mask[i * d + j]! < p) W.data[i * d + j] = mask[i * d + j]! - 2
  }
  return W
}

describe("Metrics on hand-made graphs", () => {
  const chain = m([
    [0, 1, 0],
    [0, 0, 1],
    [0, 0, 0]
  ]) // 0 → 1 → 2

  it("SHD(G, G) = 0 with perfect rates", () => {
    const a = Metrics.accuracy(chain, chain)
    expect(a).toMatchObject({
      shd: 0,
      tpr: 1,
      fdr: 0,
      fpr: 0,
      precision: 1,
      recall: 1,
      f1: 1,
      predictedEdges: 2
    })
    expect(Metrics.shd(chain, chain, { reversal: 2 })).toBe(0)
  })

  it("a reversed edge counts once (NOTEARS) or twice (cdt)", () => {
    const guess = m([
      [0, 1, 0],
      [0, 0, 0],
      [0, 1, 0]
    ]) // 0 → 1 ← 2: edge 1 → 2 reversed
    const a = Metrics.accuracy(chain, guess)
    expect(a).toMatchObject({
      shd: 1,
      reversal: 1,
      truePositives: 1,
      reversed: 1,
      falsePositives: 0,
      extra: 0,
      missing: 0,
      tpr: 0.5,
      fdr: 0.5,
      // (reversed + FP) / (3 pairs − 2 true edges): NOTEARS's FPR.
      fpr: 1,
      predictedEdges: 2
    })
    expect(Metrics.accuracy(chain, guess, { reversal: 2 }).shd).toBe(2)
  })

  it("extra and missing edges count once under both conventions", () => {
    const guess = m([
      [0, 1, 1],
      [0, 0, 0],
      [0, 0, 0]
    ]) // 0 → 1 kept, 1 → 2 missing, 0 → 2 extra
    expect(Metrics.accuracy(chain, guess)).toMatchObject({ shd: 2, extra: 1, missing: 1, falsePositives: 1 })
    expect(Metrics.shd(chain, guess, { reversal: 2 })).toBe(2)
    expect(Metrics.accuracy(chain, Matrix.zeros(3, 3))).toMatchObject({
      shd: 2,
      missing: 2,
      tpr: 0,
      fdr: 0,
      predictedEdges: 0,
      f1: 0
    })
  })

  it("gCastle #188: a bidirectional estimate of one true edge gives TPR = 1, not 2", () => {
    const truth = m([
      [0, 1],
      [0, 0]
    ])
    const guess = m([
      [0, 1],
      [1, 0]
    ])
    const a = Metrics.accuracy(truth, guess)
    expect(a).toMatchObject({ tpr: 1, truePositives: 1, predictedEdges: 1, undirected: 1, fdr: 0, fpr: 0 })
    // NOTEARS treats an undirected estimate of a true edge favorably; cdt's Hamming counts the extra direction.
    expect(a.shd).toBe(0)
    expect(Metrics.shd(truth, guess, { reversal: 2 })).toBe(1)
  })

  it("an undirected extra edge is one false positive (SHD 1 / 2)", () => {
    const guess = m([
      [0, 0, 0.4],
      [0, 0, 0],
      [-3, 0, 0]
    ])
    const a = Metrics.accuracy(Matrix.zeros(3, 3), guess)
    expect(a).toMatchObject({ shd: 1, falsePositives: 1, undirected: 1, predictedEdges: 1, fdr: 1, tpr: 0 })
    expect(a.fpr).toBeCloseTo(1 / 3, 15)
    expect(Metrics.shd(Matrix.zeros(3, 3), guess, { reversal: 2 })).toBe(2)
  })

  it("FPR follows NOTEARS and can exceed 1 when a dense truth is reversed", () => {
    const truth = m([
      [0, 1, 1],
      [0, 0, 1],
      [0, 0, 0]
    ])
    const reversedAll = Matrix.transpose(truth)
    const a = Metrics.accuracy(truth, reversedAll)
    expect(a).toMatchObject({ reversed: 3, fpr: 3, fdr: 1, tpr: 0, shd: 3 })
    expect(Metrics.shd(truth, reversedAll, { reversal: 2 })).toBe(6)
  })

  it("rejects bad input with typed errors", () => {
    expect(() => Metrics.accuracy(chain, Matrix.zeros(2, 2))).toThrow(Errors.DimensionMismatch)
    expect(() =>
      Metrics.accuracy(
        Matrix.transpose(chain),
        m([
          [0, 1, 0],
          [0, 0, 0],
          [Number.NaN, 0, 0]
        ])
      )
    ).toThrow(Errors.NonFiniteInput)
    expect(() =>
      Metrics.accuracy(
        m([
          [0, 1],
          [1, 0]
        ]),
        Matrix.zeros(2, 2)
      )
    ).toThrow(CyclicGraph)
    expect(() =>
      Metrics.accuracy(
        chain,
        m([
          [1, 0, 0],
          [0, 0, 0],
          [0, 0, 0]
        ])
      )
    ).toThrow(CyclicGraph)
    expect(() => Metrics.shd(chain, chain, { reversal: 3 as never })).toThrow(Errors.InvalidOptions)
  })
})

describe("Metrics properties", () => {
  it("property: DAG pairs — rates in [0, 1], SHD a metric, SHD₂ = SHD₁ + reversed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 1 }),
        fc.double({ min: 0, max: 1 }),
        fc.nat(),
        (d, p, q, seed) => {
          const A = randomDag(seed, d, p)
          const B = randomDag(seed + 1, d, q)
          const C = randomDag(seed + 2, d, (p + q) / 2)
          const ab = Metrics.accuracy(A, B)
          const ab2 = Metrics.accuracy(A, B, { reversal: 2 })
          for (const rate of [ab.tpr, ab.fdr, ab.precision, ab.f1]) {
            expect(rate).toBeGreaterThanOrEqual(0)
            expect(rate).toBeLessThanOrEqual(1)
          }
          expect(ab.fpr).toBeGreaterThanOrEqual(0)
          if (ab.predictedEdges > 0) expect(ab.precision + ab.fdr).toBeCloseTo(1, 14)
          expect(ab.truePositives + ab.reversed + ab.falsePositives).toBe(ab.predictedEdges)
          expect(ab.truePositives + ab.reversed + ab.missing).toBe(ab.trueEdges)
          expect(ab2.shd).toBe(ab.shd + ab.reversed)
          expect(ab.shd).toBeLessThanOrEqual(ab2.shd)
          expect(ab2.shd).toBeLessThanOrEqual(2 * ab.shd)
          expect(ab.shd).toBeLessThanOrEqual(ab.trueEdges + ab.predictedEdges)
          expect(Metrics.shd(A, A)).toBe(0)
          expect(Metrics.shd(A, A, { reversal: 2 })).toBe(0)
          for (const reversal of [1, 2] as const) {
            const sab = Metrics.shd(A, B, { reversal })
            expect(Metrics.shd(B, A, { reversal })).toBe(sab)
            expect(sab).toBeLessThanOrEqual(Metrics.shd(A, C, { reversal }) + Metrics.shd(C, B, { reversal }))
            if (sab === 0) expect(Array.from(A.data)).toEqual(Array.from(B.data))
          }
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 300 }
    )
  })

  it("property: any estimate (cycles, bidirectional pairs) — TPR and FDR in [0, 1]", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.double({ min: 0, max: 1 }), fc.nat(), (d, p, seed) => {
        const truth = randomDag(seed, d, p)
        const estimate = randomEstimate(seed + 7, d, 1 - p / 2)
        const a = Metrics.accuracy(truth, estimate)
        expect(a.tpr).toBeGreaterThanOrEqual(0)
        expect(a.tpr).toBeLessThanOrEqual(1)
        expect(a.fdr).toBeGreaterThanOrEqual(0)
        expect(a.fdr).toBeLessThanOrEqual(1)
        expect(a.truePositives).toBeLessThanOrEqual(a.trueEdges)
        expect(a.predictedEdges).toBeLessThanOrEqual((d * (d - 1)) / 2)
        expect(a.shd).toBeLessThanOrEqual(Metrics.shd(truth, estimate, { reversal: 2 }))
      }),
      { seed: PROPERTY_SEED, numRuns: 300 }
    )
  })
})
