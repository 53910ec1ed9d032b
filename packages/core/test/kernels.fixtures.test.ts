/**
 * The core kernels against NumPy/SciPy references (`fixtures/kernels.json`, made by
 * the committed, seeded `fixtures/generate_kernels.py`, which records the library
 * versions and seed it used).
 *
 * Tolerances follow from standard rounding-error bounds, not from observed errors:
 *
 * - u = 2⁻⁵³ is the unit roundoff; γₙ = n·u / (1 − n·u).
 * - A sum or dot product of n terms, in any order, satisfies |fl(s) − s| ≤ γₙ·Σ|termᵢ|
 *   (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1). The
 *   kernel (eight-way / blocked order) and NumPy (pairwise or its BLAS's order) each
 *   meet it, so they differ by at most 2γₙ·Σ|termᵢ|: that is the absolute tolerance
 *   of every summing kernel, with Σ|termᵢ| computed here from the case's inputs.
 * - Elementwise kernels perform the very IEEE operations NumPy performs, in the same
 *   order, so they must agree exactly.
 */
import { assertClose, loadFixture } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as Blas1 from "../src/Blas1.ts"
import * as Blas2 from "../src/Blas2.ts"
import * as Blas3 from "../src/Blas3.ts"
import * as Elementwise from "../src/Elementwise.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Reductions from "../src/Reductions.ts"
import * as Vector from "../src/Vector.ts"

// ---------------------------------------------------------------- tolerances --

/** Unit roundoff of float64: a correctly rounded operation has relative error ≤ U. */
const U = 2 ** -53

/** γₙ = n·u / (1 − n·u), the relative error bound of an n-term sum or dot product. */
const gamma = (n: number): number => (n * U) / (1 - n * U)

/**
 * Absolute tolerance between two implementations of a sum of `nOps` rounded
 * operations whose terms have absolute sum at most `magnitude`: each is within
 * γ·Σ|terms| of the exact value, so they are within twice that of each other.
 */
const summationAtol = (nOps: number, magnitude: number): number => 2 * gamma(nOps) * magnitude

/**
 * Summing kernels are checked with the absolute bound above alone: it is already
 * complete (it includes the final rounding), and a relative slack on top would
 * only widen it.
 */
const SUMMATION_RTOL = 0

/**
 * Elementwise kernels (add, sub, mul, div, addScalar, clamp, scal, copy, axpy,
 * axpby, scaleRows, scaleCols, transpose) do one or two IEEE operations per entry,
 * the same ones in the same order as the NumPy expression, so they agree bit for
 * bit (up to the sign of zero, which assertClose ignores).
 */
const EXACT = { rtol: 0, atol: 0 } as const

/**
 * nrm2: the sum of n non-negative squares has relative error ≤ γₙ₊₁ (n products,
 * n − 1 additions), √ halves it and adds u; the kernel's rescaled path adds one
 * division per term and one final product, NumPy's reference an exact power-of-two
 * scaling. Each result is within γₙ₊₄ relatively, so the two within 2γₙ₊₄.
 */
const nrm2Rtol = (n: number): number => 2 * gamma(n + 4)

/**
 * nrm2 results below 2⁻¹⁰²² are subnormal, quantized to multiples of 2⁻¹⁰⁷⁴; each
 * side's final rounding may be off by half of one such step.
 */
const SUBNORMAL_ATOL = Number.MIN_VALUE

/**
 * asum adds n non-negative terms: no cancellation, so the γₙ bound is relative to
 * the result itself and the two implementations differ by ≤ 2γₙ·|result|.
 */
const asumRtol = (n: number): number => 2 * gamma(n)

/**
 * log Σ exp(xᵢ) as m + log Σ exp(xᵢ − m) (kernel and SciPy alike):
 * - xᵢ − m rounds with absolute error ≤ u·R, R = max − min of the finite entries,
 *   and exp (≤ 1 ulp in V8 and libm) adds 2u: each term has relative error ≤ (R + 2)u;
 * - the sum of n positive terms adds γₙ (relative);
 * - log turns a relative error δ of its argument into an absolute error δ, and
 *   rounds with ≤ 2u·|log s| ≤ 2u·log n (the shifted sum s lies in [1, n]).
 * One implementation is within (R + 2)u + γₙ + 2u·log n absolutely (plus u·|result|
 * for the final m + log s, covered by LSE_RTOL); the two within twice that.
 */
const lseAtol = (n: number, spread: number): number =>
  2 * ((spread + 2) * U + gamma(n) + 2 * U * Math.log(n + 1))

/** The final addition m + log s rounds once on each side: 2u relative. */
const LSE_RTOL = 2 * U

/**
 * softmax outᵢ = exp(xᵢ − L̂) with L̂ = logΣexp(x): an absolute error ε of L̂ (bounded
 * by lseAtol / 2 per side, plus u·|L̂|) becomes a relative error ε of outᵢ, the
 * subtraction adds u·|xᵢ − L̂| ≤ u·(R + log n), and exp adds 2u. Twice the sum.
 */
const softmaxRtol = (n: number, spread: number, lse: number): number =>
  lseAtol(n, spread) + 2 * (U * Math.abs(lse) + U * (spread + Math.log(n + 1)) + 2 * U)

/**
 * Triangular solves: substitution is backward stable, (T + ΔT)·x̂ = b with
 * |ΔT| ≤ γₙ|T| (Higham Thm 8.5), so |x̂ − x| ≤ γₙ·|T⁻¹|·|T|·|x̂|. The fixture stores
 * `errorScale` = max(|op(T)⁻¹|·|op(T)|·|X|) for its X. The kernel's α·B scaling and
 * multiplication by a reciprocal diagonal add two roundings and the stored X a third
 * (γₙ₊₃); kernel and SciPy each meet the bound, so they differ by at most twice it.
 */
const substitutionAtol = (n: number, errorScale: number): number => 2 * gamma(n + 3) * errorScale

/** Substitution is checked with the absolute bound alone (see substitutionAtol). */
const SUBSTITUTION_RTOL = 0

// ------------------------------------------------------------------ fixture --

type Vec = ReadonlyArray<number>

interface FixtureMatrix {
  readonly rows: number
  readonly cols: number
  readonly data: Vec
}

interface Named {
  readonly name: string
}

interface TriangularCase extends Named {
  readonly A: FixtureMatrix
  readonly lower: boolean
  readonly transpose: boolean
  readonly unitDiagonal: boolean
  readonly errorScale: number
}

interface KernelsFixture {
  readonly meta: {
    readonly generator: string
    readonly numpy: string
    readonly scipy: string
    readonly seed: number
  }
  readonly "Blas1.dot": ReadonlyArray<Named & { x: Vec; y: Vec; expected: number }>
  readonly "Blas1.axpy": ReadonlyArray<Named & { alpha: number; x: Vec; y: Vec; expected: Vec }>
  readonly "Blas1.axpby": ReadonlyArray<
    Named & { alpha: number; x: Vec; beta: number; y: Vec; expected: Vec }
  >
  readonly "Blas1.scal": ReadonlyArray<Named & { alpha: number; x: Vec; expected: Vec }>
  readonly "Blas1.copy": ReadonlyArray<Named & { x: Vec; expected: Vec }>
  readonly "Blas1.asum": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Blas1.iamax": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Blas1.nrm2": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Blas2.gemv": ReadonlyArray<GemvCase>
  readonly "Blas2.gemvT": ReadonlyArray<GemvCase>
  readonly "Blas2.ger": ReadonlyArray<
    Named & { alpha: number; x: Vec; y: Vec; A: FixtureMatrix; expected: FixtureMatrix }
  >
  readonly "Blas2.symv": ReadonlyArray<GemvCase>
  readonly "Blas2.trsv": ReadonlyArray<TriangularCase & { b: Vec; expected: Vec }>
  readonly "Blas3.gemm": ReadonlyArray<
    Named & {
      transA: boolean
      transB: boolean
      alpha: number
      A: FixtureMatrix
      B: FixtureMatrix
      beta: number
      C: FixtureMatrix
      expected: FixtureMatrix
    }
  >
  readonly "Blas3.trsm": ReadonlyArray<
    TriangularCase & { B: FixtureMatrix; side: "left" | "right"; alpha: number; expected: FixtureMatrix }
  >
  readonly "Reductions.logSumExp": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Reductions.softmax": ReadonlyArray<Named & { x: Vec; expected: Vec }>
  readonly "Reductions.logSumExpRows": ReadonlyArray<Named & { A: FixtureMatrix; expected: Vec }>
  readonly "Reductions.logSumExpCols": ReadonlyArray<Named & { A: FixtureMatrix; expected: Vec }>
  readonly "Reductions.softmaxRows": ReadonlyArray<Named & { A: FixtureMatrix; expected: FixtureMatrix }>
  readonly "Reductions.rowSums": ReadonlyArray<Named & { A: FixtureMatrix; expected: Vec }>
  readonly "Reductions.colSums": ReadonlyArray<Named & { A: FixtureMatrix; expected: Vec }>
  readonly "Reductions.sum": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Reductions.max": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Reductions.min": ReadonlyArray<Named & { x: Vec; expected: number }>
  readonly "Elementwise.add": ReadonlyArray<BinaryCase>
  readonly "Elementwise.sub": ReadonlyArray<BinaryCase>
  readonly "Elementwise.mul": ReadonlyArray<BinaryCase>
  readonly "Elementwise.div": ReadonlyArray<BinaryCase>
  readonly "Elementwise.addScalar": ReadonlyArray<Named & { x: Vec; c: number; expected: Vec }>
  readonly "Elementwise.clamp": ReadonlyArray<Named & { x: Vec; lower: number; upper: number; expected: Vec }>
  readonly "Elementwise.scaleRows": ReadonlyArray<
    Named & { A: FixtureMatrix; d: Vec; expected: FixtureMatrix }
  >
  readonly "Elementwise.scaleCols": ReadonlyArray<
    Named & { A: FixtureMatrix; d: Vec; expected: FixtureMatrix }
  >
  readonly "Matrix.transpose": ReadonlyArray<Named & { A: FixtureMatrix; expected: FixtureMatrix }>
}

interface GemvCase extends Named {
  readonly alpha: number
  readonly A: FixtureMatrix
  readonly x: Vec
  readonly beta: number
  readonly y: Vec
  readonly expected: Vec
}

interface BinaryCase extends Named {
  readonly x: Vec
  readonly y: Vec
  readonly expected: Vec
}

const fixture = loadFixture<KernelsFixture>(import.meta.url, "./fixtures/kernels.json")

// ------------------------------------------------- magnitudes for the bounds --

/** Σᵢ |xᵢ·yᵢ|. */
const absDot = (x: Vec, y: Vec): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! * y[i]!)
  return s
}

/** Entry (i, j) of op(A). */
const entry = (A: FixtureMatrix, trans: boolean, i: number, j: number): number =>
  trans ? A.data[j * A.cols + i]! : A.data[i * A.cols + j]!

/** max over i of |α|·Σⱼ |op(A)ᵢⱼ|·|xⱼ| + |β|·|yᵢ| (the β term only when β ≠ 0: β = 0 overwrites y). */
const gemvMagnitude = (
  alpha: number,
  A: FixtureMatrix,
  trans: boolean,
  x: Vec,
  beta: number,
  y: Vec
): number => {
  const m = trans ? A.cols : A.rows
  const n = trans ? A.rows : A.cols
  let worst = 0
  for (let i = 0; i < m; i++) {
    let s = 0
    for (let j = 0; j < n; j++) s += Math.abs(entry(A, trans, i, j) * x[j]!)
    worst = Math.max(worst, Math.abs(alpha) * s + (beta === 0 ? 0 : Math.abs(beta * y[i]!)))
  }
  return worst
}

/** Largest x − min over the finite entries (the exponent range of the shifted terms); 0 if none. */
const spread = (x: ArrayLike<number>): number => {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
  }
  return hi >= lo ? hi - lo : 0
}

const rowOf = (A: FixtureMatrix, i: number): Vec => A.data.slice(i * A.cols, (i + 1) * A.cols)
const colOf = (A: FixtureMatrix, j: number): Vec =>
  Array.from({ length: A.rows }, (_, i) => A.data[i * A.cols + j]!)

/** The LSE bound over a set of independent reductions (rows or columns): the worst one. */
const lseAtolOver = (slices: ReadonlyArray<Vec>): number =>
  slices.reduce((worst, s) => Math.max(worst, lseAtol(s.length, spread(s))), 0)

// ---------------------------------------------------------------------- tests --

describe("kernels.json provenance", () => {
  it("records the generator, library versions and seed", () => {
    expect(fixture.meta.generator).toBe("packages/core/test/fixtures/generate_kernels.py")
    expect(fixture.meta.numpy).toMatch(/^\d+\.\d+/)
    expect(fixture.meta.scipy).toMatch(/^\d+\.\d+/)
    expect(Number.isInteger(fixture.meta.seed)).toBe(true)
  })
})

/**
 * The comparisons run twice: on plain Float64Arrays (the portable TypeScript
 * loops) and on arrays from core's allocator (WebAssembly memory, and so the SIMD
 * kernels, when that backend is active). Both must meet the same bounds.
 */
const backends = [
  { name: "plain Float64Array", vector: (xs: ArrayLike<number>): Float64Array => Float64Array.from(xs) },
  { name: "core allocator", vector: (xs: ArrayLike<number>): Float64Array => Vector.fromArray(xs) }
] as const

for (const backend of backends) {
  /** A fresh array (kernels write in place, so every test gets its own copy). */
  const vec = (xs: Vec): Float64Array => backend.vector(xs)
  const mat = (A: FixtureMatrix): Matrix.Matrix => Matrix.fromData(A.rows, A.cols, backend.vector(A.data))
  /** An output of length n filled with `fill`. */
  const output = (n: number, fill = 0): Float64Array => backend.vector(new Float64Array(n).fill(fill))

  describe(`${backend.name}`, () => {
    describe("Blas1 against NumPy", () => {
      for (const c of fixture["Blas1.dot"]) {
        it(`dot ${c.name}`, () => {
          const actual = Blas1.dot(vec(c.x), vec(c.y))
          assertClose(actual, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(c.x.length, absDot(c.x, c.y)),
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas1.axpy"]) {
        it(`axpy ${c.name}`, () => {
          const y = vec(c.y)
          Blas1.axpy(c.alpha, vec(c.x), y)
          assertClose(y, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Blas1.axpby"]) {
        it(`axpby ${c.name}`, () => {
          const y = vec(c.y)
          Blas1.axpby(c.alpha, vec(c.x), c.beta, y)
          assertClose(y, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Blas1.scal"]) {
        it(`scal ${c.name}`, () => {
          const x = vec(c.x)
          Blas1.scal(c.alpha, x)
          assertClose(x, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Blas1.copy"]) {
        it(`copy ${c.name}`, () => {
          const y = output(c.x.length, Number.NaN)
          Blas1.copy(vec(c.x), y)
          assertClose(y, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Blas1.asum"]) {
        it(`asum ${c.name}`, () => {
          assertClose(Blas1.asum(vec(c.x)), c.expected, {
            rtol: asumRtol(c.x.length),
            atol: 0,
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas1.iamax"]) {
        it(`iamax ${c.name}`, () => {
          expect(Blas1.iamax(vec(c.x))).toBe(c.expected)
        })
      }
      for (const c of fixture["Blas1.nrm2"]) {
        it(`nrm2 ${c.name}`, () => {
          assertClose(Blas1.nrm2(vec(c.x)), c.expected, {
            rtol: nrm2Rtol(c.x.length),
            atol: SUBNORMAL_ATOL,
            label: c.name
          })
        })
      }
    })

    describe("Blas2 against NumPy/SciPy", () => {
      for (const c of fixture["Blas2.gemv"]) {
        it(`gemv ${c.name}`, () => {
          const y = vec(c.y)
          Blas2.gemv(c.alpha, mat(c.A), vec(c.x), c.beta, y)
          const magnitude = gemvMagnitude(c.alpha, c.A, false, c.x, c.beta, c.y)
          // n products and n − 1 additions in the dot, then ×α and +β·y: n + 2 roundings.
          assertClose(y, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(c.A.cols + 2, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas2.gemvT"]) {
        it(`gemvT ${c.name}`, () => {
          const y = vec(c.y)
          Blas2.gemvT(c.alpha, mat(c.A), vec(c.x), c.beta, y)
          const magnitude = gemvMagnitude(c.alpha, c.A, true, c.x, c.beta, c.y)
          // β·y, then m updates y + (α·xᵢ)·Aᵢⱼ: two roundings per update plus one for β·y.
          assertClose(y, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(c.A.rows + 2, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas2.ger"]) {
        it(`ger ${c.name}`, () => {
          const A = mat(c.A)
          Blas2.ger(c.alpha, vec(c.x), vec(c.y), A)
          // Aᵢⱼ + (α·xᵢ)·yⱼ here, Aᵢⱼ + α·(xᵢ·yⱼ) in NumPy: three roundings each, differently associated.
          let magnitude = 0
          for (let i = 0; i < c.A.rows; i++) {
            for (let j = 0; j < c.A.cols; j++) {
              magnitude = Math.max(
                magnitude,
                Math.abs(c.A.data[i * c.A.cols + j]!) + Math.abs(c.alpha * c.x[i]! * c.y[j]!)
              )
            }
          }
          assertClose(A, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(3, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas2.symv"]) {
        it(`symv ${c.name}`, () => {
          const y = vec(c.y)
          Blas2.symv(c.alpha, mat(c.A), vec(c.x), c.beta, y)
          // |S| with S the symmetric matrix of A's lower triangle.
          const n = c.A.rows
          const sym = { rows: n, cols: n, data: new Array<number>(n * n) }
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++)
              sym.data[i * n + j] = i >= j ? c.A.data[i * n + j]! : c.A.data[j * n + i]!
          }
          const magnitude = gemvMagnitude(c.alpha, sym, false, c.x, c.beta, c.y)
          // Each yᵢ is β·yᵢ plus n terms added in some order, each term α·Aᵢⱼ·xⱼ with two roundings.
          assertClose(y, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(n + 3, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas2.trsv"]) {
        it(`trsv ${c.name}`, () => {
          const b = vec(c.b)
          Blas2.trsv(mat(c.A), b, { lower: c.lower, transpose: c.transpose, unitDiagonal: c.unitDiagonal })
          assertClose(b, c.expected, {
            rtol: SUBSTITUTION_RTOL,
            atol: substitutionAtol(c.A.rows, c.errorScale),
            label: c.name
          })
        })
      }
    })

    describe("Blas3 against NumPy/SciPy", () => {
      for (const c of fixture["Blas3.gemm"]) {
        it(`gemm ${c.name}`, () => {
          const C = mat(c.C)
          Blas3.gemm(c.transA, c.transB, c.alpha, mat(c.A), mat(c.B), c.beta, C)
          const m = c.C.rows
          const n = c.C.cols
          const k = c.transA ? c.A.rows : c.A.cols
          let magnitude = 0
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let s = 0
              for (let p = 0; p < k; p++)
                s += Math.abs(entry(c.A, c.transA, i, p) * entry(c.B, c.transB, p, j))
              const cTerm = c.beta === 0 ? 0 : Math.abs(c.beta * c.C.data[i * n + j]!)
              magnitude = Math.max(magnitude, Math.abs(c.alpha) * s + cTerm)
            }
          }
          // k products (each of α·Aᵢₚ, rounded once more) and k additions per block, one more
          // addition per k-block into C, and β·C: k + 2 + ⌈k / GEMM_KC⌉ roundings at most.
          const ops = k + 2 + Math.ceil(k / Blas3.GEMM_KC)
          assertClose(C, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(ops, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Blas3.trsm"]) {
        it(`trsm ${c.name}`, () => {
          const B = mat(c.B)
          Blas3.trsm(mat(c.A), B, {
            side: c.side,
            lower: c.lower,
            transpose: c.transpose,
            unitDiagonal: c.unitDiagonal,
            alpha: c.alpha
          })
          assertClose(B, c.expected, {
            rtol: SUBSTITUTION_RTOL,
            atol: substitutionAtol(c.A.rows, c.errorScale),
            label: c.name
          })
        })
      }
    })

    describe("Reductions against SciPy/NumPy", () => {
      for (const c of fixture["Reductions.logSumExp"]) {
        it(`logSumExp ${c.name}`, () => {
          assertClose(Reductions.logSumExp(vec(c.x)), c.expected, {
            rtol: LSE_RTOL,
            atol: lseAtol(c.x.length, spread(c.x)),
            label: c.name
          })
        })
      }
      for (const c of fixture["Reductions.softmax"]) {
        it(`softmax ${c.name}`, () => {
          const out = output(c.x.length)
          Reductions.softmax(vec(c.x), out)
          const lse = Reductions.logSumExp(vec(c.x))
          assertClose(out, c.expected, {
            rtol: softmaxRtol(c.x.length, spread(c.x), lse),
            atol: SUBNORMAL_ATOL,
            label: c.name
          })
        })
      }
      for (const c of fixture["Reductions.logSumExpRows"]) {
        it(`logSumExpRows ${c.name}`, () => {
          const out = output(c.A.rows)
          Reductions.logSumExpRows(mat(c.A), out)
          const rows = Array.from({ length: c.A.rows }, (_, i) => rowOf(c.A, i))
          assertClose(out, c.expected, { rtol: LSE_RTOL, atol: lseAtolOver(rows), label: c.name })
        })
      }
      for (const c of fixture["Reductions.logSumExpCols"]) {
        it(`logSumExpCols ${c.name}`, () => {
          const out = output(c.A.cols)
          Reductions.logSumExpCols(mat(c.A), out)
          const cols = Array.from({ length: c.A.cols }, (_, j) => colOf(c.A, j))
          assertClose(out, c.expected, { rtol: LSE_RTOL, atol: lseAtolOver(cols), label: c.name })
          // The same with a caller-given workspace.
          const again = output(c.A.cols)
          Reductions.logSumExpCols(mat(c.A), again, output(c.A.cols))
          assertClose(again, out, { ...EXACT, label: `${c.name} (workspace)` })
        })
      }
      for (const c of fixture["Reductions.softmaxRows"]) {
        it(`softmaxRows ${c.name}`, () => {
          const out = Matrix.fromData(c.A.rows, c.A.cols, output(c.A.rows * c.A.cols))
          Reductions.softmaxRows(mat(c.A), out)
          let rtol = 0
          for (let i = 0; i < c.A.rows; i++) {
            const r = rowOf(c.A, i)
            rtol = Math.max(rtol, softmaxRtol(r.length, spread(r), Reductions.logSumExp(vec(r))))
          }
          assertClose(out, c.expected, { rtol, atol: SUBNORMAL_ATOL, label: c.name })
        })
      }
      for (const c of fixture["Reductions.rowSums"]) {
        it(`rowSums ${c.name}`, () => {
          const out = output(c.A.rows)
          Reductions.rowSums(mat(c.A), out)
          const magnitude = Array.from({ length: c.A.rows }, (_, i) => rowOf(c.A, i)).reduce(
            (w, r) =>
              Math.max(
                w,
                r.reduce((s, v) => s + Math.abs(v), 0)
              ),
            0
          )
          assertClose(out, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(c.A.cols, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Reductions.colSums"]) {
        it(`colSums ${c.name}`, () => {
          const out = output(c.A.cols)
          Reductions.colSums(mat(c.A), out)
          const magnitude = Array.from({ length: c.A.cols }, (_, j) => colOf(c.A, j)).reduce(
            (w, col) =>
              Math.max(
                w,
                col.reduce((s, v) => s + Math.abs(v), 0)
              ),
            0
          )
          // out starts at 0 and takes out + 1·Aᵢⱼ row by row (1·Aᵢⱼ is exact): one rounding per row.
          assertClose(out, c.expected, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(c.A.rows, magnitude),
            label: c.name
          })
        })
      }
      for (const c of fixture["Reductions.sum"]) {
        it(`sum ${c.name}`, () => {
          const magnitude = c.x.reduce((s, v) => s + Math.abs(v), 0)
          const atol = Number.isFinite(magnitude) ? summationAtol(c.x.length, magnitude) : 0
          assertClose(Reductions.sum(vec(c.x)), c.expected, { rtol: SUMMATION_RTOL, atol, label: c.name })
        })
      }
      for (const c of fixture["Reductions.max"]) {
        it(`max ${c.name}`, () => {
          assertClose(Reductions.max(vec(c.x)), c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Reductions.min"]) {
        it(`min ${c.name}`, () => {
          assertClose(Reductions.min(vec(c.x)), c.expected, { ...EXACT, label: c.name })
        })
      }
    })

    describe("Elementwise and Matrix against NumPy", () => {
      const binary = {
        add: Elementwise.add,
        sub: Elementwise.sub,
        mul: Elementwise.mul,
        div: Elementwise.div
      } as const
      for (const op of ["add", "sub", "mul", "div"] as const) {
        for (const c of fixture[`Elementwise.${op}`]) {
          it(`${op} ${c.name}`, () => {
            const out = output(c.x.length)
            binary[op](vec(c.x), vec(c.y), out)
            assertClose(out, c.expected, { ...EXACT, label: c.name })
          })
        }
      }
      for (const c of fixture["Elementwise.addScalar"]) {
        it(`addScalar ${c.name}`, () => {
          const out = output(c.x.length)
          Elementwise.addScalar(vec(c.x), c.c, out)
          assertClose(out, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Elementwise.clamp"]) {
        it(`clamp ${c.name}`, () => {
          const out = output(c.x.length)
          Elementwise.clamp(vec(c.x), c.lower, c.upper, out)
          assertClose(out, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Elementwise.scaleRows"]) {
        it(`scaleRows ${c.name}`, () => {
          const A = mat(c.A)
          Elementwise.scaleRows(A, vec(c.d))
          assertClose(A, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Elementwise.scaleCols"]) {
        it(`scaleCols ${c.name}`, () => {
          const A = mat(c.A)
          Elementwise.scaleCols(A, vec(c.d))
          assertClose(A, c.expected, { ...EXACT, label: c.name })
        })
      }
      for (const c of fixture["Matrix.transpose"]) {
        it(`transpose ${c.name}`, () => {
          assertClose(Matrix.transpose(mat(c.A)), c.expected, { ...EXACT, label: c.name })
        })
      }
    })
  })
}

describe("logSumExp special values", () => {
  const lse = (...xs: number[]): number => Reductions.logSumExp(Float64Array.from(xs))
  const inf = Number.POSITIVE_INFINITY

  it("an empty vector and a vector of −∞ give −∞ (an empty sum)", () => {
    expect(lse()).toBe(-inf)
    expect(lse(-inf)).toBe(-inf)
    expect(lse(-inf, -inf, -inf)).toBe(-inf)
  })
  it("a +∞ entry gives +∞, also next to −∞", () => {
    expect(lse(1, inf, 2)).toBe(inf)
    expect(lse(-inf, inf)).toBe(inf)
    expect(lse(inf, inf)).toBe(inf)
  })
  it("a NaN entry gives NaN, wherever it stands, even next to ±∞", () => {
    expect(lse(Number.NaN)).toBeNaN()
    expect(lse(Number.NaN, 1)).toBeNaN()
    expect(lse(1, 2, Number.NaN)).toBeNaN()
    expect(lse(inf, Number.NaN)).toBeNaN()
    expect(lse(-inf, Number.NaN)).toBeNaN()
  })
  it("−∞ entries beside finite ones contribute nothing", () => {
    expect(lse(-inf, 0, -inf)).toBe(0)
    expect(lse(-inf, 3.5)).toBe(3.5)
  })
  it("rows and columns follow the same rules", () => {
    const A = Matrix.fromRows([
      [-inf, -inf, -inf],
      [1, inf, -inf],
      [Number.NaN, 0, inf]
    ])
    const rows = new Float64Array(3)
    Reductions.logSumExpRows(A, rows)
    expect(Array.from(rows)).toEqual([-inf, inf, Number.NaN])
    const cols = new Float64Array(3)
    Reductions.logSumExpCols(Matrix.transpose(A), cols)
    expect(Array.from(cols)).toEqual([-inf, inf, Number.NaN])
  })
})
