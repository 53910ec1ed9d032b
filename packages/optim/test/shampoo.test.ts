import { Errors, Matrix, Vector } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type GradientTransform, identity } from "../src/GradientTransform.ts"
import {
  eigenInverseRoot,
  type InverseRoot,
  newtonInverseRoot,
  type ScaleByShampooState,
  scaleByShampoo,
  shampoo,
  shampooDefaults
} from "../src/Shampoo.ts"
import { scaleByAdam, scaleByRss } from "../src/Transforms.ts"
import type { Params } from "../src/Tree.ts"
import * as Tree from "../src/Tree.ts"
import {
  type FixtureCase,
  fixture,
  initialParams,
  type MatrixParams,
  named,
  run,
  suboptimality
} from "./secondOrderProblems.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 50 } as const

/** A few units in the last place: two roundings of the same closed form. */
const FEW_ULPS = 8 * Number.EPSILON

/**
 * Floor of the tolerance against the NumPy/SciPy reference (per leaf,
 * relative to the leaf's largest entry): the gemm inner products (length ≤ 6)
 * are summed in another order than NumPy's BLAS, ≤ 6u ≈ 7e-16 per step, and
 * 50 steps stay below 3.5e-14.
 */
const ROUNDOFF = 1e-13

/**
 * The tolerance of a fixture case: the roundoff floor, or the reference's
 * first-order estimate of how far two backward-stable inverse-root
 * computations may disagree, whichever is larger. The reference records, over
 * all root refreshes and blocks, Σₖ sₖ·n·u·λ_max/(p·λₖ): an eigensolver moves
 * eigenvalue λₖ of L + εI by up to n·u·λ_max (Weyl), which changes λₖ^{−1/p}
 * by n·u·λ_max/(p·λₖ) relatively, weighted by the share sₖ of the
 * preconditioned direction on that eigenvector. It is 4.3e-11 (shampooPlain),
 * 4.4e-14 (shampooFull), 8e-10 (shampooVector) and 2.7e-8
 * (shampooMatrixQuadratic, where the quadratic's 2 × 5 gradient has
 * λ_max/λₖ ≈ 3e7 in R). The observed differences are 5e-13, 3e-15, 1.8e-11
 * and 4e-10.
 */
const toleranceOf = (c: FixtureCase): number => Math.max(ROUNDOFF, c.rootErrorEstimate ?? 0)

/** The graft named in the fixture. */
// biome-ignore lint/suspicious/noExplicitAny: graft transforms have different states.
const graftOf = (name: unknown): GradientTransform<any> | null =>
  name === null ? null : name === "adagrad" ? scaleByRss() : name === "adam" ? scaleByAdam() : identity()

const build = (c: FixtureCase, inverseRoot: InverseRoot = eigenInverseRoot) => {
  const h = c.hyperparameters as Record<string, never>
  return shampoo(h.learningRate, { ...h, graft: graftOf(h.graft), inverseRoot })
}

const compare = (c: FixtureCase, tolerance: number, inverseRoot?: InverseRoot) =>
  run(build(c, inverseRoot), c.problem, fixture.steps, (step, p) => {
    const expected = c.iterates[String(step)]
    if (expected === undefined) return
    for (const [leaf, values] of Object.entries(expected)) {
      const label = `${c.name} step ${step} leaf ${leaf}`
      if (tolerance === 0) assertBitIdentical(named(p)[leaf]!, values, label)
      else {
        const scale = Math.max(...values.map(Math.abs))
        assertClose(named(p)[leaf]!, values, { rtol: 0, atol: tolerance * scale, label })
      }
    }
  })

describe("shampoo reproduces the NumPy/SciPy reference of generate_second_order.py", () => {
  const cases = fixture.cases.filter((c) => c.optimizer === "shampoo")

  it("has the fixture's cases", () =>
    expect(cases.map((c) => c.name).sort()).toEqual([
      "shampooFull",
      "shampooMatrixQuadratic",
      "shampooPlain",
      "shampooRosenbrock",
      "shampooVector"
    ]))

  // shampooPlain: two matrix leaves and a diagonal one, no graft (Algorithm 1
  // of Gupta et al.); shampooFull: 2 × 2 blocks, roots every 3 steps from step
  // 2, β₂ = 0.99, AdaGrad graft, Nesterov momentum, weight decay;
  // shampooVector: a declared vector in blocks of 4, roots every 2 steps, Adam
  // graft; shampooMatrixQuadratic: the quadratic as a 2 × 5 matrix;
  // shampooRosenbrock: diagonal, SGD graft until step 3 (no matrix root: the
  // same operations as the reference, so bit-identical).
  it.each(cases.map((c) => [c.name, c] as const))("%s", (name, c) => {
    compare(c, name === "shampooRosenbrock" ? 0 : toleranceOf(c))
  })

  it("the coupled Newton root gives the same trajectory to its stopping tolerance (shampooFull)", () => {
    // inverseRootNewton stops at max|M_k − I| ≤ 1e-12 with M_k = X_k^p·(L + εI),
    // so X_k = (L + εI)^{−1/p}·(I + Δ)^{1/p} with ‖Δ‖ ≲ 1e-12: each refresh is
    // off by ≲ 1e-12/p = 2.5e-13 relative, and 17 refreshes (every 3 steps)
    // add up to ≲ 4.3e-12 < NEWTON_STOP. (Observed: 5.4e-14.) On the
    // ill-conditioned cases (λ_max/λ_min ≳ 1e7) linalg's iteration stops early
    // with status "diverged", and Shampoo keeps the previous roots
    // (`rootFailures`); see the next describe block.
    const NEWTON_STOP = 5e-12
    const c = fixture.cases.find((k) => k.name === "shampooFull")!
    compare(c, NEWTON_STOP, newtonInverseRoot)
  })
})

/** Runs `tx` on a stream of gradients for one leaf, returning each step's update. */
const updatesOf = <S>(tx: GradientTransform<S>, params: Params, grads: ReadonlyArray<Params>): Params[] => {
  let state = tx.init(params)
  return grads.map((g) => {
    const r = tx.update(Tree.clone(g), state, params)
    state = r.state
    return Tree.clone(r.updates)
  })
}

describe("shampoo's preconditioner", () => {
  it("on diagonal gradients (updateInterval 1, no graft) it is diagonal AdaGrad: dᵢ/√(Σ dᵢ² + ε)", () => {
    // L = R = diag(Σ d²), so L^{−1/4}·diag(d)·R^{−1/4} = diag(d/√(Σ d² + ε)).
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((n) =>
          fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }), {
            minLength: 1,
            maxLength: 4
          })
        ),
        (sequence) => {
          const n = sequence[0]!.length
          const epsilon = 1e-3
          const tx = scaleByShampoo({ shapes: [[n, n]], graft: null, epsilon })
          const grads = sequence.map((d) => Matrix.diag(d).data)
          const out = updatesOf(tx, Vector.zeros(n * n), grads)
          const sums = Vector.zeros(n)
          sequence.forEach((d, t) => {
            const expected = Vector.zeros(n * n)
            for (let i = 0; i < n; i++) {
              sums[i] = sums[i]! + d[i]! * d[i]!
              expected[i * n + i] = d[i]! / Math.sqrt(sums[i]! + epsilon)
            }
            assertClose(out[t] as Float64Array, expected, { rtol: FEW_ULPS, atol: 1e-15 })
          })
          // An undeclared leaf gets the same diagonal preconditioner, in closed form.
          const diag = updatesOf(
            scaleByShampoo({ graft: null, epsilon }),
            Vector.zeros(n),
            sequence.map(Vector.fromArray)
          )
          sums.fill(0)
          sequence.forEach((d, t) => {
            const expected = d.map((di, i) => {
              sums[i] = sums[i]! + di * di
              return di * (1 / Math.sqrt(sums[i]! + epsilon))
            })
            assertBitIdentical(diag[t] as Float64Array, expected, `diagonal step ${t + 1}`)
          })
        }
      ),
      FC
    )
  })

  it("blocks are preconditioned independently", () => {
    // A 4 × 4 leaf in 2 × 2 blocks: the top-left block of the output equals
    // Shampoo on that 2 × 2 sub-gradient alone, bit for bit.
    const g = Vector.fromArray([1, 2, 3, 4, -1, 0.5, 2, -2, 0.3, 1, -3, 1, 2, 2, 1, -0.5])
    const full = updatesOf(
      scaleByShampoo({ shapes: [[4, 4]], blockSize: 2, graft: null }),
      Vector.zeros(16),
      [g, g]
    )
    const sub = Vector.fromArray([1, 2, -1, 0.5])
    const alone = updatesOf(scaleByShampoo({ shapes: [[2, 2]], graft: null }), Vector.zeros(4), [sub, sub])
    for (const t of [0, 1]) {
      const f = full[t] as Float64Array
      assertBitIdentical(
        Vector.fromArray([f[0]!, f[1]!, f[4]!, f[5]!]),
        Array.from(alone[t] as Float64Array),
        `step ${t + 1}`
      )
    }
  })

  it("recomputes roots at steps s, s + k, s + 2k, … and uses the graft direction before s", () => {
    const calls: number[] = []
    let step = 0
    const spy: InverseRoot = (A, p, epsilon) => {
      calls.push(step)
      return eigenInverseRoot(A, p, epsilon)
    }
    const tx = scaleByShampoo({
      shapes: [[2, 3]],
      updateInterval: 3,
      startPreconditioningStep: 2,
      inverseRoot: spy,
      graft: identity()
    })
    const x = Vector.zeros(6)
    let state = tx.init(x)
    for (step = 1; step <= 8; step++) {
      const g = Vector.fromArray([1, -2, step, 0.5, 1, -1])
      const u = tx.update(Vector.clone(g), state, x)
      state = u.state
      if (step === 1) assertBitIdentical(u.updates as Float64Array, g, "graft direction before s")
      else expect(Tree.globalNorm(u.updates)).toBeCloseTo(Tree.globalNorm(g), 13)
    }
    // Two roots (L and R) per refresh.
    expect(calls).toEqual([2, 2, 5, 5, 8, 8])
  })

  it("grafting gives every leaf the norm of its graft direction", () => {
    const params = { a: Vector.zeros(6), b: Vector.zeros(3) }
    const grads = [
      { a: Vector.fromArray([1, 2, 3, -1, 0, 2]), b: Vector.fromArray([5, -1, 2]) },
      { a: Vector.fromArray([0.5, -2, 1, 1, 1, 2]), b: Vector.fromArray([-1, 3, 0.5]) }
    ]
    const shampooOut = updatesOf(
      scaleByShampoo({ shapes: { a: [2, 3] }, graft: scaleByAdam() }),
      params,
      grads
    )
    const adamOut = updatesOf(scaleByAdam(), params, grads)
    shampooOut.forEach((u, t) => {
      const s = u as MatrixParams
      const a = adamOut[t] as MatrixParams
      for (const leaf of ["a", "b"] as const) {
        expect(Tree.globalNorm(s[leaf])).toBeCloseTo(Tree.globalNorm(a[leaf]), 13)
      }
    })
  })

  it("keeps the previous root and counts a failure when a root cannot be computed", () => {
    // A rank-one statistic of size 1e16 with ε = 1e-6: ε is below the
    // eigensolver's resolution n·u·λ_max ≈ 7, so inverseRootEigen refuses.
    const tx = scaleByShampoo({ shapes: [[3, 3]], graft: null, epsilon: 1e-6 })
    const g = Vector.fromArray([1e8, 0, 0, 0, 0, 0, 0, 0, 0])
    const r = tx.update(Vector.clone(g), tx.init(Vector.zeros(9)), undefined)
    const state = r.state as ScaleByShampooState<unknown>
    expect(state.rootFailures).toBe(2)
    // The initial roots are identities, so the direction is the gradient.
    assertBitIdentical(r.updates as Float64Array, g, "identity preconditioner kept")
  })

  it("newtonInverseRoot reports failure as undefined; eigenInverseRoot too", () => {
    const indefinite = Matrix.fromRows([
      [1, 0],
      [0, -1]
    ])
    expect(eigenInverseRoot(indefinite, 4, 0)).toBeUndefined()
    expect(newtonInverseRoot(indefinite, 4, 0)).toBeUndefined()
    const spd = Matrix.fromRows([
      [4, 1],
      [1, 3]
    ])
    assertClose(newtonInverseRoot(spd, 4, 0.1)!, eigenInverseRoot(spd, 4, 0.1)!, { rtol: 1e-11 })
  })
})

describe("shampoo reduces the test problems", () => {
  it("10-d quadratic (κ = 1e3), one vector block, AdaGrad graft: f < 1e-4·f(x₀) in 100 steps", () => {
    const f0 = suboptimality("quadratic", initialParams("quadratic"))
    const p = run(shampoo(0.3, { shapes: [[10]] }), "quadratic", 100)
    expect(suboptimality("quadratic", p)).toBeLessThan(1e-4 * f0)
  })

  it("10-d quadratic as a 2 × 5 matrix: f < 1e-4·f(x₀) in 100 steps", () => {
    const f0 = suboptimality("quadratic", initialParams("quadratic"))
    const p = run(shampoo(0.3, { shapes: [[2, 5]] }), "quadratic", 100)
    expect(suboptimality("quadratic", p)).toBeLessThan(1e-4 * f0)
  })

  it("matrix least squares: f − f* < 1e-2·(f(x₀) − f*) in 300 steps", () => {
    const gap0 = suboptimality("matrixLs", initialParams("matrixLs"))
    const p = run(shampoo(0.3, { shapes: { w: [4, 3], v: [2, 5] } }), "matrixLs", 300)
    expect(suboptimality("matrixLs", p)).toBeLessThan(1e-2 * gap0)
  })
})

describe("shampoo's errors", () => {
  const x = { b: Vector.zeros(3), w: Vector.zeros(6) }
  const invalid: ReadonlyArray<readonly [string, () => unknown]> = [
    ["b2", () => scaleByShampoo({ b2: 0 })],
    ["b2", () => scaleByShampoo({ b2: 1.5 })],
    ["epsilon", () => scaleByShampoo({ epsilon: 0 })],
    ["blockSize", () => scaleByShampoo({ blockSize: 0 })],
    ["updateInterval", () => scaleByShampoo({ updateInterval: 2.5 })],
    ["startPreconditioningStep", () => scaleByShampoo({ startPreconditioningStep: 0 })],
    ["graft", () => scaleByShampoo({ graft: 3 as never })],
    ["inverseRoot", () => scaleByShampoo({ inverseRoot: "eigen" as never })],
    ["momentum", () => shampoo(0.1, { momentum: 1 })],
    ["weightDecay", () => shampoo(0.1, { weightDecay: -1 })],
    ["learningRate", () => shampoo(-1)],
    ["shapes", () => scaleByShampoo({ shapes: { z: [2, 3] } }).init(x)],
    ["shapes", () => scaleByShampoo({ shapes: { w: [1, 2, 3] as never } }).init(x)],
    ["shapes", () => scaleByShampoo({ shapes: { w: [0, 6] as never } }).init(x)]
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
    expect(() => scaleByShampoo({ shapes: { w: [4, 3] } }).init(x)).toThrow(Errors.DimensionMismatch)
    const tx = scaleByShampoo({ shapes: { w: [2, 3] } })
    const state = tx.init(x)
    expect(() => tx.update({ b: Vector.zeros(3), w: Vector.zeros(5) }, state, x)).toThrow(
      Errors.DimensionMismatch
    )
    const plain = scaleByShampoo({ graft: null })
    expect(() => plain.update(Vector.zeros(2), plain.init(Vector.zeros(3)), undefined)).toThrow(
      Errors.DimensionMismatch
    )
  })

  it("documents its defaults", () => {
    expect(shampooDefaults).toMatchObject({
      b2: 1,
      epsilon: 1e-6,
      blockSize: 128,
      updateInterval: 1,
      startPreconditioningStep: 1,
      inverseRoot: eigenInverseRoot,
      momentum: 0,
      nesterov: false,
      weightDecay: 0
    })
  })
})
