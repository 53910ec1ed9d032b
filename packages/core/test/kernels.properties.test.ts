/**
 * Property tests of the core kernels: each against a naive loop written here, the
 * documented summation orders bit for bit, and algebraic invariants (substitution
 * then multiplication gives back the right-hand side, transposes agree with
 * explicit transposes, softmax sums to 1, nrm2² = xᵀx, …).
 *
 * Every `fc.assert` runs with the pinned seed SEED. Inputs come from the shared
 * arbitraries of @descent/testing (sizes from 0, entries in [−10, 10] including
 * subnormals); matrices of ~10⁵ entries are filled by a seeded generator instead,
 * with fast-check choosing their shapes and seeds.
 *
 * Tolerances: u = 2⁻⁵³, γₙ = n·u / (1 − n·u). A sum of n rounded terms in any
 * order is within γₙ·Σ|termᵢ| of the exact sum (Higham, *Accuracy and Stability of
 * Numerical Algorithms*, 2nd ed., §3.1), so a kernel and a naive loop differ by at
 * most 2γₙ·Σ|termᵢ|. Subnormal results break the relative model: each rounding may
 * then be off by up to 2⁻¹⁰⁷⁵ absolutely (Higham's η term), counted by underflowAtol.
 */
import {
  assertBitIdentical,
  assertClose,
  finiteDouble,
  matrix,
  matrixOfShape,
  probabilityVector,
  spdMatrix,
  vector,
  vectorOfLength
} from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Blas1 from "../src/Blas1.ts"
import * as Blas2 from "../src/Blas2.ts"
import * as Blas3 from "../src/Blas3.ts"
import * as Elementwise from "../src/Elementwise.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Reductions from "../src/Reductions.ts"
import * as Vector from "../src/Vector.ts"

type M = Matrix.Matrix

const SEED = 42

/** Runs a property with the pinned seed. */
const check = <Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts>,
  numRuns = 100,
  examples: Array<Ts> = []
): void => {
  fc.assert(property, { seed: SEED, numRuns, examples })
}

// ---------------------------------------------------------------- tolerances --

/** Unit roundoff of float64. */
const U = 2 ** -53

/** γₙ = n·u / (1 − n·u), the relative error bound of an n-term sum or dot product. */
const gamma = (n: number): number => (n * U) / (1 - n * U)

/**
 * A result reached through at most `nOps` roundings per term, with Σ|terms| ≤
 * `magnitude`, is within γ·magnitude of exact; two such results within twice that.
 */
const summationAtol = (nOps: number, magnitude: number): number => 2 * gamma(nOps) * magnitude

/** `nOps` roundings on each of two sides with subnormal results: ≤ 2⁻¹⁰⁷⁵ each. */
const underflowAtol = (nOps: number): number => nOps * Number.MIN_VALUE

/** Summing kernels are compared with the complete absolute bound above; no relative slack. */
const SUMMATION_RTOL = 0

/** Kernels that perform the same IEEE operations as the reference, in the same order. */
const EXACT = { rtol: 0, atol: 0 } as const

/** nrm2 on either path is within γₙ₊₄ of ‖x‖ (see kernels.fixtures.test.ts): two results within 2γₙ₊₄. */
const nrm2Rtol = (n: number): number => 2 * gamma(n + 4)

/**
 * log Σ exp: the kernel is within (R + 2)u + γₙ + 2u·log n absolutely, R the spread
 * of the finite entries (see kernels.fixtures.test.ts); the naive log(Σ exp xᵢ) on
 * |xᵢ| ≤ 10 within 2u + γₙ (exp, sum) plus its final log's 1 ulp (NAIVE_LSE_RTOL).
 */
const lseAtol = (n: number, spread: number): number =>
  (spread + 4) * U + 2 * gamma(n) + 2 * U * Math.log(n + 1)

/** The kernel's final m + log s (0.5 ulp) and the naive final log (1 ulp): 3u, rounded up to 4u. */
const NAIVE_LSE_RTOL = 4 * U

/**
 * softmax outᵢ = exp(xᵢ − L̂): an absolute error ε of L̂ becomes a relative error ε
 * of outᵢ; the subtraction adds u·|xᵢ − L̂| and exp 2u.
 */
const softmaxRtol = (n: number, spread: number, lse: number): number =>
  2 * (lseAtol(n, spread) + U * Math.abs(lse) + U * (spread + Math.log(n + 1)) + 2 * U)

// ------------------------------------------------------------------- helpers --

/** Largest minus smallest finite entry (0 if there are none). */
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

const copyOf = (A: M): M => ({ rows: A.rows, cols: A.cols, data: Float64Array.from(A.data) })

/** Entry (i, j) of op(A). */
const at = (A: M, trans: boolean, i: number, j: number): number =>
  trans ? A.data[j * A.cols + i]! : A.data[i * A.cols + j]!

/** op(A) as an explicit matrix. */
const explicit = (A: M, trans: boolean): M => (trans ? Matrix.transpose(A) : copyOf(A))

/**
 * Uniform values in [−1, 1) from a 32-bit seed (mulberry32): fills matrices of
 * ~10⁵ entries, for which fast-check arrays would dominate the run time.
 */
const seededData = (length: number, seed: number): Float64Array => {
  let s = seed >>> 0
  const out = new Float64Array(length)
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1
  }
  return out
}

/**
 * The documented level-1 order: eight partial sums s_k over i ≡ k (mod 8) of the
 * first ⌊n/8⌋·8 terms, combined as ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)), then the
 * remaining terms added in order.
 */
const eightWay = (n: number, term: (i: number) => number): number => {
  const s = [0, 0, 0, 0, 0, 0, 0, 0]
  const n8 = n - (n % 8)
  for (let i = 0; i < n8; i++) s[i % 8] += term(i)
  let total = s[0]! + s[2]! + (s[4]! + s[6]!) + (s[1]! + s[3]! + (s[5]! + s[7]!))
  for (let i = n8; i < n; i++) total += term(i)
  return total
}

/** Σ terms left to right. */
const naiveSum = (n: number, term: (i: number) => number): number => {
  let s = 0
  for (let i = 0; i < n; i++) s += term(i)
  return s
}

/** Naive C ← α·op(A)·op(B) + β·C (β = 0 overwrites), summing k left to right. */
const naiveGemm = (tA: boolean, tB: boolean, alpha: number, A: M, B: M, beta: number, C: M): void => {
  const m = C.rows
  const n = C.cols
  const k = tA ? A.rows : A.cols
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += at(A, tA, i, p) * at(B, tB, p, j)
      const c = C.data[i * n + j]!
      C.data[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c)
    }
  }
}

/**
 * gemm's documented summation order: C ← β·C (β = 0 overwrites, β = 1 leaves C),
 * then for each block of GEMM_KC consecutive k, C[i,j] += Σ_k (α·A[i,k])·B[k,j]
 * with the block's sum taken in increasing k from zero.
 */
const gemmDocumentedOrder = (
  tA: boolean,
  tB: boolean,
  alpha: number,
  A: M,
  B: M,
  beta: number,
  C: M
): void => {
  const m = C.rows
  const n = C.cols
  const k = tA ? A.rows : A.cols
  const c = C.data
  for (let i = 0; i < m * n; i++) c[i] = beta === 0 ? 0 : beta === 1 ? c[i]! : beta * c[i]!
  if (m === 0 || n === 0 || k === 0 || alpha === 0) return
  for (let pc = 0; pc < k; pc += Blas3.GEMM_KC) {
    const end = Math.min(pc + Blas3.GEMM_KC, k)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let p = pc; p < end; p++) s += alpha * at(A, tA, i, p) * at(B, tB, p, j)
        c[i * n + j] = c[i * n + j]! + s
      }
    }
  }
}

/** max over (i, j) of |α|·Σ_p |op(A)ᵢₚ·op(B)ₚⱼ| + |β·Cᵢⱼ| (β term only when β ≠ 0). */
const gemmMagnitude = (tA: boolean, tB: boolean, alpha: number, A: M, B: M, beta: number, C: M): number => {
  const k = tA ? A.rows : A.cols
  let worst = 0
  for (let i = 0; i < C.rows; i++) {
    for (let j = 0; j < C.cols; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += Math.abs(at(A, tA, i, p) * at(B, tB, p, j))
      worst = Math.max(
        worst,
        Math.abs(alpha) * s + (beta === 0 ? 0 : Math.abs(beta * C.data[i * C.cols + j]!))
      )
    }
  }
  return worst
}

/** Roundings on one term's way through gemm: 2 for (α·a)·b, ≤ k additions, one per k-block into C, β·C. */
const gemmOps = (k: number): number => k + 3 + Math.ceil(k / Blas3.GEMM_KC)

const TRIANGULAR_OPTIONS: ReadonlyArray<Blas2.TriangularOptions> = [false, true].flatMap((lower) =>
  [false, true].flatMap((transpose) =>
    [false, true].map((unitDiagonal) => ({ lower, transpose, unitDiagonal }))
  )
)

/** op(T) as an explicit dense matrix: the chosen triangle of A, ones on the diagonal if unit, transposed if asked. */
const effectiveTriangle = (A: M, options: Blas2.TriangularOptions): M => {
  const n = A.rows
  const T = Matrix.zeros(n, n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const inTriangle = options.lower ? j <= i : j >= i
      const v = i === j && options.unitDiagonal === true ? 1 : inTriangle ? A.data[i * n + j]! : 0
      if (options.transpose === true) T.data[j * n + i] = v
      else T.data[i * n + j] = v
    }
  }
  return T
}

/** Naive substitution for a dense triangular T (lower: forward, else backward), sums left to right. */
const naiveTriangularSolve = (T: M, lower: boolean, b: Float64Array): Float64Array => {
  const n = T.rows
  const x = new Float64Array(n)
  for (let t = 0; t < n; t++) {
    const i = lower ? t : n - 1 - t
    let s = b[i]!
    if (lower) for (let j = 0; j < i; j++) s -= T.data[i * n + j]! * x[j]!
    else for (let j = i + 1; j < n; j++) s -= T.data[i * n + j]! * x[j]!
    x[i] = s / T.data[i * n + i]!
  }
  return x
}

const isLowerEffective = (options: Blas2.TriangularOptions): boolean =>
  options.lower !== (options.transpose === true)

/** |T⁻¹| (of a dense triangular T), from naive solves against the identity. */
const absInverse = (T: M, lower: boolean): M => {
  const n = T.rows
  const inv = Matrix.zeros(n, n)
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n)
    e[j] = 1
    const col = naiveTriangularSolve(T, lower, e)
    for (let i = 0; i < n; i++) inv.data[i * n + j] = Math.abs(col[i]!)
  }
  return inv
}

/** |A|·v for a dense A. */
const absMatVec = (A: M, v: ArrayLike<number>): Float64Array => {
  const out = new Float64Array(A.rows)
  for (let i = 0; i < A.rows; i++) {
    let s = 0
    for (let j = 0; j < A.cols; j++) s += Math.abs(A.data[i * A.cols + j]!) * Math.abs(v[j]!)
    out[i] = s
  }
  return out
}

const maxOf = (x: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]!)
  return m
}

/**
 * Two solutions x̂₁, x̂₂ of T·x = b, each backward stable with |ΔT| ≤ γₙ₊₃|T| (the
 * substitution's n roundings, a reciprocal diagonal and an α-scaled right-hand side),
 * satisfy |x̂ᵢ − x| ≤ γₙ₊₃·|T⁻¹|·|T|·|x̂ᵢ| (Higham Thm 8.5), hence differ by at most
 * γₙ₊₃·max(|T⁻¹|·|T|·(|x̂₁| + |x̂₂|)); underflowing roundings add η-terms carried
 * through T⁻¹.
 */
const substitutionAtol = (T: M, lower: boolean, x1: ArrayLike<number>, x2: ArrayLike<number>): number => {
  const n = T.rows
  const inv = absInverse(T, lower)
  const both = Float64Array.from(x1, (v, i) => Math.abs(v) + Math.abs(x2[i]!))
  const bound = absMatVec(inv, absMatVec(T, both))
  const amplification = maxOf(absMatVec(inv, new Float64Array(n).fill(1)))
  return gamma(n + 3) * maxOf(bound) + amplification * underflowAtol(2 * (n + 3))
}

/**
 * Residual of a backward-stable solve, r = T·x̂ − b formed by a dot-product kernel:
 * |r| ≤ γₙ₊₃|T||x̂| from the solve plus γₙ₊₁(|T||x̂| + |b|) from forming r.
 */
const residualAtol = (T: M, x: ArrayLike<number>, b: ArrayLike<number>): number => {
  const tx = absMatVec(T, x)
  let worst = 0
  for (let i = 0; i < tx.length; i++) worst = Math.max(worst, tx[i]! + Math.abs(b[i]!))
  return summationAtol(T.rows + 3, worst) + underflowAtol(2 * (T.rows + 3))
}

/** Entries for triangular operands: off-diagonal in [−1, 1], diagonal ±[1, 4] so no pivot is tiny. */
const triangularOperand = (n: number): fc.Arbitrary<M> =>
  fc
    .tuple(
      matrixOfShape(n, n, 1),
      fc.array(fc.double({ min: 1, max: 4, noNaN: true }), { minLength: n, maxLength: n }),
      fc.array(fc.boolean(), { minLength: n, maxLength: n })
    )
    .map(([A, d, negative]) => {
      const data = Float64Array.from(A.data)
      for (let i = 0; i < n; i++) data[i * n + i] = negative[i] ? -d[i]! : d[i]!
      return { rows: n, cols: n, data }
    })

/** A copy of A with NaN in every entry the solve must not read: the other triangle, and the diagonal if unit. */
const poisonUnread = (A: M, options: Blas2.TriangularOptions): M => {
  const n = A.rows
  const P = copyOf(A)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const outside = options.lower ? j > i : j < i
      if (outside || (i === j && options.unitDiagonal === true)) P.data[i * n + j] = Number.NaN
    }
  }
  return P
}

/** A vector inside a larger buffer: the view, its offset and the whole buffer (to check nothing outside moves). */
const viewOf = (n: number): fc.Arbitrary<{ view: Float64Array; buffer: Float64Array; offset: number }> =>
  fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 5 }))
    .chain(([offset, tail]) => vectorOfLength(offset + n + tail).map((buffer) => ({ buffer, offset })))
    .map(({ buffer, offset }) => ({ view: buffer.subarray(offset, offset + n), buffer, offset }))

/** Two equally long vectors in [−10, 10], length 0…`maxLength`. */
const vectorPair = (maxLength = 80): fc.Arbitrary<[Float64Array, Float64Array]> =>
  fc.integer({ min: 0, max: maxLength }).chain((n) => fc.tuple(vectorOfLength(n), vectorOfLength(n)))

// ------------------------------------------------------------------- level 1 --

describe("Blas1 properties", () => {
  it("dot, sum, asum and the nrm2 fast path follow the documented eight-way order bit for bit", () => {
    check(
      fc.property(vectorPair(150), ([x, y]) => {
        const n = x.length
        expect(
          Object.is(
            Blas1.dot(x, y),
            eightWay(n, (i) => x[i]! * y[i]!)
          )
        ).toBe(true)
        expect(
          Object.is(
            Reductions.sum(x),
            eightWay(n, (i) => x[i]!)
          )
        ).toBe(true)
        expect(
          Object.is(
            Blas1.asum(x),
            eightWay(n, (i) => Math.abs(x[i]!))
          )
        ).toBe(true)
        const ss = eightWay(n, (i) => x[i]! * x[i]!)
        if (ss >= 2 ** -968) expect(Object.is(Blas1.nrm2(x), Math.sqrt(ss))).toBe(true)
      }),
      300
    )
  })

  it("dot, sum and asum agree with naive left-to-right sums", () => {
    check(
      fc.property(vectorPair(150), ([x, y]) => {
        const n = x.length
        const absXY = naiveSum(n, (i) => Math.abs(x[i]! * y[i]!))
        assertClose(
          Blas1.dot(x, y),
          naiveSum(n, (i) => x[i]! * y[i]!),
          {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(n, absXY) + underflowAtol(n)
          }
        )
        const absX = naiveSum(n, (i) => Math.abs(x[i]!))
        assertClose(
          Reductions.sum(x),
          naiveSum(n, (i) => x[i]!),
          { rtol: SUMMATION_RTOL, atol: summationAtol(n, absX) }
        )
        // Non-negative terms: the bound is relative to the result.
        assertClose(Blas1.asum(x), absX, { rtol: 2 * gamma(n), atol: 0 })
      }),
      300
    )
  })

  it("axpy, axpby, scal and copy on subarray views match the naive loops and leave the rest of the buffer alone", () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(viewOf(n), viewOf(n))),
        finiteDouble(3),
        fc.constantFrom(0, 1, -0.5, 2.25),
        ([x, y], alpha, beta) => {
          const n = x.view.length
          const check1 = (
            run: (yv: Float64Array) => void,
            expected: (i: number) => number,
            label: string
          ) => {
            const buffer = Float64Array.from(y.buffer)
            const yv = buffer.subarray(y.offset, y.offset + n)
            const before = Float64Array.from(x.buffer)
            run(yv)
            const want = Float64Array.from(y.buffer)
            for (let i = 0; i < n; i++) want[y.offset + i] = expected(i)
            assertClose(buffer, want, { ...EXACT, label })
            assertBitIdentical(x.buffer, before, `${label}: x`)
          }
          const xv = x.view
          const y0 = y.view
          check1(
            (yv) => Blas1.axpy(alpha, xv, yv),
            (i) => y0[i]! + alpha * xv[i]!,
            "axpy"
          )
          check1(
            (yv) => Blas1.axpby(alpha, xv, beta, yv),
            (i) => (beta === 0 ? alpha * xv[i]! : alpha * xv[i]! + beta * y0[i]!),
            "axpby"
          )
          check1(
            (yv) => Blas1.scal(alpha, yv),
            (i) => alpha * y0[i]!,
            "scal"
          )
          check1(
            (yv) => Blas1.copy(xv, yv),
            (i) => xv[i]!,
            "copy"
          )
        }
      ),
      200
    )
  })

  it("reductions on subarray views equal those on copies", () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(viewOf(n), viewOf(n))),
        ([x, y]) => {
          const xc = Float64Array.from(x.view)
          const yc = Float64Array.from(y.view)
          expect(Object.is(Blas1.dot(x.view, y.view), Blas1.dot(xc, yc))).toBe(true)
          expect(Object.is(Blas1.asum(x.view), Blas1.asum(xc))).toBe(true)
          expect(Object.is(Blas1.nrm2(x.view), Blas1.nrm2(xc))).toBe(true)
          expect(Blas1.iamax(x.view)).toBe(Blas1.iamax(xc))
          expect(Object.is(Reductions.sum(x.view), Reductions.sum(xc))).toBe(true)
        }
      ),
      200
    )
  })

  it("iamax is the first index of the largest |xᵢ| (NaN counting as largest), −1 when empty", () => {
    const withSpecials = fc.array(
      fc.oneof(
        { weight: 8, arbitrary: finiteDouble() },
        {
          weight: 1,
          arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)
        }
      ),
      { maxLength: 40 }
    )
    check(
      fc.property(withSpecials, (xs) => {
        const x = Float64Array.from(xs)
        let want = -1
        const nan = xs.findIndex((v) => Number.isNaN(v))
        if (nan >= 0) want = nan
        else
          for (let i = 0; i < xs.length; i++) if (want < 0 || Math.abs(xs[i]!) > Math.abs(xs[want]!)) want = i
        expect(Blas1.iamax(x)).toBe(want)
      }),
      300
    )
  })

  it("nrm2² = dot(x, x) where the squares neither overflow nor underflow", () => {
    check(
      fc.property(vector({ maxLength: 100 }), (x) => {
        const xx = Blas1.dot(x, x)
        fc.pre(xx >= 2 ** -968)
        const r = Blas1.nrm2(x)
        // The fast path is √ of the very sum dot(x, x) computes; √ rounds once (u), squaring
        // doubles that and rounds again: ≤ 3u relative, rounded up to 4u.
        assertClose(r * r, xx, { rtol: 4 * U, atol: 0 })
      }),
      200
    )
  })

  it("nrm2 is overflow and underflow safe: nrm2(2ᵏ·x) = 2ᵏ·nrm2(x) for −950 ≤ k ≤ 1000", () => {
    check(
      fc.property(vector({ minLength: 1, maxLength: 60 }), fc.integer({ min: -950, max: 1000 }), (x, k) => {
        // With max|xᵢ| ≥ 2⁻²⁰ the largest scaled entry stays ≥ 2⁻⁹⁷⁰ (10·2¹⁰⁰⁰ < 2¹⁰²⁴ above):
        // entries that turn subnormal lose < 2⁻¹⁰⁷⁵ each, < 2⁻¹⁰⁰ relative to the norm.
        fc.pre(Math.abs(x[Blas1.iamax(x)]!) >= 2 ** -20)
        const scaled = Float64Array.from(x, (v) => v * 2 ** k)
        const want = Blas1.nrm2(x) * 2 ** k
        assertClose(Blas1.nrm2(scaled), want, { rtol: nrm2Rtol(x.length), atol: 0 })
        // And against the naive formula where it cannot overflow or underflow.
        assertClose(Blas1.nrm2(x), Math.sqrt(naiveSum(x.length, (i) => x[i]! * x[i]!)), {
          rtol: nrm2Rtol(x.length),
          atol: 0
        })
      }),
      300
    )
  })
})

// ------------------------------------------------------------------- level 2 --

/** A gemv problem: A (rows × cols up to maxDim), x, y fitting op(A), α, β. */
const gemvProblem = (maxDim: number, trans: boolean) =>
  fc
    .tuple(matrix(maxDim), finiteDouble(3), fc.constantFrom(0, 1, -0.5, 2))
    .chain(([A, alpha, beta]) =>
      fc.tuple(
        fc.constant(A),
        vectorOfLength(trans ? A.rows : A.cols),
        vectorOfLength(trans ? A.cols : A.rows),
        fc.constant(alpha),
        fc.constant(beta)
      )
    )

const naiveGemv = (
  trans: boolean,
  alpha: number,
  A: M,
  x: Float64Array,
  beta: number,
  y: Float64Array
): Float64Array => {
  const m = trans ? A.cols : A.rows
  const n = trans ? A.rows : A.cols
  const out = Float64Array.from(y)
  for (let i = 0; i < m; i++) {
    let s = 0
    for (let j = 0; j < n; j++) s += at(A, trans, i, j) * x[j]!
    out[i] = alpha * s + (beta === 0 ? 0 : beta * y[i]!)
  }
  return out
}

const gemvMagnitude = (
  trans: boolean,
  alpha: number,
  A: M,
  x: Float64Array,
  beta: number,
  y: Float64Array
) => {
  const m = trans ? A.cols : A.rows
  const n = trans ? A.rows : A.cols
  let worst = 0
  for (let i = 0; i < m; i++) {
    let s = 0
    for (let j = 0; j < n; j++) s += Math.abs(at(A, trans, i, j) * x[j]!)
    worst = Math.max(worst, Math.abs(alpha) * s + (beta === 0 ? 0 : Math.abs(beta * y[i]!)))
  }
  return worst
}

describe("Blas2 properties", () => {
  it("gemv row i is α·dot(row i, x) + β·yᵢ bit for bit (documented)", () => {
    check(
      fc.property(gemvProblem(40, false), ([A, x, y, alpha, beta]) => {
        const out = Float64Array.from(y)
        Blas2.gemv(alpha, A, x, beta, out)
        const want = Float64Array.from(y, (yi, i) => {
          const d = alpha * Blas1.dot(Matrix.row(A, i), x)
          return beta === 0 ? d : d + beta * yi
        })
        assertBitIdentical(out, want, "gemv")
      }),
      200
    )
  })

  it("gemvT is β·y followed by y ← y + (α·xᵢ)·Aᵢ in order of i, bit for bit (documented)", () => {
    check(
      fc.property(gemvProblem(40, true), ([A, x, y, alpha, beta]) => {
        const out = Float64Array.from(y)
        Blas2.gemvT(alpha, A, x, beta, out)
        const want = Float64Array.from(y, (v) => (beta === 0 ? 0 : beta === 1 ? v : beta * v))
        for (let i = 0; i < A.rows; i++) {
          const t = alpha * x[i]!
          for (let j = 0; j < A.cols; j++) want[j] = want[j]! + t * A.data[i * A.cols + j]!
        }
        assertBitIdentical(out, want, "gemvT")
      }),
      200
    )
  })

  it("gemv and gemvT agree with the naive double loop", () => {
    for (const trans of [false, true]) {
      check(
        fc.property(gemvProblem(40, trans), ([A, x, y, alpha, beta]) => {
          const out = Float64Array.from(y)
          if (trans) Blas2.gemvT(alpha, A, x, beta, out)
          else Blas2.gemv(alpha, A, x, beta, out)
          const k = trans ? A.rows : A.cols
          assertClose(out, naiveGemv(trans, alpha, A, x, beta, y), {
            rtol: SUMMATION_RTOL,
            atol:
              summationAtol(k + 3, gemvMagnitude(trans, alpha, A, x, beta, y)) + underflowAtol(2 * (k + 3))
          })
        }),
        150
      )
    }
  })

  it("gemv with β = 0 overwrites NaN in y", () => {
    check(
      fc.property(gemvProblem(12, false), gemvProblem(12, true), ([A, x, , alpha], [B, u, , beta]) => {
        const y = new Float64Array(A.rows).fill(Number.NaN)
        Blas2.gemv(alpha, A, x, 0, y)
        expect(y.every((v) => !Number.isNaN(v))).toBe(true)
        const w = new Float64Array(B.cols).fill(Number.NaN)
        Blas2.gemvT(beta, B, u, 0, w)
        expect(w.every((v) => !Number.isNaN(v))).toBe(true)
      })
    )
  })

  it("ger is A + (α·xᵢ)·yⱼ exactly", () => {
    check(
      fc.property(
        matrix(30).chain((A) =>
          fc.tuple(fc.constant(A), vectorOfLength(A.rows), vectorOfLength(A.cols), finiteDouble(3))
        ),
        ([A, x, y, alpha]) => {
          const out = copyOf(A)
          Blas2.ger(alpha, x, y, out)
          const want = copyOf(A)
          for (let i = 0; i < A.rows; i++) {
            for (let j = 0; j < A.cols; j++)
              want.data[i * A.cols + j] = A.data[i * A.cols + j]! + alpha * x[i]! * y[j]!
          }
          assertClose(out, want, EXACT)
        }
      ),
      150
    )
  })

  it("symv reads only the lower triangle and agrees with the naive product of the symmetric matrix", () => {
    check(
      fc.property(
        fc
          .integer({ min: 0, max: 30 })
          .chain((n) =>
            fc.tuple(
              matrixOfShape(n, n),
              vectorOfLength(n),
              vectorOfLength(n),
              finiteDouble(3),
              fc.constantFrom(0, 1, -0.5)
            )
          ),
        ([A, x, y, alpha, beta]) => {
          const n = A.rows
          const S = copyOf(A)
          const P = copyOf(A)
          for (let i = 0; i < n; i++) {
            for (let j = i + 1; j < n; j++) {
              S.data[i * n + j] = A.data[j * n + i]!
              P.data[i * n + j] = Number.NaN
            }
          }
          const out = Float64Array.from(y)
          Blas2.symv(alpha, P, x, beta, out)
          const full = Float64Array.from(y)
          Blas2.symv(alpha, S, x, beta, full)
          assertBitIdentical(out, full, "symv with NaN above the diagonal")
          assertClose(out, naiveGemv(false, alpha, S, x, beta, y), {
            rtol: SUMMATION_RTOL,
            atol:
              summationAtol(n + 3, gemvMagnitude(false, alpha, S, x, beta, y)) + underflowAtol(2 * (n + 3))
          })
        }
      ),
      150
    )
  })

  it("symv on a symmetric positive definite matrix equals gemv within rounding", () => {
    check(
      fc.property(
        spdMatrix(20).chain((A) => fc.tuple(fc.constant(A), vectorOfLength(A.rows))),
        ([A, x]) => {
          const n = A.rows
          const y1 = new Float64Array(n)
          const y2 = new Float64Array(n)
          Blas2.symv(1, A, x, 0, y1)
          Blas2.gemv(1, A, x, 0, y2)
          assertClose(y1, y2, {
            rtol: SUMMATION_RTOL,
            atol: summationAtol(n + 3, gemvMagnitude(false, 1, A, x, 0, y1)) + underflowAtol(2 * (n + 3))
          })
        }
      ),
      100
    )
  })

  it("trsv agrees with naive substitution, gives back b when multiplied, and never reads the unused entries", () => {
    check(
      fc.property(
        fc
          .integer({ min: 0, max: 24 })
          .chain((n) =>
            fc.tuple(triangularOperand(n), vectorOfLength(n), fc.constantFrom(...TRIANGULAR_OPTIONS))
          ),
        ([A, b, options]) => {
          const x = Float64Array.from(b)
          Blas2.trsv(A, x, options)
          const T = effectiveTriangle(A, options)
          const lower = isLowerEffective(options)
          const naive = naiveTriangularSolve(T, lower, b)
          assertClose(x, naive, { rtol: 0, atol: substitutionAtol(T, lower, x, naive), label: "naive" })
          // Residual op(T)·x̂ − b, formed with gemv (within the γₙ₊₁ term of residualAtol).
          const tx = new Float64Array(T.rows)
          Blas2.gemv(1, T, x, 0, tx)
          assertClose(tx, b, { rtol: 0, atol: residualAtol(T, x, b), label: "residual" })
          // NaN in the other triangle (and on a unit diagonal) must not reach the result.
          const poisoned = Float64Array.from(b)
          Blas2.trsv(poisonUnread(A, options), poisoned, options)
          assertBitIdentical(poisoned, x, "poisoned")
        }
      ),
      300
    )
  })
})

// ------------------------------------------------------------------- level 3 --

interface GemmProblem {
  readonly tA: boolean
  readonly tB: boolean
  readonly alpha: number
  readonly beta: number
  readonly A: M
  readonly B: M
  readonly C: M
}

/** Small gemm problems from the shared arbitraries: every dimension in 0…maxDim. */
const smallGemm = (maxDim: number): fc.Arbitrary<GemmProblem> =>
  fc
    .record({
      m: fc.integer({ min: 0, max: maxDim }),
      k: fc.integer({ min: 0, max: maxDim }),
      n: fc.integer({ min: 0, max: maxDim }),
      tA: fc.boolean(),
      tB: fc.boolean(),
      alpha: fc.oneof(finiteDouble(3), fc.constantFrom(0, 1)),
      beta: fc.oneof(finiteDouble(3), fc.constantFrom(0, 1))
    })
    .chain(({ m, k, n, tA, tB, alpha, beta }) =>
      fc
        .tuple(
          tA ? matrixOfShape(k, m) : matrixOfShape(m, k),
          tB ? matrixOfShape(n, k) : matrixOfShape(k, n),
          matrixOfShape(m, n)
        )
        .map(([A, B, C]) => ({ tA, tB, alpha, beta, A, B, C }))
    )

/** Large gemm problems (k up to 300 > GEMM_KC, m up to 300 > 128-row blocks), filled from a seed. */
const largeGemm: fc.Arbitrary<GemmProblem> = fc
  .record({
    m: fc.integer({ min: 100, max: 300 }),
    k: fc.integer({ min: 240, max: 300 }),
    n: fc.integer({ min: 1, max: 23 }),
    tA: fc.boolean(),
    tB: fc.boolean(),
    alpha: finiteDouble(3),
    beta: fc.constantFrom(0, 1, -0.5),
    seed: fc.integer()
  })
  .map(({ m, k, n, tA, tB, alpha, beta, seed }) => ({
    tA,
    tB,
    alpha,
    beta,
    A: tA ? Matrix.fromData(k, m, seededData(k * m, seed)) : Matrix.fromData(m, k, seededData(m * k, seed)),
    B: tB
      ? Matrix.fromData(n, k, seededData(n * k, seed + 1))
      : Matrix.fromData(k, n, seededData(k * n, seed + 1)),
    C: Matrix.fromData(m, n, seededData(m * n, seed + 2))
  }))

/** Crosses both block boundaries with partial edge tiles, in all four transpose combinations. */
const largeGemmExamples: Array<[GemmProblem]> = [false, true].flatMap((tA) =>
  [false, true].map((tB): [GemmProblem] => {
    const [m, k, n] = [130, 300, 7]
    return [
      {
        tA,
        tB,
        alpha: 1.5,
        beta: -0.5,
        A: tA ? Matrix.fromData(k, m, seededData(k * m, 1)) : Matrix.fromData(m, k, seededData(m * k, 1)),
        B: tB ? Matrix.fromData(n, k, seededData(n * k, 2)) : Matrix.fromData(k, n, seededData(k * n, 2)),
        C: Matrix.fromData(m, n, seededData(m * n, 3))
      }
    ]
  })
)

const runGemm = (p: GemmProblem, kernel = Blas3.gemm): M => {
  const C = copyOf(p.C)
  kernel(p.tA, p.tB, p.alpha, p.A, p.B, p.beta, C)
  return C
}

const gemmAgainstReferences = (p: GemmProblem): void => {
  const C = runGemm(p)
  assertBitIdentical(C.data, runGemm(p, gemmDocumentedOrder).data, "documented order")
  const k = p.tA ? p.A.rows : p.A.cols
  const magnitude = gemmMagnitude(p.tA, p.tB, p.alpha, p.A, p.B, p.beta, p.C)
  assertClose(C, runGemm(p, naiveGemm), {
    rtol: SUMMATION_RTOL,
    atol: summationAtol(gemmOps(k), magnitude) + underflowAtol(2 * gemmOps(k)),
    label: "naive"
  })
  // Transposes are absorbed by packing: the same as multiplying explicit transposes.
  const plain = copyOf(p.C)
  Blas3.gemm(false, false, p.alpha, explicit(p.A, p.tA), explicit(p.B, p.tB), p.beta, plain)
  assertBitIdentical(C.data, plain.data, "explicit transposes")
}

describe("Blas3 properties", () => {
  it("gemm (small shapes, all transposes, α, β) follows its documented order and agrees with the triple loop", () => {
    check(fc.property(smallGemm(13), gemmAgainstReferences), 300)
  })

  it("gemm across the packing blocks (m > 128, k > 256, up to 300) follows its documented order", () => {
    check(fc.property(largeGemm, gemmAgainstReferences), 4, largeGemmExamples)
  })

  it("gemm with β = 0 overwrites NaN in C, and the identity leaves B unchanged", () => {
    check(
      fc.property(smallGemm(9), (p) => {
        const m = p.tA ? p.A.cols : p.A.rows
        const n = p.tB ? p.B.rows : p.B.cols
        const C = Matrix.full(m, n, Number.NaN)
        Blas3.gemm(p.tA, p.tB, p.alpha, p.A, p.B, 0, C)
        expect(C.data.every((v) => !Number.isNaN(v))).toBe(true)
        const B = explicit(p.B, p.tB)
        const IB = Matrix.zeros(B.rows, B.cols)
        Blas3.gemm(false, false, 1, Matrix.identity(B.rows), B, 0, IB)
        assertClose(IB, B, EXACT)
      }),
      100
    )
  })

  it("trsm equals column-wise (left) or row-wise (right) triangular solves and gives back α·B", () => {
    const problem = fc
      .record({
        m: fc.integer({ min: 0, max: 16 }),
        n: fc.integer({ min: 0, max: 16 }),
        side: fc.constantFrom<"left" | "right">("left", "right"),
        options: fc.constantFrom(...TRIANGULAR_OPTIONS),
        alpha: fc.oneof(fc.constant(1), finiteDouble(3))
      })
      .chain(({ m, n, side, options, alpha }) =>
        fc
          .tuple(triangularOperand(side === "left" ? m : n), matrixOfShape(m, n))
          .map(([A, B]) => ({ A, B, side, options, alpha }))
      )
    check(
      fc.property(problem, ({ A, B, side, options, alpha }) => {
        const trsmOptions: Blas3.TrsmOptions = { ...options, side, alpha }
        const X = copyOf(B)
        Blas3.trsm(A, X, trsmOptions)
        const { rows: m, cols: n } = B
        const T = effectiveTriangle(A, options)
        const lower = isLowerEffective(options)
        const aB = Float64Array.from(B.data, (v) => alpha * v)
        if (side === "left") {
          for (let j = 0; j < n; j++) {
            const b = Float64Array.from({ length: m }, (_, i) => aB[i * n + j]!)
            const x = Float64Array.from({ length: m }, (_, i) => X.data[i * n + j]!)
            const naive = naiveTriangularSolve(T, lower, b)
            assertClose(x, naive, {
              rtol: 0,
              atol: substitutionAtol(T, lower, x, naive),
              label: `column ${j}`
            })
            const tx = new Float64Array(m)
            Blas2.gemv(1, T, x, 0, tx)
            assertClose(tx, b, { rtol: 0, atol: residualAtol(T, x, b), label: `residual column ${j}` })
          }
        } else {
          // x·op(A) = α·b  ⇔  op(A)ᵀ·xᵀ = α·bᵀ: trsv with the transpose flag flipped, the same loops.
          const flipped = { ...options, transpose: options.transpose !== true }
          const Tt = effectiveTriangle(A, flipped)
          for (let r = 0; r < m; r++) {
            const x = aB.slice(r * n, (r + 1) * n)
            const b = Float64Array.from(x)
            Blas2.trsv(A, x, flipped)
            assertClose(X.data.subarray(r * n, (r + 1) * n), x, { ...EXACT, label: `row ${r}` })
            const tx = new Float64Array(n)
            Blas2.gemv(1, Tt, x, 0, tx)
            assertClose(tx, b, { rtol: 0, atol: residualAtol(Tt, x, b), label: `residual row ${r}` })
          }
        }
        // NaN in the entries a solve must not read does not reach the result.
        const poisoned = copyOf(B)
        Blas3.trsm(poisonUnread(A, options), poisoned, trsmOptions)
        assertBitIdentical(poisoned.data, X.data, "poisoned")
      }),
      300
    )
  })
})

// ------------------------------------------------------------------ backends --

/** A copy of `x` from core's allocator (WebAssembly memory when the SIMD backend is active). */
const core = (x: ArrayLike<number>): Float64Array => Vector.fromArray(x)
const coreMatrix = (A: M): M => Matrix.fromData(A.rows, A.cols, core(A.data))

describe("Backends give the same bits", () => {
  // Kernels run SIMD code when every operand comes from core's allocator and the
  // TypeScript loops otherwise; both follow the documented orders, so they agree
  // bit for bit (trivially so when the TypeScript backend is the only one).
  it("level-1 kernels and reductions, on whole arrays and on views at any offset", () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 70 }).chain((n) => fc.tuple(viewOf(n), viewOf(n))),
        finiteDouble(3),
        ([x, y], alpha) => {
          const n = x.view.length
          const cx = core(x.buffer).subarray(x.offset, x.offset + n)
          const cy = core(y.buffer).subarray(y.offset, y.offset + n)
          for (const [px, py, label] of [
            [x.view, y.view, "views"],
            [Float64Array.from(x.view), Float64Array.from(y.view), "whole"]
          ] as const) {
            const [qx, qy] = label === "views" ? [cx, cy] : [core(px), core(py)]
            expect(Object.is(Blas1.dot(qx, qy), Blas1.dot(px, py)), `dot ${label}`).toBe(true)
            expect(Object.is(Blas1.asum(qx), Blas1.asum(px)), `asum ${label}`).toBe(true)
            expect(Object.is(Blas1.nrm2(qx), Blas1.nrm2(px)), `nrm2 ${label}`).toBe(true)
            expect(Object.is(Reductions.sum(qx), Reductions.sum(px)), `sum ${label}`).toBe(true)
            const a = Float64Array.from(py)
            const b = core(py)
            Blas1.axpy(alpha, px, a)
            Blas1.axpy(alpha, qx, b)
            assertBitIdentical(b, a, `axpy ${label}`)
            Blas1.scal(alpha, a)
            Blas1.scal(alpha, b)
            assertBitIdentical(b, a, `scal ${label}`)
          }
        }
      ),
      200
    )
  })

  it("gemv and gemvT", () => {
    for (const trans of [false, true]) {
      check(
        fc.property(gemvProblem(40, trans), ([A, x, y, alpha, beta]) => {
          const plain = Float64Array.from(y)
          const simd = core(y)
          const kernel = trans ? Blas2.gemvT : Blas2.gemv
          kernel(alpha, A, x, beta, plain)
          kernel(alpha, coreMatrix(A), core(x), beta, simd)
          assertBitIdentical(simd, plain, trans ? "gemvT" : "gemv")
        }),
        150
      )
    }
  })

  it("gemm, small and across the packing blocks", () => {
    const agree = (p: GemmProblem): void => {
      const plain = runGemm(p)
      const simd = coreMatrix(p.C)
      Blas3.gemm(p.tA, p.tB, p.alpha, coreMatrix(p.A), coreMatrix(p.B), p.beta, simd)
      assertBitIdentical(simd.data, plain.data, "gemm")
    }
    check(fc.property(smallGemm(13), agree), 200)
    check(fc.property(largeGemm, agree), 3, largeGemmExamples)
  })
})

// ---------------------------------------------------------------- reductions --

/** Entries in [−10, 10] with occasional −∞, +∞ and NaN. */
const withSpecialValues = fc.oneof(
  { weight: 12, arbitrary: finiteDouble() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN)
  }
)

const specialMatrix = (maxDim: number): fc.Arbitrary<M> =>
  fc
    .tuple(fc.integer({ min: 0, max: maxDim }), fc.integer({ min: 0, max: maxDim }))
    .chain(([r, c]) =>
      fc
        .array(withSpecialValues, { minLength: r * c, maxLength: r * c })
        .map((xs) => ({ rows: r, cols: c, data: Float64Array.from(xs) }))
    )

describe("Reductions properties", () => {
  it("logSumExpRows and softmaxRows equal logSumExp and softmax on each row, bit for bit", () => {
    check(
      fc.property(specialMatrix(12), (A) => {
        const lse = new Float64Array(A.rows)
        Reductions.logSumExpRows(A, lse)
        const sm = Matrix.zeros(A.rows, A.cols)
        Reductions.softmaxRows(A, sm)
        for (let i = 0; i < A.rows; i++) {
          const r = Matrix.row(A, i)
          expect(Object.is(lse[i], Reductions.logSumExp(r))).toBe(true)
          const s = new Float64Array(A.cols)
          Reductions.softmax(r, s)
          assertBitIdentical(Matrix.row(sm, i), s, `softmax row ${i}`)
        }
      }),
      200
    )
  })

  it("logSumExpCols(A) equals logSumExpRows(Aᵀ) bit for bit, special values included", () => {
    check(
      fc.property(specialMatrix(12), (A) => {
        const cols = new Float64Array(A.cols)
        Reductions.logSumExpCols(A, cols)
        const rows = new Float64Array(A.cols)
        Reductions.logSumExpRows(Matrix.transpose(A), rows)
        assertBitIdentical(cols, rows, "logSumExpCols")
      }),
      200
    )
  })

  it("logSumExp agrees with the naive log Σ exp on |xᵢ| ≤ 10 and shifts with its input", () => {
    check(
      fc.property(vector({ maxLength: 80 }), fc.integer({ min: -700, max: 700 }), (x, shift) => {
        const n = x.length
        const lse = Reductions.logSumExp(x)
        const naive = Math.log(naiveSum(n, (i) => Math.exp(x[i]!)))
        assertClose(lse, naive, { rtol: NAIVE_LSE_RTOL, atol: lseAtol(n, spread(x)) })
        // logSumExp(x + c) = logSumExp(x) + c. Rounding x + c moves each entry by
        // ≤ u·(|c| + 10), and logSumExp is 1-Lipschitz in the max norm; each side's
        // own error is within lseAtol, and their final roundings within 2u relative.
        const shifted = Float64Array.from(x, (v) => v + shift)
        assertClose(Reductions.logSumExp(shifted), lse + shift, {
          rtol: 2 * U,
          atol:
            lseAtol(n, spread(x)) + lseAtol(n, spread(shifted)) + U * (Math.abs(shift) + 10 + Math.abs(lse))
        })
      }),
      300
    )
  })

  it("softmax sums to 1, recovers p from log p, and may write in place", () => {
    check(
      fc.property(probabilityVector(64), (p) => {
        const n = p.length
        const logp = Float64Array.from(p, Math.log)
        const out = new Float64Array(n)
        Reductions.softmax(logp, out)
        const lse = Reductions.logSumExp(logp)
        // p sums to 1 only up to its own normalisation rounding (γₙ); each log pᵢ is off by
        // ≤ 1 ulp ≤ 2u·|log pᵢ| ≤ 2u·(R + log n), which moves softmax by twice that
        // relatively (its own entry and the normalisation); the softmax bound covers the rest.
        const rtol = softmaxRtol(n, spread(logp), lse) + gamma(n) + 4 * U * (spread(logp) + Math.log(n) + 1)
        assertClose(out, p, { rtol, atol: 0 })
        assertClose(Reductions.sum(out), 1, { rtol: 0, atol: rtol + gamma(n) })
        const inPlace = Float64Array.from(logp)
        Reductions.softmax(inPlace, inPlace)
        assertBitIdentical(inPlace, out, "in place")
      }),
      300
    )
  })

  it("softmax of any finite vector sums to 1", () => {
    check(
      fc.property(vector({ minLength: 1, maxLength: 80, magnitude: 50 }), (x) => {
        const n = x.length
        const out = new Float64Array(n)
        Reductions.softmax(x, out)
        const rtol = softmaxRtol(n, spread(x), Reductions.logSumExp(x))
        assertClose(Reductions.sum(out), 1, { rtol: 0, atol: rtol + gamma(n) })
      }),
      300
    )
  })

  it("rowSums is sum of each row bit for bit; colSums is the in-order column sum and agrees with rowSums(Aᵀ)", () => {
    check(
      fc.property(matrix(20), (A) => {
        const rs = new Float64Array(A.rows)
        Reductions.rowSums(A, rs)
        for (let i = 0; i < A.rows; i++) expect(Object.is(rs[i], Reductions.sum(Matrix.row(A, i)))).toBe(true)
        const cs = new Float64Array(A.cols)
        Reductions.colSums(A, cs)
        const want = new Float64Array(A.cols)
        for (let i = 0; i < A.rows; i++)
          for (let j = 0; j < A.cols; j++) want[j] = want[j]! + A.data[i * A.cols + j]!
        assertBitIdentical(cs, want, "colSums order")
        const viaT = new Float64Array(A.cols)
        Reductions.rowSums(Matrix.transpose(A), viaT)
        let magnitude = 0
        for (let j = 0; j < A.cols; j++) {
          let s = 0
          for (let i = 0; i < A.rows; i++) s += Math.abs(A.data[i * A.cols + j]!)
          magnitude = Math.max(magnitude, s)
        }
        assertClose(cs, viaT, { rtol: SUMMATION_RTOL, atol: summationAtol(A.rows, magnitude) })
      }),
      200
    )
  })

  it("max and min match Math.max / Math.min, NaN poisoning and empty vectors included", () => {
    check(
      fc.property(fc.array(withSpecialValues, { maxLength: 30 }), (xs) => {
        const x = Float64Array.from(xs)
        expect(Reductions.max(x)).toBe(Math.max(Number.NEGATIVE_INFINITY, ...xs))
        expect(Reductions.min(x)).toBe(Math.min(Number.POSITIVE_INFINITY, ...xs))
      }),
      300
    )
  })
})

// -------------------------------------------------------------- elementwise --

describe("Elementwise properties", () => {
  it("add, sub, mul, div, addScalar and clamp are the plain operations, also in place", () => {
    const ops = [
      [Elementwise.add, (a: number, b: number) => a + b],
      [Elementwise.sub, (a: number, b: number) => a - b],
      [Elementwise.mul, (a: number, b: number) => a * b],
      [Elementwise.div, (a: number, b: number) => a / b]
    ] as const
    check(
      fc.property(vectorPair(40), finiteDouble(), finiteDouble(), ([x, y], c, d) => {
        for (const [kernel, op] of ops) {
          const out = new Float64Array(x.length)
          kernel(x, y, out)
          const want = Float64Array.from(x, (v, i) => op(v, y[i]!))
          assertBitIdentical(out, want, kernel.name)
          const inPlace = Float64Array.from(x)
          kernel(inPlace, y, inPlace)
          assertBitIdentical(inPlace, want, `${kernel.name} in place`)
        }
        const shifted = new Float64Array(x.length)
        Elementwise.addScalar(x, c, shifted)
        assertBitIdentical(
          shifted,
          Float64Array.from(x, (v) => v + c),
          "addScalar"
        )
        const [lower, upper] = c <= d ? [c, d] : [d, c]
        const clamped = Float64Array.from(x)
        Elementwise.clamp(clamped, lower, upper, clamped)
        assertBitIdentical(
          clamped,
          Float64Array.from(x, (v) => Math.min(Math.max(v, lower), upper)),
          "clamp"
        )
      }),
      200
    )
  })

  it("scaleRows is diag(d)·A and scaleCols is A·diag(d)", () => {
    check(
      fc.property(
        matrix(15).chain((A) => fc.tuple(fc.constant(A), vectorOfLength(A.rows), vectorOfLength(A.cols))),
        ([A, dr, dc]) => {
          const R = copyOf(A)
          Elementwise.scaleRows(R, dr)
          const viaGemm = Matrix.zeros(A.rows, A.cols)
          Blas3.gemm(false, false, 1, Matrix.diag(dr), A, 0, viaGemm)
          // One nonzero product per entry: the sum of it with zeros is exact.
          assertClose(R, viaGemm, EXACT)
          const Cs = copyOf(A)
          Elementwise.scaleCols(Cs, dc)
          const viaGemmCols = Matrix.zeros(A.rows, A.cols)
          Blas3.gemm(false, false, 1, A, Matrix.diag(dc), 0, viaGemmCols)
          assertClose(Cs, viaGemmCols, EXACT)
        }
      ),
      150
    )
  })
})

// ------------------------------------------------------ matrix and vector ----

describe("Matrix and Vector constructors and views", () => {
  it("transpose is the naive transpose (across its 32 × 32 blocks) and an involution", () => {
    check(
      fc.property(matrix(70), (A) => {
        const T = Matrix.transpose(A)
        expect([T.rows, T.cols]).toEqual([A.cols, A.rows])
        const want = new Float64Array(A.rows * A.cols)
        for (let i = 0; i < A.rows; i++)
          for (let j = 0; j < A.cols; j++) want[j * A.rows + i] = A.data[i * A.cols + j]!
        assertBitIdentical(T.data, want, "transpose")
        assertBitIdentical(Matrix.transpose(T).data, A.data, "transpose twice")
      }),
      50
    )
  })

  it("fromRows and toRows round-trip; fromData wraps without copying; clone copies", () => {
    check(
      fc.property(matrix(12), (A) => {
        const rows = Matrix.toRows(A)
        const B = Matrix.fromRows(rows, A.cols)
        expect([B.rows, B.cols]).toEqual([A.rows, A.cols])
        assertBitIdentical(B.data, A.data, "fromRows")
        const W = Matrix.fromData(A.rows, A.cols, A.data)
        expect(W.data).toBe(A.data)
        const C = Matrix.clone(A)
        expect(C.data).not.toBe(A.data)
        assertBitIdentical(C.data, A.data, "clone")
      }),
      100
    )
  })

  it("row and rowRange are views sharing storage; getColumn copies a column", () => {
    check(
      fc.property(
        matrix(10).filter((A) => A.rows > 0),
        fc.nat(),
        fc.nat(),
        (A0, i0, j0) => {
          const A = copyOf(A0)
          const i = i0 % A.rows
          const r = Matrix.row(A, i)
          expect(r.length).toBe(A.cols)
          if (A.cols > 0) {
            r[0] = 123.5
            expect(A.data[i * A.cols]).toBe(123.5)
            const j = j0 % A.cols
            const col = Matrix.getColumn(A, j, new Float64Array(A.rows))
            for (let k = 0; k < A.rows; k++) expect(col[k]).toBe(A.data[k * A.cols + j])
          }
          const R = Matrix.rowRange(A, i, A.rows)
          expect([R.rows, R.cols]).toEqual([A.rows - i, A.cols])
          if (R.data.length > 0) {
            R.data[0] = -7.25
            expect(A.data[i * A.cols]).toBe(-7.25)
          }
        }
      ),
      100
    )
  })

  it("zeros, full, identity and diag build what they say, for sizes from 0", () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        finiteDouble(),
        (m, n, v) => {
          const Z = Matrix.zeros(m, n)
          expect([Z.rows, Z.cols, Z.data.length]).toEqual([m, n, m * n])
          expect(Z.data.every((x) => x === 0)).toBe(true)
          expect(Matrix.full(m, n, v).data.every((x) => x === v)).toBe(true)
          const I = Matrix.identity(n)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) expect(I.data[i * n + j]).toBe(i === j ? 1 : 0)
          const d = Float64Array.from({ length: n }, (_, k) => v + k)
          const D = Matrix.diag(d)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) expect(D.data[i * n + j]).toBe(i === j ? d[i] : 0)
          expect(Array.from(Vector.zeros(n))).toEqual(new Array(n).fill(0))
          expect(Array.from(Vector.full(n, v))).toEqual(new Array(n).fill(v))
          expect(Array.from(Vector.ones(n))).toEqual(new Array(n).fill(1))
          const fa = Vector.fromArray([v, 1, 2])
          expect(Array.from(fa)).toEqual([v, 1, 2])
          const cl = Vector.clone(fa)
          expect(cl).not.toBe(fa)
          expect(Array.from(cl)).toEqual(Array.from(fa))
        }
      ),
      50
    )
  })

  it("linspace hits both ends exactly and is evenly spaced; findNonFinite finds the first bad entry", () => {
    check(
      fc.property(finiteDouble(), finiteDouble(), fc.integer({ min: 0, max: 30 }), (a, b, n) => {
        const x = Vector.linspace(a, b, n)
        expect(x.length).toBe(n)
        if (n >= 1) expect(x[0]).toBe(a)
        if (n >= 2) {
          expect(x[n - 1]).toBe(b)
          const step = (b - a) / (n - 1)
          for (let i = 1; i < n - 1; i++) expect(x[i]).toBe(a + i * step)
        }
      }),
      100
    )
    check(
      fc.property(fc.array(withSpecialValues, { maxLength: 30 }), (xs) => {
        expect(Vector.findNonFinite(xs)).toBe(xs.findIndex((v) => !Number.isFinite(v)))
      }),
      200
    )
  })
})
