import { Errors, Matrix, Vector } from "@descent/core"
import { Svd } from "@descent/linalg"
import { assertBitIdentical, assertClose, matrixOfShape } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { muon, muonDefaults, scaleByMuon, scaleByShape } from "../src/Muon.ts"
import * as Optimizers from "../src/Optimizers.ts"
import type { Params } from "../src/Tree.ts"
import {
  type FixtureCase,
  fixture,
  gradient,
  initialParams,
  type MatrixParams,
  named,
  run,
  suboptimality
} from "./secondOrderProblems.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 60 } as const

/**
 * Tolerance against `optax.contrib.muon`, per leaf relative to the leaf's
 * largest entry. The matrix products of the Newton–Schulz steps are summed in
 * different orders by XLA (Eigen) and core's gemm, and Optax evaluates
 * (c·A)·A where linalg evaluates c·(A·A): each product is off by ≤ k·u
 * (k ≤ 4 here). The quintic multiplies a relative perturbation of a small
 * singular value by up to its slope a = 3.4445 per step, a⁵ ≈ 490 over five
 * steps, so one orthogonalization may differ by 490 · 4u ≈ 4e-13; the
 * momentum averages these over ≈ 1/(1 − β) = 20 steps instead of adding
 * them, so 1e-12 bounds the trajectories. (Observed: 7e-15.)
 */
const NEWTON_SCHULZ = 1e-12

const MATRIX_SHAPES = { w: [4, 3], v: [2, 5] } as const

const build = (c: FixtureCase) => {
  const h = c.hyperparameters as Record<string, never>
  const shapes = c.problem === "matrixLs" ? MATRIX_SHAPES : ([[2, 5]] as const)
  return muon(h.learningRate, { ...h, shapes })
}

describe("muon reproduces optax.contrib.muon (Optax 0.2.8, float64)", () => {
  const cases = fixture.cases.filter((c) => c.optimizer === "muon")

  it("has the fixture's cases", () =>
    expect(cases.map((c) => c.name).sort()).toEqual(["muonDefault", "muonOptions", "muonQuadratic"]))

  // matrixLs has two matrix leaves (4 × 3 tall, transposed inside the
  // iteration, and 2 × 5 wide) and a vector leaf that goes to the AdamW
  // fallback, as Optax routes non-2-d leaves; muonOptions sets every option
  // (no Nesterov, adaptive, consistent RMS, weight decays, Adam's own
  // hyperparameters and learning rate, 4 steps, ε).
  it.each(cases.map((c) => [c.name, c] as const))("%s", (name, c) => {
    run(build(c), c.problem, fixture.steps, (step, p) => {
      const expected = c.iterates[String(step)]
      if (expected === undefined) return
      for (const [leaf, values] of Object.entries(expected)) {
        const scale = Math.max(...values.map(Math.abs))
        assertClose(named(p)[leaf]!, values, {
          rtol: 0,
          atol: NEWTON_SCHULZ * scale,
          label: `${name} step ${step} leaf ${leaf}`
        })
      }
    })
  })
})

describe("muon's orthogonalized updates", () => {
  // Five quintic steps map a singular value σ ∈ [0.002, 1] (after division by
  // ‖G‖_F) into [0.6818, 1.2024] (computed on a grid of 1e5 points); ‖G‖_F ≥ σ
  // so σ/‖G‖_F ≥ 0.002 holds when the smallest singular value is ≥ 0.002·‖G‖_F.
  const BAND = [0.68, 1.21] as const
  const shapes = fc.constantFrom([2, 2], [3, 5], [5, 3], [4, 4], [1, 6], [6, 1]) as fc.Arbitrary<
    readonly [number, number]
  >

  it("scaleByMuon's update has singular values in the Newton–Schulz band", () => {
    fc.assert(
      fc.property(
        shapes.chain(([r, c]) => matrixOfShape(r, c, 5)),
        (G) => {
          const sv = Svd.singularValues(Matrix.fromData(G.rows, G.cols, Vector.clone(G.data)))
          const fro = Math.hypot(...sv)
          // ‖G‖_F ≫ ε = 1e-8, so the division by ‖G‖_F + ε is a normalization.
          fc.pre(fro >= 1e-2 && sv[sv.length - 1]! >= 0.002 * fro)
          const tx = scaleByMuon({ shapes: [[G.rows, G.cols]] })
          const g = Vector.clone(G.data)
          const u = tx.update(g, tx.init(Vector.zeros(g.length)), undefined).updates as Float64Array
          for (const s of Svd.singularValues(Matrix.fromData(G.rows, G.cols, u))) {
            expect(s).toBeGreaterThanOrEqual(BAND[0])
            expect(s).toBeLessThanOrEqual(BAND[1])
          }
        }
      ),
      FC
    )
  })

  it("the first step is the orthogonalized gradient, whatever β (both momentum variants)", () => {
    // Step 1: μ = (1 − β)G; Nesterov M = β·μ/(1 − β²) + G = G·(1 + β/(1 + β)) ∝ G,
    // heavy ball M = μ/(1 − β) = G; with ε = 0 the orthogonalization ignores
    // the scale. The quintic amplifies the rounding of M by up to a⁵ ≈ 490:
    // 490 · 4u ≈ 4e-13 relative, hence 1e-12.
    const G = Vector.fromArray([3, -1, 0.5, 2, 1, -4])
    const once = (beta: number, nesterov: boolean) => {
      const tx = scaleByMuon({ shapes: [[2, 3]], beta, nesterov, eps: 0 })
      return tx.update(Vector.clone(G), tx.init(Vector.zeros(6)), undefined).updates as Float64Array
    }
    const reference = once(0, false)
    for (const beta of [0.5, 0.95]) {
      assertClose(once(beta, false), reference, { rtol: 1e-12 })
      assertClose(once(beta, true), reference, { rtol: 1e-12 })
    }
  })

  it("scaleByShape multiplies by √max(1, cols/rows), or c·√max(rows, cols)", () => {
    const tree = { a: Vector.ones(12), b: Vector.ones(10) }
    const shapes = { a: [4, 3], b: [2, 5] } as const
    const width = scaleByShape({ shapes })
    const u1 = width.update({ a: Vector.ones(12), b: Vector.ones(10) }, width.init(tree))
      .updates as MatrixParams
    expect(u1.a[0]).toBe(1)
    expect(u1.b[0]).toBe(Math.sqrt(2.5))
    const rms = scaleByShape({ shapes, consistentRms: 0.2 })
    const u2 = rms.update({ a: Vector.ones(12), b: Vector.ones(10) }, rms.init(tree)).updates as MatrixParams
    expect(u2.a[0]).toBe(Math.sqrt(4) * 0.2)
    expect(u2.b[0]).toBe(Math.sqrt(5) * 0.2)
  })
})

describe("muon's partition into matrix and fallback leaves", () => {
  const steps = 5
  const trajectories = (tx: ReturnType<typeof muon>, params: Params) => {
    const out: Float64Array[] = []
    run(tx, "matrixLs", steps, (_s, p) => out.push(Vector.clone((p as MatrixParams).b)), "none", params)
    return out
  }

  it("undeclared leaves follow AdamW with Muon's Nesterov flag and ε, bit for bit", () => {
    const fromMuon = trajectories(muon(1e-2, { shapes: MATRIX_SHAPES }), initialParams("matrixLs"))
    // The same AdamW run on the bias alone (its gradient does not involve the matrices).
    const adamw = Optimizers.adamw(1e-2, { nesterov: true, eps: 1e-8, weightDecay: 0 })
    const b = Vector.clone((initialParams("matrixLs") as MatrixParams).b)
    let state = adamw.init(b)
    const full = initialParams("matrixLs") as MatrixParams
    const g = { b: Vector.zeros(3), v: Vector.zeros(10), w: Vector.zeros(12) }
    for (let t = 0; t < steps; t++) {
      full.b.set(b)
      gradient("matrixLs", full, g)
      const r = adamw.update(Vector.clone(g.b), state, b)
      state = r.state
      const u = r.updates as Float64Array
      for (let i = 0; i < 3; i++) b[i] = b[i]! + u[i]!
      assertBitIdentical(fromMuon[t]!, b, `step ${t + 1}`)
    }
  })

  it("a custom fallback replaces AdamW; shapes by index equal shapes by path", () => {
    const sgd = Optimizers.sgd(0.01)
    const byPath = trajectories(
      muon(1e-2, { shapes: MATRIX_SHAPES, fallback: sgd }),
      initialParams("matrixLs")
    )
    // Leaves in traversal order: b, v, w.
    const byIndex = trajectories(
      muon(1e-2, { shapes: [undefined, [2, 5], [4, 3]], fallback: sgd }),
      initialParams("matrixLs")
    )
    byPath.forEach((b, t) => {
      assertBitIdentical(b, byIndex[t]!, `step ${t + 1}`)
    })
    // Plain gradient descent on ½Σμᵢ(bᵢ − cᵢ)²: the first step is −η·μ ⊙ (b₀ − c).
    const mu = fixture.matrixData.mu!.data
    const c = fixture.matrixData.c!.data
    assertClose(
      byPath[0]!,
      mu.map((m, i) => -0.01 * (m * (0 - c[i]!))),
      { rtol: 1e-15 }
    )
  })

  it("a tree with no matrix leaf is AdamW; with only matrix leaves there is no fallback state", () => {
    const x = Vector.fromArray([1, 2, 3])
    const a = muon(1e-2)
    const b = Optimizers.adamw(1e-2, { nesterov: true, eps: 1e-8, weightDecay: 0 })
    const ua = a.update(Vector.fromArray([1, -1, 2]), a.init(x), x).updates
    const ub = b.update(Vector.fromArray([1, -1, 2]), b.init(x), x).updates
    assertBitIdentical(ua as Float64Array, ub as Float64Array, "no matrix leaf")
    const m = muon(1e-2, { shapes: [[1, 3]] })
    const state = m.init(x)
    expect(state.otherLeaves).toEqual([])
    expect(state.matrixLeaves).toEqual([0])
  })
})

describe("muon reduces the test problems", () => {
  it("10-d quadratic (κ = 1e3) declared as a 2 × 5 matrix: f < 1e-3·f(x₀) in 300 steps", () => {
    const tx = muon(0.05, { shapes: [[2, 5]] })
    const f0 = suboptimality("quadratic", initialParams("quadratic"))
    const p = run(tx, "quadratic", 300)
    expect(suboptimality("quadratic", p)).toBeLessThan(1e-3 * f0)
  })

  it("matrix least squares: f − f* < 5e-3·(f(x₀) − f*) in 300 steps", () => {
    const tx = muon(0.05, { shapes: MATRIX_SHAPES })
    const gap0 = suboptimality("matrixLs", initialParams("matrixLs"))
    const p = run(tx, "matrixLs", 300)
    expect(suboptimality("matrixLs", p)).toBeLessThan(5e-3 * gap0)
  })
})

describe("muon's errors", () => {
  const x = { b: Vector.zeros(3), w: Vector.zeros(6) }
  const invalid: ReadonlyArray<readonly [string, () => unknown]> = [
    ["nsCoefficients", () => scaleByMuon({ nsCoefficients: [1, 2] as unknown as [number, number, number] })],
    ["nsCoefficients", () => muon(0.1, { nsCoefficients: [1, Number.NaN, 2] })],
    ["nsSteps", () => scaleByMuon({ nsSteps: -1 })],
    ["beta", () => scaleByMuon({ beta: 1 })],
    ["eps", () => muon(0.1, { eps: -1 })],
    ["consistentRms", () => scaleByShape({ consistentRms: 0 })],
    ["weightDecay", () => muon(0.1, { weightDecay: -1 })],
    ["adamB1", () => muon(0.1, { adamB1: 1 })],
    ["adamB2", () => muon(0.1, { adamB2: -0.5 })],
    ["adamEpsRoot", () => muon(0.1, { adamEpsRoot: -1 })],
    ["adamWeightDecay", () => muon(0.1, { adamWeightDecay: -1 })],
    ["fallback", () => muon(0.1, { fallback: {} as never })],
    ["learningRate", () => muon(-0.1)],
    ["shapes", () => muon(0.1, { shapes: { z: [2, 3] } }).init(x)],
    ["shapes", () => muon(0.1, { shapes: { w: [6] as never } }).init(x)],
    ["shapes", () => muon(0.1, { shapes: { w: [2.5, 2] } }).init(x)],
    ["shapes", () => muon(0.1, { shapes: [undefined, [2, 3], [1, 1]] }).init(x)],
    ["shapes", () => scaleByMuon({ shapes: { w: [2, 3] } }).init(x)],
    ["shapes", () => scaleByShape({}).init(x)]
  ]
  it.each(invalid)("InvalidOptions names %s", (field, make) => {
    try {
      make()
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(Errors.InvalidOptions)
      expect((e as Errors.InvalidOptions).field).toBe(field)
    }
  })

  it("a declared shape that does not match its leaf, or mismatched updates, are DimensionMismatch", () => {
    expect(() => muon(0.1, { shapes: { w: [4, 3] } }).init(x)).toThrow(Errors.DimensionMismatch)
    const tx = muon(0.1, { shapes: { w: [2, 3] } })
    const state = tx.init(x)
    expect(() => tx.update({ b: Vector.zeros(3) }, state, x)).toThrow(Errors.DimensionMismatch)
    expect(() => tx.update({ b: Vector.zeros(3), w: Vector.zeros(5) }, state, x)).toThrow(
      Errors.DimensionMismatch
    )
  })

  it("documents Optax's defaults", () => {
    expect(muonDefaults).toMatchObject({
      nsCoefficients: [3.4445, -4.775, 2.0315],
      nsSteps: 5,
      beta: 0.95,
      eps: 1e-8,
      nesterov: true,
      adaptive: false,
      consistentRms: null,
      weightDecay: 0,
      adamB1: 0.9,
      adamB2: 0.999,
      adamEpsRoot: 0,
      adamWeightDecay: 0
    })
  })
})
