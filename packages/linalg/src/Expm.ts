/**
 * The matrix exponential e^A = Σₖ Aᵏ/k! of a square matrix, its trace, its
 * Fréchet derivative, and differentiable versions for `Autodiff`.
 *
 * Method: scaling and squaring with diagonal Padé approximants (Higham 2005,
 * "The scaling and squaring method for the matrix exponential revisited",
 * SIAM J. Matrix Anal. Appl. 26(4)), with the choice of degree and scaling of
 * Al-Mohy & Higham 2009 ("A new scaling and squaring algorithm for the matrix
 * exponential", SIAM J. Matrix Anal. Appl. 31(3), Algorithm 5.1), the method of
 * SciPy's `scipy.linalg.expm`. The Padé approximant rₘ(A) = qₘ(A)⁻¹pₘ(A) of
 * degree m ∈ {3, 5, 7, 9, 13} has relative backward error ≤ u = 2⁻⁵³ when
 * α_p(A) = max(‖Aᵖ‖₁^{1/p}, ‖Aᵖ⁺¹‖₁^{1/(p+1)}) ≤ θₘ (θₘ from Higham 2005, Table
 * 2.3). Using these norms of powers instead of ‖A‖₁ avoids the overscaling
 * that costs accuracy for non-normal A; the extra ℓ(A, m) squarings guard the
 * case where the bound is not sharp (|c₂ₘ₊₁|·‖|A|²ᵐ⁺¹‖₁/‖A‖₁ > u). Otherwise A
 * is scaled by 2⁻ˢ, r₁₃ is evaluated and squared s times. pₘ(A) = V + U and
 * qₘ(A) = V − U, with U the odd and V the even part, so one LU solve
 * (V − U)·X = V + U gives rₘ(A).
 *
 * @since 0.1.0
 */
import { Autodiff, Blas1, Blas2, Blas3, Errors, Matrix, Memory, Tensor as T, Vector } from "@descent/core"
import { factorInto, solveInPlace } from "./internal/lu.ts"
import { addToDiagonal, norm1, trace } from "./internal/matrix.ts"

type Tensor = T.Tensor

/** θₘ of Higham (2005), Table 2.3: the largest α with backward error ≤ u for rₘ. */
const THETA_3 = 1.495585217958292e-2
const THETA_5 = 2.53939833006323e-1
const THETA_7 = 9.504178996162932e-1
const THETA_9 = 2.097847961257068
/** θ₁₃ of Higham (2005); bounds the scaling: ‖2⁻ˢA‖₁ ≤ θ₁₃ is always enough. */
const THETA_13_2005 = 5.371920351148152
/** θ₁₃ of Al-Mohy & Higham (2009)'s Algorithm 5.1 (as in SciPy and their MATLAB code). */
const THETA_13 = 4.25
/** 1/|c₂ₘ₊₁| = C(2m, m)·(2m+1)!, the leading coefficient of the backward-error series (Higham 2005, eq. (2.6)). */
const ELL_COEFFICIENT: Readonly<Record<number, number>> = {
  3: 100800,
  5: 10059033600,
  7: 4487938430976000,
  // 5914384781877411840000 and 113250775606021113483283660800000000, rounded to doubles.
  9: 5.914384781877412e21,
  13: 1.1325077560602111e35
}

/** Coefficients b₀ … bₘ of the degree-m Padé numerator pₘ(x) = Σ bⱼ xʲ. */
const PADE_3 = [120, 60, 12, 1]
const PADE_5 = [30240, 15120, 3360, 420, 30, 1]
const PADE_7 = [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1]
const PADE_9 = [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1]
const PADE_13 = [
  64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600,
  670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1
]

/** out ← Σ cₜ·Mₜ + c₀·I in one pass over the entries (1 ≤ mats.length ≤ 4). */
const combine = (
  out: Matrix.Matrix,
  identity: number,
  coeffs: ReadonlyArray<number>,
  mats: ReadonlyArray<Matrix.Matrix>
): void => {
  const o = out.data
  const len = o.length
  const m0 = mats[0]!.data
  const c0 = coeffs[0]!
  if (mats.length === 3) {
    const m1 = mats[1]!.data
    const m2 = mats[2]!.data
    const c1 = coeffs[1]!
    const c2 = coeffs[2]!
    for (let i = 0; i < len; i++) o[i] = c0 * m0[i]! + c1 * m1[i]! + c2 * m2[i]!
  } else {
    for (let i = 0; i < len; i++) o[i] = c0 * m0[i]!
    for (let t = 1; t < mats.length; t++) {
      const c = coeffs[t]!
      const m = mats[t]!.data
      for (let i = 0; i < len; i++) o[i] = o[i]! + c * m[i]!
    }
  }
  addToDiagonal(out, identity)
}

/** n × n views into one workspace allocation (one allocator call per expm). */
interface Workspace {
  readonly take: () => Matrix.Matrix
}
const workspace = (n: number, count: number): Workspace => {
  const block = Matrix.zeros(1, count * n * n).data
  let next = 0
  return {
    take: () => {
      const view = block.subarray(next * n * n, (next + 1) * n * n)
      next++
      view.fill(0)
      return Matrix.fromData(n, n, view)
    }
  }
}

/** U, V of the degree-m Padé approximant (m ∈ {3, 5, 7, 9}) from the even powers A², …, A^{m−1}. */
const padeLow = (
  A: Matrix.Matrix,
  powers: ReadonlyArray<Matrix.Matrix>,
  b: ReadonlyArray<number>,
  ws: Workspace
): [Matrix.Matrix, Matrix.Matrix] => {
  const oddCoeffs = powers.map((_, i) => b[2 * i + 3]!)
  const evenCoeffs = powers.map((_, i) => b[2 * i + 2]!)
  const W = ws.take()
  combine(W, b[1]!, oddCoeffs, powers)
  const U = ws.take()
  Blas3.gemm(false, false, 1, A, W, 0, U)
  const V = W
  combine(V, b[0]!, evenCoeffs, powers)
  return [U, V]
}

/** U, V of the degree-13 Padé approximant (Higham 2005, eq. (2.11)): six products. */
const pade13 = (
  A: Matrix.Matrix,
  A2: Matrix.Matrix,
  A4: Matrix.Matrix,
  A6: Matrix.Matrix,
  ws: Workspace
): [Matrix.Matrix, Matrix.Matrix] => {
  const b = PADE_13
  const W1 = ws.take()
  combine(W1, 0, [b[13]!, b[11]!, b[9]!], [A6, A4, A2])
  const W = ws.take()
  combine(W, b[1]!, [b[7]!, b[5]!, b[3]!], [A6, A4, A2])
  Blas3.gemm(false, false, 1, A6, W1, 1, W)
  const U = ws.take()
  Blas3.gemm(false, false, 1, A, W, 0, U)
  const Z1 = W1
  combine(Z1, 0, [b[12]!, b[10]!, b[8]!], [A6, A4, A2])
  const V = W
  combine(V, b[0]!, [b[6]!, b[4]!, b[2]!], [A6, A4, A2])
  Blas3.gemm(false, false, 1, A6, Z1, 1, V)
  return [U, V]
}

/**
 * e^A for a validated square A (no checks). The temporaries (powers, U, V, LU
 * scratch) live in one workspace returned to the allocator at once
 * (`Memory.scoped`).
 */
const expmUnchecked = (A: Matrix.Matrix): Matrix.Matrix => {
  const n = A.rows
  const out = Matrix.zeros(n, n)
  if (n === 0) return out
  Memory.scoped(
    () => expmInto(A, out),
    () => []
  )
  return out
}

/**
 * ℓ(A, m) of Al-Mohy & Higham (2009), eq. (5.1): the extra squarings needed
 * when |c₂ₘ₊₁|·‖|A|²ᵐ⁺¹‖₁/‖A‖₁ exceeds u. ‖|A|ᵖ‖₁ is computed exactly as the
 * largest entry of 1ᵀ·|A|ᵖ (p products with a vector; |A| is nonnegative).
 * `absA` holds |A| unscaled; `scale` is applied on the fly (no overflow from
 * the unscaled power). Returns +∞ when the power overflows.
 */
const ell = (absA: Matrix.Matrix, scale: number, normScaled: number, m: number): number => {
  const n = absA.rows
  let w = Vector.zeros(n)
  let t = Vector.zeros(n)
  w.fill(1)
  for (let k = 0; k < 2 * m + 1; k++) {
    Blas2.gemvT(scale, absA, w, 0, t)
    const tmp = w
    w = t
    t = tmp
  }
  let p = 0
  for (let i = 0; i < n; i++) if (!(w[i]! <= p)) p = w[i]!
  if (p === 0) return 0
  const alpha = p / (normScaled * ELL_COEFFICIENT[m]!)
  const value = Math.ceil(Math.log2(alpha / 2 ** -53) / (2 * m))
  return Number.isNaN(value) ? Number.POSITIVE_INFINITY : Math.max(0, value)
}

const expmInto = (A: Matrix.Matrix, out: Matrix.Matrix): void => {
  const n = A.rows
  // A², A⁴, A⁶, |A|, A⁸ or 2⁻ˢA, W₁, W, U (U doubles as the squaring buffer).
  const ws = workspace(n, 9)
  const A2 = ws.take()
  Blas3.gemm(false, false, 1, A, A, 0, A2)
  const A4 = ws.take()
  Blas3.gemm(false, false, 1, A2, A2, 0, A4)
  const A6 = ws.take()
  Blas3.gemm(false, false, 1, A4, A2, 0, A6)
  const n1 = norm1(A)
  const n2 = norm1(A2)
  const n4 = norm1(A4)
  const n6 = norm1(A6)
  const absA = ws.take()
  const a = A.data
  for (let i = 0; i < a.length; i++) absA.data[i] = Math.abs(a[i]!)
  const d4 = n4 ** (1 / 4)
  const d6 = n6 ** (1 / 6)
  const eta1 = Math.max(d4, d6)
  // Upper bounds on ‖A⁸‖₁ and ‖A¹⁰‖₁ from the computed powers (bounds keep the
  // backward-error guarantee; the paper's estimates only sharpen it).
  const n8 = Math.min(n4 * n4, n2 * n6)
  const d8 = n8 ** (1 / 8)
  const eta3 = Math.max(d6, d8)
  let s = 0
  let U: Matrix.Matrix
  let V: Matrix.Matrix
  if (eta1 <= THETA_3 && ell(absA, 1, n1, 3) === 0) [U, V] = padeLow(A, [A2], PADE_3, ws)
  else if (eta1 <= THETA_5 && ell(absA, 1, n1, 5) === 0) [U, V] = padeLow(A, [A2, A4], PADE_5, ws)
  else if (eta3 <= THETA_7 && ell(absA, 1, n1, 7) === 0) [U, V] = padeLow(A, [A2, A4, A6], PADE_7, ws)
  else if (eta3 <= THETA_9 && ell(absA, 1, n1, 9) === 0) {
    const A8 = ws.take()
    Blas3.gemm(false, false, 1, A4, A4, 0, A8)
    ;[U, V] = padeLow(A, [A2, A4, A6, A8], PADE_9, ws)
  } else {
    const d10 = Math.min(n4 * n6, n2 * n8) ** (1 / 10)
    const eta5 = Math.min(eta3, Math.max(d8, d10))
    // ‖2⁻ˢA‖₁ ≤ θ₁₃(2005) is always sufficient: it caps the ℓ correction (and
    // stands in when the powers of the unscaled A overflowed).
    const sMax = n1 > THETA_13_2005 ? Math.ceil(Math.log2(n1 / THETA_13_2005)) : 0
    if (!Number.isFinite(eta5)) s = sMax
    else {
      s = eta5 === 0 ? 0 : Math.max(0, Math.ceil(Math.log2(eta5 / THETA_13)))
      s = Math.min(s + ell(absA, 2 ** -s, n1 * 2 ** -s, 13), Math.max(s, sMax))
    }
    let X = A
    if (s > 0) {
      X = ws.take()
      Blas1.axpby(2 ** -s, A.data, 0, X.data)
      if (Number.isFinite(n6) && Number.isFinite(n4)) {
        Blas1.scal(2 ** (-2 * s), A2.data)
        Blas1.scal(2 ** (-4 * s), A4.data)
        Blas1.scal(2 ** (-6 * s), A6.data)
      } else {
        Blas3.gemm(false, false, 1, X, X, 0, A2)
        Blas3.gemm(false, false, 1, A2, A2, 0, A4)
        Blas3.gemm(false, false, 1, A4, A2, 0, A6)
      }
    }
    ;[U, V] = pade13(X, A2, A4, A6, ws)
  }
  // (V − U)·R = V + U.
  const u = U.data
  const v = V.data
  for (let i = 0; i < u.length; i++) {
    const ui = u[i]!
    const vi = v[i]!
    u[i] = vi - ui
    v[i] = vi + ui
  }
  // In place: U becomes the LU factors of V − U, V the solution R.
  const pivots = new Int32Array(n)
  const zeroPivot = factorInto(U.data, U, pivots)
  if (zeroPivot >= 0) throw new Errors.Singular({ operation: "expm", index: zeroPivot })
  solveInPlace(U, pivots, V)
  // s squarings, ping-ponging so that the last one lands in `out`.
  let R = V
  let S = s % 2 === 1 ? out : U
  for (let k = 0; k < s; k++) {
    Blas3.gemm(false, false, 1, R, R, 0, S)
    const t = R
    R = S
    S = k === 0 && s % 2 === 0 ? out : t
  }
  if (R !== out) out.data.set(R.data)
}

const validateSquare = (operation: string, what: string, A: Matrix.Matrix): void => {
  Matrix.assertSquare(operation, what, A)
  Vector.assertFinite(operation, what, A.data)
}

/**
 * The matrix exponential e^A of a square matrix, by scaling and squaring with
 * the Padé approximant of degree 3, 5, 7, 9 or 13 and the scaling s chosen
 * from the norms of A², A⁴, A⁶ so that the backward error is at most the unit
 * roundoff (Al-Mohy & Higham 2009, Algorithm 5.1; the algorithm of
 * `scipy.linalg.expm`). The computed X satisfies X = e^{A+ΔA} with
 * ‖ΔA‖ ≲ u·‖A‖ up to rounding in the evaluation; the forward error is then
 * about κ_exp(A)·u, where κ_exp(A) ≈ ‖A‖ for normal A (Higham 2008, §10.2).
 * Cost: 3 to 6 products, s squarings and one LU solve.
 *
 * Entries overflow to ±Infinity when e^A does (eigenvalues ≳ 709).
 *
 * @example
 * const E = Expm.expm(Matrix.fromRows([[0, 1], [-1, 0]])) // a rotation by 1 rad
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @category matrix functions
 * @since 0.1.0
 */
export const expm = (A: Matrix.Matrix): Matrix.Matrix => {
  validateSquare("expm", "A", A)
  return expmUnchecked(A)
}

/**
 * tr e^A = Σᵢ e^{λᵢ(A)}: for A = W∘W (W ∈ ℝ^{d×d}) this is NOTEARS's acyclicity
 * function h(W) = tr e^{W∘W} − d, zero exactly when W is the adjacency of a DAG
 * (Zheng, Aragam, Ravikumar & Xing 2018, "DAGs with NO TEARS").
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @category matrix functions
 * @since 0.1.0
 */
export const traceExpm = (A: Matrix.Matrix): number => {
  validateSquare("traceExpm", "A", A)
  return trace(expmUnchecked(A))
}

/**
 * Result of `expmFrechet`: e^A and the Fréchet derivative L(A, E).
 *
 * @category models
 * @since 0.1.0
 */
export interface ExpmFrechetResult {
  /** e^A. */
  readonly expm: Matrix.Matrix
  /** L(A, E) = ∫₀¹ e^{sA} E e^{(1−s)A} ds, the derivative of e^A in direction E. */
  readonly frechet: Matrix.Matrix
}

/**
 * e^A and the Fréchet derivative L(A, E) = d/dt e^{A+tE} at t = 0, from the
 * block identity exp([[A, E], [0, A]]) = [[e^A, L(A, E)], [0, e^A]] (Higham,
 * "Functions of Matrices", 2008, Theorem 3.6; Mathias 1996). E is rescaled to
 * ‖E‖₁ = ‖A‖₁ first (L is linear in E), so a large or tiny E does not change the
 * scaling parameter; the result is then exact up to the backward error of
 * `expm` on the 2n × 2n block. Costs about eight times one n × n `expm`.
 *
 * @throws DimensionMismatch when A is not square or E does not have A's shape.
 * @throws NonFiniteInput when A or E holds NaN or ±Infinity.
 * @category matrix functions
 * @since 0.1.0
 */
export const expmFrechet = (A: Matrix.Matrix, E: Matrix.Matrix): ExpmFrechetResult => {
  validateSquare("expmFrechet", "A", A)
  Matrix.assertShape("expmFrechet", "E", E, A.rows, A.cols)
  Vector.assertFinite("expmFrechet", "E", E.data)
  return frechetUnchecked(A, E)
}

const frechetUnchecked = (A: Matrix.Matrix, E: Matrix.Matrix): ExpmFrechetResult => {
  const n = A.rows
  const normA = norm1(A)
  const normE = norm1(E)
  const c = normE === 0 || normA === 0 ? 1 : normA / normE
  const m = 2 * n
  const B = Matrix.zeros(m, m)
  const a = A.data
  const e = E.data
  const b = B.data
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const aij = a[i * n + j]!
      b[i * m + j] = aij
      b[(i + n) * m + j + n] = aij
      b[i * m + j + n] = c * e[i * n + j]!
    }
  }
  const X = expmUnchecked(B)
  const expA = Matrix.zeros(n, n)
  const L = Matrix.zeros(n, n)
  const x = X.data
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      expA.data[i * n + j] = x[i * m + j]!
      L.data[i * n + j] = x[i * m + j + n]! / c
    }
  }
  return { expm: expA, frechet: L }
}

const asMatrix = (operation: string, t: Tensor): Matrix.Matrix => {
  const shape = t.shape
  if (shape.length !== 2 || shape[0] !== shape[1])
    throw new Errors.DimensionMismatch({
      operation,
      what: "A",
      expected: [shape[0] ?? 0, shape[0] ?? 0],
      actual: [...shape]
    })
  const M = Matrix.fromData(shape[0]!, shape[1]!, t.data)
  Vector.assertFinite(operation, "A", M.data)
  return M
}

/** The 1-norm of a (possibly traced) tensor's values, as a plain constant. */
const tensorNorm1 = (t: Tensor): number => norm1(Matrix.fromData(t.shape[0]!, t.shape[1]!, t.data))

/**
 * L(X, G) as the top-right block of exp([[X, cG], [0, X]]) / c, written with
 * traceable operations so that the VJP of expm is itself differentiable.
 */
const frechetTraced = (X: Tensor, G: Tensor): Tensor => {
  const n = X.shape[0]!
  const normX = tensorNorm1(X)
  const normG = tensorNorm1(G)
  const c = normG === 0 || normX === 0 ? 1 : normX / normG
  const top = T.concat([X, T.mul(G, c)], 1)
  const bottom = T.concat([T.zeros([n, n]), X], 1)
  const R = expmPrimitive(T.concat([top, bottom], 0))
  const block = T.transpose(T.slice(T.transpose(T.slice(R, 0, n)), n, 2 * n))
  return T.mul(block, 1 / c)
}

const expmPrimitive: (...args: ReadonlyArray<T.TensorLike>) => Tensor = Autodiff.customVjp(
  ([a]) => T.from(expmUnchecked(asMatrix("expmTraced", a!))),
  // The adjoint of E ↦ L(A, E) is G ↦ L(Aᵀ, G) (Higham 2008, eq. (3.20)).
  (g, _output, [a]) => [frechetTraced(T.transpose(a!), g)]
)

const traceExpmPrimitive: (...args: ReadonlyArray<T.TensorLike>) => Tensor = Autodiff.customVjp(
  ([a]) => T.scalar(trace(expmUnchecked(asMatrix("traceExpmTraced", a!)))),
  // ∇_A tr e^A = (e^A)ᵀ.
  (g, _output, [a]) => [T.mul(g, T.transpose(expmPrimitive(a!)))]
)

/**
 * e^A as a differentiable `Tensor` operation for `Autodiff`: the forward pass is
 * `expm`, the reverse rule maps the cotangent G to L(Aᵀ, G) (the adjoint of the
 * Fréchet derivative), computed with traceable operations, so `grad`, `vjp`,
 * `jvp` and `hvp` all work through it.
 *
 * @throws DimensionMismatch when A is not a square matrix.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @category autodiff
 * @since 0.1.0
 */
export const expmTraced = (A: T.TensorLike): Tensor => expmPrimitive(A)

/**
 * tr e^A as a differentiable scalar `Tensor` operation, with gradient (e^A)ᵀ:
 * NOTEARS's h(W) = `traceExpmTraced(W ∘ W)` − d and its gradient (e^{W∘W})ᵀ ∘ 2W
 * (Zheng et al. 2018).
 *
 * @throws DimensionMismatch when A is not a square matrix.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @category autodiff
 * @since 0.1.0
 */
export const traceExpmTraced = (A: T.TensorLike): Tensor => traceExpmPrimitive(A)
