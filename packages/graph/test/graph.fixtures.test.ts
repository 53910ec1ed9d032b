import { Matrix } from "@descent/core"
import { assertBitIdentical, assertClose, loadFixture } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as Dag from "../src/Dag.ts"
import * as Data from "../src/Data.ts"
import * as Metrics from "../src/Metrics.ts"

/** The shape of test/fixtures/graph_data.json (documented in generate_graph_data.py). */
interface Fixture {
  readonly meta: { readonly commit: string }
  readonly datasets: ReadonlyArray<{
    readonly name: string
    readonly n: number
    readonly d: number
    readonly s0: number
    readonly edges: number
    readonly B_true: number[][]
    readonly W_true: number[][]
    readonly X: number[][]
    readonly h_true: number
  }>
  readonly metrics: ReadonlyArray<{
    readonly name: string
    readonly B_true: number[][]
    readonly B_est: number[][]
    readonly notears: {
      readonly fdr: number
      readonly tpr: number
      readonly fpr: number
      readonly shd: number
      readonly nnz: number
    }
    readonly shd_cdt: number
  }>
}

const fixture = loadFixture<Fixture>(import.meta.url, "fixtures/graph_data.json")

/**
 * The rates are ratios of small integers computed by one IEEE division in both
 * NOTEARS and here, so they agree exactly; a zero tolerance states that.
 */
const EXACT = { rtol: 0, atol: 0 }

/**
 * Residual X − X·W_true of the NOTEARS simulator is its N(0, 1) noise: with
 * n = 1000 a sample variance has standard error √(2/n) ≈ 0.045 and a mean
 * 1/√n ≈ 0.032, so 0.25 is over 5 standard errors.
 */
const NOISE_MOMENT = { rtol: 0, atol: 0.25 }

describe("metrics agree with NOTEARS's count_accuracy", () => {
  for (const c of fixture.metrics) {
    it(c.name, () => {
      const truth = Matrix.fromRows(c.B_true)
      const estimate = Matrix.fromRows(c.B_est)
      const a = Metrics.accuracy(truth, estimate)
      assertClose([a.fdr, a.tpr, a.fpr], [c.notears.fdr, c.notears.tpr, c.notears.fpr], EXACT)
      expect(a.shd).toBe(c.notears.shd)
      expect(a.predictedEdges).toBe(c.notears.nnz)
      expect(Metrics.shd(truth, estimate, { reversal: 2 })).toBe(c.shd_cdt)
      expect(a.tpr).toBeLessThanOrEqual(1)
    })
  }
})

describe("the NOTEARS simulator's data sets", () => {
  for (const s of fixture.datasets) {
    it(`${s.name}: a DAG with s0 edges, data consistent with W_true`, () => {
      const B = Matrix.fromRows(s.B_true)
      const W = Matrix.fromRows(s.W_true)
      const X = Matrix.fromRows(s.X)
      expect(X.rows).toBe(s.n)
      expect(X.cols).toBe(s.d)
      expect(Dag.isDag(W)).toBe(true)
      expect(Dag.countEdges(B)).toBe(s.s0)
      assertBitIdentical(Dag.binary(W).data, B.data)
      expect(Math.abs(Dag.expAcyclicity(W))).toBeLessThanOrEqual(1e-12)
      expect(s.h_true).toBe(0)
      expect(() => Data.checkData("fixture", X)).not.toThrow()
      // Z = X − X·W_true should be standard normal noise.
      const d = s.d
      const Z = Matrix.clone(X)
      for (let t = 0; t < s.n; t++) {
        for (let j = 0; j < d; j++) {
          let acc = 0
          for (let i = 0; i < d; i++) acc += X.data[t * d + i]! * W.data[i * d + j]!
          Z.data[t * d + j]! -= acc
        }
      }
      const S = Data.covariance(Z, { center: true })
      const mean = Data.columnMeans(Z)
      for (let j = 0; j < d; j++) {
        assertClose(S.data[j * d + j]!, 1, NOISE_MOMENT)
        assertClose(mean[j]!, 0, NOISE_MOMENT)
      }
    })
  }
})
