import { Blas1, Blas2, Errors, Matrix, type Objective, Random, Vector } from "@descent/core"
import { Cholesky } from "@descent/linalg"
import {
  assertBitIdentical,
  assertClose,
  loadFixture,
  matrixFromRows,
  spdMatrix,
  vectorOfLength
} from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as BCD from "../src/BlockCoordinateDescent.ts"
import * as Prox from "../src/Prox.ts"

interface Fixture {
  readonly versions: Record<string, string>
  readonly scaledQuadratic: { A: number[][]; b: number[]; solution: number[] }
  readonly lasso: { X: number[][]; y: number[]; alpha: number; coef: number[]; kkt: number }
  readonly elasticNet: { alpha: number; l1Ratio: number; coef: number[] }
  readonly nnls: { A: number[][]; b: number[]; solution: number[] }
  readonly leastSquares: { solution: number[] }
}

const fixture = loadFixture<Fixture>(import.meta.url, "fixtures/bcd_admm.json")
const matrix = (rows: number[][]): Matrix.Matrix => {
  const m = matrixFromRows(rows)
  return Matrix.fromData(m.rows, m.cols, Vector.fromArray(m.data))
}

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 40 } as const

/**
 * The acceptance criterion of the issue for lasso / elastic net against
 * scikit-learn 1.9.1. The runs stop at a gradient mapping below 1e-10 and the
 * fixture's coefficients satisfy the KKT conditions to 2.5e-14, so the
 * observed differences are ~1e-11; 1e-6 is the contract, not a fit.
 */
const SKLEARN_AGREEMENT = 1e-6

/**
 * Quadratic runs stop at ‖Ax − b‖∞ ≤ 1e-8. A = D·C·D with λ_min(C) ≥ 0.7 and
 * D ≥ 1, so ‖x − x*‖₂ ≤ ‖A⁻¹‖·‖Ax − b‖₂ ≤ √30·1e-8/0.7 ≈ 7.8e-8.
 */
const QUADRATIC_SOLUTION = 1e-7

/** Stopping tolerance of the quadratic comparisons. */
const QUADRATIC_TOLERANCE = 1e-8

describe("BlockCoordinateDescent on the badly scaled quadratic (Nutini et al. 2015)", () => {
  const q = fixture.scaledQuadratic
  const A = matrix(q.A)
  const b = Vector.fromArray(q.b)
  const n = b.length
  const run = (rule: BCD.SelectionRule, stepSize: BCD.StepSize) =>
    BCD.minimize({ smooth: BCD.quadratic(A, b) }, Vector.zeros(n), {
      rule,
      stepSize,
      tolerance: QUADRATIC_TOLERANCE,
      maxIterations: 200_000
    })

  /**
   * Block updates to ‖Ax − b‖∞ ≤ 1e-8 from x = 0 (blocks of one coordinate),
   * recorded from this implementation (the arithmetic is deterministic, so
   * the counts are exact). With the uniform step 1/max Lᵢ of the paper's
   * analysis (§4: "badly scaled" = Lᵢ = Aᵢᵢ spread over [1, 100]) GS needs
   * 4.1× fewer updates than cyclic; GS-r and GS-q rank blocks exactly as GS
   * there. Lipschitz sampling is left out of the uniform table: it rarely
   * visits the small-Lᵢ coordinates, which with the uniform step are also the
   * slow ones (no convergence in 500 000 updates).
   */
  const UNIFORM = {
    cyclic: 51_121,
    random: 51_661,
    gaussSouthwell: 12_571,
    gaussSouthwellLipschitz: 13_687,
    gaussSouthwellR: 12_571,
    gaussSouthwellQ: 12_571
  } as const

  /**
   * The same with per-coordinate steps 1/Lᵢ (exact coordinate minimization):
   * GS still beats cyclic (210 vs 253), GSL — the rule the paper derives for
   * unequal Lᵢ — does better (191), and GS-q with block constants ranks as
   * GSL (191).
   */
  const BLOCK = {
    cyclic: 253,
    random: 758,
    randomLipschitz: 6_817,
    gaussSouthwell: 210,
    gaussSouthwellLipschitz: 191,
    gaussSouthwellR: 228,
    gaussSouthwellQ: 191
  } as const

  it("Gauss–Southwell needs fewer iterations than cyclic (uniform steps, the paper's setting)", () => {
    const counts: Record<string, number> = {}
    for (const rule of Object.keys(UNIFORM) as Array<keyof typeof UNIFORM>) {
      const result = run(rule, "uniform")
      expect(result.status).toBe("converged")
      assertClose(result.x, q.solution, { rtol: 0, atol: QUADRATIC_SOLUTION, label: rule })
      counts[rule] = result.iterations
    }
    expect(counts).toEqual(UNIFORM)
    expect(counts.gaussSouthwell!).toBeLessThan(counts.cyclic! / 4)
  })

  it("with block steps GS beats cyclic and GSL beats GS", () => {
    const counts: Record<string, number> = {}
    for (const rule of BCD.selectionRules) {
      const result = run(rule, "block")
      expect(result.status).toBe("converged")
      assertClose(result.x, q.solution, { rtol: 0, atol: QUADRATIC_SOLUTION, label: rule })
      expect(result.gradientNorm).toBeLessThanOrEqual(QUADRATIC_TOLERANCE)
      counts[rule] = result.iterations
    }
    expect(counts).toEqual(BLOCK)
    expect(counts.gaussSouthwell!).toBeLessThan(counts.cyclic!)
    expect(counts.gaussSouthwellLipschitz!).toBeLessThan(counts.gaussSouthwell!)
  })

  it("GS-q ranks as GSL with block constants and as GS with a uniform constant (g = 0)", () => {
    assertBitIdentical(run("gaussSouthwellQ", "block").x, run("gaussSouthwellLipschitz", "block").x)
    assertBitIdentical(run("gaussSouthwellQ", "uniform").x, run("gaussSouthwell", "uniform").x)
  })

  it("exact block minimization with Cholesky-factored blocks", () => {
    for (const blockSize of [3, 7]) {
      const result = BCD.minimize({ smooth: BCD.quadratic(A, b) }, Vector.zeros(n), {
        blockSize,
        update: "exact",
        rule: "gaussSouthwellLipschitz",
        tolerance: QUADRATIC_TOLERANCE
      })
      expect(result.status).toBe("converged")
      assertClose(result.x, q.solution, { rtol: 0, atol: QUADRATIC_SOLUTION })
    }
    // One block holding every coordinate: one exact update solves the system.
    const whole = BCD.minimize({ smooth: BCD.quadratic(A, b) }, Vector.zeros(n), {
      blockSize: n,
      update: "exact",
      tolerance: QUADRATIC_TOLERANCE
    })
    expect(whole.iterations).toBe(1)
    assertClose(whole.x, q.solution, { rtol: 0, atol: QUADRATIC_SOLUTION })
  })

  it("reports blocks, block constants and per-block update counts", () => {
    const result = BCD.minimize({ smooth: BCD.quadratic(A, b) }, Vector.zeros(n), {
      blockSize: 4,
      rule: "gaussSouthwell",
      tolerance: QUADRATIC_TOLERANCE
    })
    expect(result.blocks.length).toBe(8)
    expect(result.blocks[7]).toEqual([28, 29])
    expect(Array.from(result.blockUpdates).reduce((s, v) => s + v, 0)).toBe(result.iterations)
    // L_b = λ_max(A_bb) ≥ every diagonal entry of the block.
    for (let block = 0; block < 8; block++) {
      for (const i of result.blocks[block]!) {
        expect(result.lipschitz[block]!).toBeGreaterThanOrEqual(A.data[i * n + i]!)
      }
    }
    expect(result.fun).toBeCloseTo(result.smoothValue, 15)
    expect(result.regularizerValue).toBe(0)
  })
})

/** ½‖Ax − b‖² as a generic `Objective` (full gradients). */
const leastSquaresObjective = (A: Matrix.Matrix, b: Float64Array): Objective.Objective => {
  const r = Vector.zeros(A.rows)
  return {
    dimension: A.cols,
    value: (x) => {
      Blas2.gemv(1, A, x, 0, r)
      Blas1.axpy(-1, b, r)
      return 0.5 * Blas1.dot(r, r)
    },
    valueAndGradient: (x, g) => {
      Blas2.gemv(1, A, x, 0, r)
      Blas1.axpy(-1, b, r)
      Blas2.gemvT(1, A, r, 0, g)
      return 0.5 * Blas1.dot(r, r)
    }
  }
}

describe("BlockCoordinateDescent for composite problems against scikit-learn / SciPy", () => {
  const l = fixture.lasso
  const X = matrix(l.X)
  const y = Vector.fromArray(l.y)
  const m = X.rows
  const n = X.cols
  // sklearn minimizes 1/(2m)‖y − Xw‖² + α‖w‖₁; times m: ½‖y − Xw‖² + (mα)‖w‖₁.
  const lambda = m * l.alpha
  const lasso = { smooth: BCD.leastSquares(X, y), regularizer: Prox.l1(lambda) }
  const rules: ReadonlyArray<BCD.SelectionRule> = [
    "cyclic",
    "random",
    "randomLipschitz",
    "gaussSouthwellR",
    "gaussSouthwellQ"
  ]

  it.each(rules)("lasso by %s coordinate and block updates matches sklearn.Lasso", (rule) => {
    for (const blockSize of [1, 4]) {
      const result = BCD.minimize(lasso, Vector.zeros(n), { rule, blockSize, tolerance: 1e-10 })
      expect(result.status).toBe("converged")
      assertClose(result.x, l.coef, {
        rtol: 0,
        atol: SKLEARN_AGREEMENT,
        label: `${rule}, blocks of ${blockSize}`
      })
      expect(result.fun).toBeCloseTo(result.smoothValue + lambda * Blas1.asum(result.x), 10)
    }
  })

  it("an explicit, non-contiguous partition gives the same lasso solution", () => {
    const blocks = [0, 1, 2, 3, 4].map((r) =>
      Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === r)
    )
    const result = BCD.minimize(lasso, Vector.zeros(n), { blocks, rule: "gaussSouthwellQ", tolerance: 1e-10 })
    expect(result.status).toBe("converged")
    expect(result.blocks).toEqual(blocks)
    assertClose(result.x, l.coef, { rtol: 0, atol: SKLEARN_AGREEMENT })
  })

  it("greedy rules need far fewer coordinate updates than cyclic on the sparse lasso", () => {
    const cyclic = BCD.minimize(lasso, Vector.zeros(n), { rule: "cyclic", tolerance: 1e-10 })
    const gsq = BCD.minimize(lasso, Vector.zeros(n), { rule: "gaussSouthwellQ", tolerance: 1e-10 })
    // Recorded: 2050 cyclic vs 213 GS-q updates (6 of 25 coefficients are non-zero).
    expect([cyclic.iterations, gsq.iterations]).toEqual([2050, 213])
  })

  it("elastic net matches sklearn.ElasticNet", () => {
    const e = fixture.elasticNet
    const regularizer = Prox.elasticNet(m * e.alpha * e.l1Ratio, m * e.alpha * (1 - e.l1Ratio))
    const result = BCD.minimize({ smooth: BCD.leastSquares(X, y), regularizer }, Vector.zeros(n), {
      tolerance: 1e-10
    })
    expect(result.status).toBe("converged")
    assertClose(result.x, e.coef, { rtol: 0, atol: SKLEARN_AGREEMENT })
  })

  it("non-negative least squares matches scipy.optimize.nnls", () => {
    const p = fixture.nnls
    const A = matrix(p.A)
    const result = BCD.minimize(
      { smooth: BCD.leastSquares(A, Vector.fromArray(p.b)), regularizer: Prox.nonNegative() },
      Vector.zeros(A.cols),
      { rule: "gaussSouthwellR", tolerance: 1e-10 }
    )
    expect(result.status).toBe("converged")
    assertClose(result.x, p.solution, { rtol: 0, atol: SKLEARN_AGREEMENT })
  })

  it("unregularized least squares by exact block updates matches numpy.linalg.lstsq", () => {
    const result = BCD.minimize({ smooth: BCD.leastSquares(X, y) }, Vector.zeros(n), {
      blockSize: 5,
      update: "exact",
      tolerance: 1e-10
    })
    expect(result.status).toBe("converged")
    assertClose(result.x, fixture.leastSquares.solution, { rtol: 0, atol: SKLEARN_AGREEMENT })
  })

  it("a generic Objective, with backtracking or given constants, solves the same lasso", () => {
    const objective = leastSquaresObjective(X, y)
    const backtracked = BCD.minimize(
      { smooth: BCD.smooth(objective), regularizer: Prox.l1(lambda) },
      Vector.zeros(n),
      { blockSize: 5, tolerance: 1e-10 }
    )
    expect(backtracked.status).toBe("converged")
    assertClose(backtracked.x, l.coef, { rtol: 0, atol: SKLEARN_AGREEMENT })
    expect(backtracked.counts.gradient).toBeGreaterThan(0)
    expect(backtracked.counts.value).toBe(backtracked.counts.gradient)
    // The exact block constants (from the least-squares part) need no backtracking.
    const exact = BCD.minimize(lasso, Vector.zeros(n), { blockSize: 5, tolerance: 1e-10 })
    const given = BCD.minimize(
      { smooth: BCD.smooth(objective, exact.lipschitz), regularizer: Prox.l1(lambda) },
      Vector.zeros(n),
      { blockSize: 5, tolerance: 1e-10 }
    )
    expect(given.status).toBe("converged")
    assertClose(given.x, l.coef, { rtol: 0, atol: SKLEARN_AGREEMENT })
    // One oracle call per update that moves x, plus the start.
    expect(given.counts.gradient).toBeLessThanOrEqual(given.iterations + 1)
  })

  it("one Prox per block: a box per block is respected and optimal", () => {
    const blocks = 5
    const regularizer = Array.from({ length: blocks }, (_, b) => Prox.box(-0.5 * (b + 1), 0.25 * (b + 1)))
    const result = BCD.minimize({ smooth: BCD.leastSquares(X, y), regularizer }, Vector.zeros(n), {
      blockSize: 5,
      rule: "gaussSouthwellQ",
      tolerance: 1e-10
    })
    expect(result.status).toBe("converged")
    for (let i = 0; i < n; i++) {
      const b = Math.floor(i / 5)
      expect(result.x[i]!).toBeGreaterThanOrEqual(-0.5 * (b + 1))
      expect(result.x[i]!).toBeLessThanOrEqual(0.25 * (b + 1))
    }
    expect(result.gradientNorm).toBeLessThanOrEqual(1e-10)
    expect(result.regularizerValue).toBe(0)
  })
})

describe("BlockCoordinateDescent invariants", () => {
  const smoothRules: ReadonlyArray<BCD.SelectionRule> = BCD.selectionRules

  it("converges to the Cholesky solution and never increases F (property)", () => {
    fc.assert(
      fc.property(
        spdMatrix(8).chain((A) =>
          fc.tuple(
            fc.constant(A),
            vectorOfLength(A.rows, 5),
            fc.constantFrom(...smoothRules),
            fc.integer({ min: 1, max: 3 }),
            fc.constantFrom<BCD.BlockUpdate>("gradient", "exact"),
            fc.constantFrom<BCD.StepSize>("block", "uniform")
          )
        ),
        ([Araw, b, rule, blockSize, update, stepSize]) => {
          const A = Matrix.fromData(Araw.rows, Araw.cols, Vector.fromArray(Araw.data))
          const result = BCD.minimize({ smooth: BCD.quadratic(A, b) }, Vector.zeros(A.rows), {
            rule,
            blockSize,
            update,
            stepSize,
            tolerance: 1e-9,
            traceEvery: 1
          })
          expect(result.status).toBe("converged")
          // spdMatrix gives λ_min ≥ n, so ‖x − x*‖₂ ≤ √n·1e-9/n < 1e-9; 1e-8 leaves room for the
          // rounding of the Cholesky reference (condition number ≤ ~10).
          assertClose(result.x, Cholesky.solve(A, Vector.fromArray(b)), { rtol: 0, atol: 1e-8 })
          const values = result.trace.values.objective!
          for (let k = 1; k < values.length; k++) {
            // Each update minimizes an upper bound of F along its block; the slack is rounding.
            expect(values[k]!).toBeLessThanOrEqual(
              values[k - 1]! + 1e-12 * Math.max(1, Math.abs(values[k - 1]!))
            )
          }
        }
      ),
      FC
    )
  })

  it("composite updates never increase F (property, lasso)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 8 })
          .chain((n) =>
            fc.tuple(
              vectorOfLength(12 * n, 1),
              vectorOfLength(12, 3),
              fc.double({ min: 0, max: 3, noNaN: true }),
              fc.constantFrom<BCD.SelectionRule>(
                "cyclic",
                "random",
                "randomLipschitz",
                "gaussSouthwellR",
                "gaussSouthwellQ"
              ),
              fc.integer({ min: 1, max: 3 })
            )
          ),
        ([data, b, lambda, rule, blockSize]) => {
          const A = Matrix.fromData(12, data.length / 12, Vector.fromArray(data))
          const result = BCD.minimize(
            { smooth: BCD.leastSquares(A, Vector.fromArray(b)), regularizer: Prox.l1(lambda) },
            Vector.zeros(A.cols),
            { rule, blockSize, maxIterations: 200, traceEvery: 1 }
          )
          const values = result.trace.values.objective!
          for (let k = 1; k < values.length; k++) {
            expect(values[k]!).toBeLessThanOrEqual(
              values[k - 1]! + 1e-12 * Math.max(1, Math.abs(values[k - 1]!))
            )
          }
        }
      ),
      FC
    )
  })

  it("random rules are reproducible from the key, and the key matters", () => {
    const q = fixture.scaledQuadratic
    const problem = { smooth: BCD.quadratic(matrix(q.A), Vector.fromArray(q.b)) }
    const options = { rule: "random", maxIterations: 500, tolerance: 0 } as const
    const a = BCD.minimize(problem, Vector.zeros(30), { ...options, key: Random.key(7) })
    const b = BCD.minimize(problem, Vector.zeros(30), { ...options, key: Random.key(7) })
    const c = BCD.minimize(problem, Vector.zeros(30), { ...options, key: Random.key(8) })
    assertBitIdentical(a.x, b.x)
    assertBitIdentical(a.blockUpdates, b.blockUpdates)
    expect(Array.from(a.blockUpdates)).not.toEqual(Array.from(c.blockUpdates))
    expect(a.status).toBe("maxIterations")
  })

  it("checks least squares once per epoch with a non-greedy rule", () => {
    const l = fixture.lasso
    const X = matrix(l.X)
    const result = BCD.minimize(
      { smooth: BCD.leastSquares(X, Vector.fromArray(l.y)), regularizer: Prox.l1(X.rows * l.alpha) },
      Vector.zeros(X.cols),
      { tolerance: 1e-10 }
    )
    expect(result.iterations % X.cols).toBe(0)
  })

  it("an empty problem converges at once", () => {
    const result = BCD.minimize(
      { smooth: BCD.quadratic(Matrix.zeros(0, 0), Vector.zeros(0)) },
      Vector.zeros(0)
    )
    expect(result.status).toBe("converged")
    expect(result.iterations).toBe(0)
  })
})

describe("BlockCoordinateDescent failures", () => {
  const A = Matrix.fromRows([
    [4, 1],
    [1, 3]
  ])
  const b = Vector.fromArray([1, 2])
  const problem = { smooth: BCD.quadratic(A, b) }

  it("throws typed errors for bad inputs", () => {
    expect(() => BCD.minimize(problem, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => BCD.minimize(problem, Vector.fromArray([Number.NaN, 0]))).toThrow(Errors.NonFiniteInput)
    expect(() => BCD.minimize({ smooth: BCD.quadratic(A, Vector.zeros(3)) }, Vector.zeros(2))).toThrow(
      Errors.DimensionMismatch
    )
    expect(() => BCD.minimize(problem, Vector.zeros(2), { blockSize: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => BCD.minimize(problem, Vector.zeros(2), { blocks: [[0], [0, 1]] })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => BCD.minimize(problem, Vector.zeros(2), { blocks: [[0]] })).toThrow(Errors.InvalidOptions)
    expect(() => BCD.minimize(problem, Vector.zeros(2), { blocks: [[0], [1]], blockSize: 1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => BCD.minimize(problem, Vector.zeros(2), { rule: "steepest" as BCD.SelectionRule })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => BCD.minimize(problem, Vector.zeros(2), { tolerance: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => BCD.minimize(problem, Vector.zeros(2), { backtrackingFactor: 1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => BCD.minimize(problem, Vector.zeros(2), { maxIterations: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => BCD.minimize(problem, Vector.zeros(2), { maxBacktracks: 0 })).toThrow(Errors.InvalidOptions)
    // GS and GSL ignore the regularizer.
    expect(() =>
      BCD.minimize({ ...problem, regularizer: Prox.l1(1) }, Vector.zeros(2), { rule: "gaussSouthwell" })
    ).toThrow(Errors.InvalidOptions)
    // Exact updates: quadratic parts only; with a regularizer only one-coordinate blocks.
    const objective = leastSquaresObjective(A, b)
    expect(() =>
      BCD.minimize({ smooth: BCD.smooth(objective) }, Vector.zeros(2), { update: "exact" })
    ).toThrow(Errors.InvalidOptions)
    expect(() =>
      BCD.minimize({ ...problem, regularizer: Prox.l1(1) }, Vector.zeros(2), {
        update: "exact",
        blockSize: 2
      })
    ).toThrow(Errors.InvalidOptions)
    expect(() =>
      BCD.minimize({ ...problem, regularizer: [Prox.l1(1)] }, Vector.zeros(2), { blockSize: 1 })
    ).toThrow(Errors.DimensionMismatch)
    expect(() => BCD.minimize({ smooth: BCD.smooth(objective, [1, 2, 3]) }, Vector.zeros(2))).toThrow(
      Errors.DimensionMismatch
    )
    // F(x0) = +∞: x0 outside the regularizer's domain.
    expect(() =>
      BCD.minimize({ ...problem, regularizer: Prox.nonNegative() }, Vector.fromArray([-1, 0]))
    ).toThrow(Errors.NonFiniteInput)
    expect(() => BCD.minimize({ smooth: { _tag: "Cubic" } as never }, Vector.zeros(2))).toThrow(
      Errors.InvalidOptions
    )
  })

  it("throws NotPositiveDefinite for a block without curvature or a singular exact block", () => {
    const flat = Matrix.fromRows([
      [1, 0],
      [0, 0]
    ])
    expect(() => BCD.minimize({ smooth: BCD.quadratic(flat, b) }, Vector.zeros(2))).toThrow(
      Errors.NotPositiveDefinite
    )
    const singular = Matrix.fromRows([
      [1, 1, 0],
      [1, 1, 0],
      [0, 0, 1]
    ])
    expect(() =>
      BCD.minimize({ smooth: BCD.quadratic(singular, Vector.zeros(3)) }, Vector.zeros(3), {
        update: "exact",
        blockSize: 2
      })
    ).toThrow(Errors.NotPositiveDefinite)
    const zeroColumn = Matrix.fromRows([
      [1, 0],
      [2, 0]
    ])
    expect(() => BCD.minimize({ smooth: BCD.leastSquares(zeroColumn, b) }, Vector.zeros(2))).toThrow(
      Errors.NotPositiveDefinite
    )
  })

  it("diverges on an indefinite quadratic and keeps the last finite iterate", () => {
    const indefinite = Matrix.fromRows([
      [1, 2],
      [2, 1]
    ])
    // Gauss–Seidel on it multiplies the error by 4 per sweep.
    const ones = Vector.fromArray([1, 1])
    const x0 = Vector.zeros(2)
    const result = BCD.minimize({ smooth: BCD.quadratic(indefinite, ones) }, x0)
    expect(result.status).toBe("diverged")
    expect(Vector.findNonFinite(result.x)).toBe(-1)
    // The same run stopped one update earlier ends at the same point.
    const before = BCD.minimize({ smooth: BCD.quadratic(indefinite, ones) }, x0, {
      maxIterations: result.iterations - 1
    })
    assertBitIdentical(result.x, before.x)
  })

  it("diverges with a too-small given Lipschitz constant and keeps the last finite iterate", () => {
    // f = 50‖x‖², L = 1: every step maps x to −99x.
    const f: Objective.Objective = {
      dimension: 2,
      value: (x) => 50 * Blas1.dot(x, x),
      valueAndGradient: (x, g) => {
        Blas1.copy(x, g)
        Blas1.scal(100, g)
        return 50 * Blas1.dot(x, x)
      }
    }
    const x0 = Vector.fromArray([1, 1])
    const result = BCD.minimize({ smooth: BCD.smooth(f, 1) }, x0)
    expect(result.status).toBe("diverged")
    expect(Number.isFinite(result.fun)).toBe(true)
    const before = BCD.minimize({ smooth: BCD.smooth(f, 1) }, x0, { maxIterations: result.iterations - 1 })
    assertBitIdentical(result.x, before.x)
    expect(result.message).toContain("last finite iterate")
  })

  it("stalls when backtracking finds no decrease", () => {
    // Finite only at the start.
    const f: Objective.Objective = {
      dimension: 1,
      value: (x) => (x[0] === 1 ? 1 : Number.NaN),
      valueAndGradient: (x, g) => {
        g[0] = 1
        return x[0] === 1 ? 1 : Number.NaN
      }
    }
    const result = BCD.minimize({ smooth: BCD.smooth(f) }, Vector.fromArray([1]))
    // L doubles from 1 while f(x⁺) is NaN, until 1 − 1/L rounds to 1 (L = 2⁵⁴).
    expect(result.status).toBe("stalled")
    expect(result.iterations).toBe(1)
    expect(result.x[0]).toBe(1)
    expect(result.counts.value).toBe(1 + 54)
    // With fewer trials allowed the budget runs out first.
    const short = BCD.minimize({ smooth: BCD.smooth(f) }, Vector.fromArray([1]), { maxBacktracks: 10 })
    expect(short.status).toBe("stalled")
    expect(short.counts.value).toBe(1 + 10)
  })
})
