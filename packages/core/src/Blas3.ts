/**
 * Level-3 BLAS kernels: matrix–matrix products and triangular solves with many
 * right-hand sides.
 *
 * `gemm` follows the Goto/BLIS structure (Goto & van de Geijn, "Anatomy of
 * high-performance matrix multiplication", 2008): op(B) is packed into column
 * panels that stay in L3/L2, op(A) into row panels that stay in L2, and a 4 × 4
 * register-tiled micro-kernel multiplies one panel pair, keeping sixteen
 * accumulators in registers. Packing also absorbs the transposes, so all four
 * transpose combinations run the same fast loop.
 *
 * Summation order (fixed, so a SIMD backend can reproduce it): for each block of
 * `GEMM_KC` consecutive k, C[i,j] += Σ_k (α·A[i,k])·B[k,j] with the k-sum taken in
 * increasing k from zero.
 *
 * @since 0.1.0
 */
import { assertNonzeroDiagonal, type TriangularOptions } from "./Blas2.ts"
import { DimensionMismatch } from "./Errors.ts"
import { axpyRow, dotRow, resident, scalRow } from "./internal/dispatch.ts"
import { scalAt } from "./internal/level1.ts"
import { wasm } from "./internal/wasm/runtime.ts"
import type { Matrix } from "./Matrix.ts"

// Packing buffers of the SIMD path, in WebAssembly memory (made on first use).
let wasmPackedA = 0
let wasmPackedB = 0

/** Depth of one packed block (k-direction); a 4 × GEMM_KC panel of A fits in L1. */
export const GEMM_KC = 256
/** Rows of op(A) packed at once; GEMM_MC × GEMM_KC doubles stay in L2. */
const GEMM_MC = 128
/** Columns of op(B) packed at once. */
const GEMM_NC = 2048
const MR = 4
const NR = 4

// Packing buffers, reused across calls (grown on demand, never shrunk) so gemm
// allocates nothing after warm-up.
const packedA = new Float64Array(GEMM_MC * GEMM_KC)
let packedB = new Float64Array(GEMM_KC * GEMM_NC)

/**
 * C ← α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ.
 *
 * op(A) is m × k, op(B) is k × n and C is m × n. β = 0 overwrites C (NaN in C
 * is not kept). C must not alias A or B.
 *
 * @throws DimensionMismatch when the shapes do not chain.
 * @category kernels
 * @since 0.1.0
 */
export const gemm = (
  transA: boolean,
  transB: boolean,
  alpha: number,
  A: Matrix,
  B: Matrix,
  beta: number,
  C: Matrix
): void => {
  const m = transA ? A.cols : A.rows
  const k = transA ? A.rows : A.cols
  const kB = transB ? B.cols : B.rows
  const n = transB ? B.rows : B.cols
  if (kB !== k) {
    throw new DimensionMismatch({
      operation: "gemm",
      what: transB ? "Bᵀ" : "B",
      expected: [k, n],
      actual: [kB, n]
    })
  }
  if (C.rows !== m || C.cols !== n) {
    throw new DimensionMismatch({ operation: "gemm", what: "C", expected: [m, n], actual: [C.rows, C.cols] })
  }
  const c = C.data
  const cResident = wasm !== undefined && wasm.heap.contains(c)
  // β = 0 in WebAssembly memory: a memset (`fill` on shared memory is ≈ 3× slower).
  if (beta === 0) {
    if (cResident) wasm!.kernels.zero(m * n, c.byteOffset)
    else c.fill(0, 0, m * n)
  } else if (beta !== 1) scalAt(m * n, beta, c, 0)
  if (m === 0 || n === 0 || k === 0 || alpha === 0) return
  if (cResident && wasm!.heap.contains(A.data) && wasm!.heap.contains(B.data)) {
    gemmSimd(transA, transB, alpha, A, B, C, m, n, k)
    return
  }

  if (packedB.length < GEMM_KC * Math.min(GEMM_NC, roundUp(n, NR))) {
    packedB = new Float64Array(GEMM_KC * Math.min(GEMM_NC, roundUp(n, NR)))
  }
  for (let jc = 0; jc < n; jc += GEMM_NC) {
    const nc = Math.min(GEMM_NC, n - jc)
    for (let pc = 0; pc < k; pc += GEMM_KC) {
      const kc = Math.min(GEMM_KC, k - pc)
      packB(transB, B, pc, kc, jc, nc, packedB)
      for (let ic = 0; ic < m; ic += GEMM_MC) {
        const mc = Math.min(GEMM_MC, m - ic)
        packA(transA, alpha, A, ic, mc, pc, kc, packedA)
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr)
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir)
            microKernel(kc, packedA, ir * kc, packedB, jr * kc, c, (ic + ir) * n + jc + jr, n, mr, nr)
          }
        }
      }
    }
  }
}

/** The same blocking as the TypeScript path, with packing and the macro-kernel in WebAssembly. */
const gemmSimd = (
  transA: boolean,
  transB: boolean,
  alpha: number,
  A: Matrix,
  B: Matrix,
  C: Matrix,
  m: number,
  n: number,
  k: number
): void => {
  const { heap, kernels } = wasm!
  if (wasmPackedA === 0) {
    wasmPackedA = heap.scratch(GEMM_MC * GEMM_KC * 8)
    wasmPackedB = heap.scratch(GEMM_KC * GEMM_NC * 8)
  }
  const a = A.data.byteOffset
  const b = B.data.byteOffset
  const c = C.data.byteOffset
  for (let jc = 0; jc < n; jc += GEMM_NC) {
    const nc = Math.min(GEMM_NC, n - jc)
    for (let pc = 0; pc < k; pc += GEMM_KC) {
      const kc = Math.min(GEMM_KC, k - pc)
      kernels.packB(transB ? 1 : 0, b, B.cols, pc, kc, jc, nc, wasmPackedB)
      for (let ic = 0; ic < m; ic += GEMM_MC) {
        const mc = Math.min(GEMM_MC, m - ic)
        kernels.packA(transA ? 1 : 0, alpha, a, A.cols, ic, mc, pc, kc, wasmPackedA)
        kernels.macroKernel(kc, mc, nc, wasmPackedA, wasmPackedB, c, n, ic, jc)
      }
    }
  }
}

const roundUp = (x: number, step: number): number => Math.ceil(x / step) * step

/** Packs α·op(A)[ic:ic+mc, pc:pc+kc] into row panels of MR rows, k-major inside a panel, zero-padded. */
const packA = (
  trans: boolean,
  alpha: number,
  A: Matrix,
  ic: number,
  mc: number,
  pc: number,
  kc: number,
  out: Float64Array
): void => {
  const a = A.data
  const lda = A.cols
  let o = 0
  for (let r0 = 0; r0 < mc; r0 += MR) {
    const rows = Math.min(MR, mc - r0)
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const i = ic + r0 + r
          out[o] = alpha * (trans ? a[(pc + p) * lda + i]! : a[i * lda + pc + p]!)
        } else {
          out[o] = 0
        }
        o++
      }
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into column panels of NR columns, k-major inside a panel, zero-padded. */
const packB = (
  trans: boolean,
  B: Matrix,
  pc: number,
  kc: number,
  jc: number,
  nc: number,
  out: Float64Array
): void => {
  const b = B.data
  const ldb = B.cols
  let o = 0
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = Math.min(NR, nc - j0)
    for (let p = 0; p < kc; p++) {
      for (let q = 0; q < NR; q++) {
        if (q < cols) {
          const j = jc + j0 + q
          out[o] = trans ? b[j * ldb + pc + p]! : b[(pc + p) * ldb + j]!
        } else {
          out[o] = 0
        }
        o++
      }
    }
  }
}

/**
 * C[0:mr, 0:nr] += Ap·Bp for one MR × kc panel of A and one kc × NR panel of B,
 * with the 4 × 4 block of C held in sixteen local accumulators.
 */
const microKernel = (
  kc: number,
  ap: Float64Array,
  ao: number,
  bp: Float64Array,
  bo: number,
  c: Float64Array,
  co: number,
  ldc: number,
  mr: number,
  nr: number
): void => {
  let c00 = 0
  let c01 = 0
  let c02 = 0
  let c03 = 0
  let c10 = 0
  let c11 = 0
  let c12 = 0
  let c13 = 0
  let c20 = 0
  let c21 = 0
  let c22 = 0
  let c23 = 0
  let c30 = 0
  let c31 = 0
  let c32 = 0
  let c33 = 0
  let ia = ao
  let ib = bo
  for (let p = 0; p < kc; p++) {
    const a0 = ap[ia]!
    const a1 = ap[ia + 1]!
    const a2 = ap[ia + 2]!
    const a3 = ap[ia + 3]!
    const b0 = bp[ib]!
    const b1 = bp[ib + 1]!
    const b2 = bp[ib + 2]!
    const b3 = bp[ib + 3]!
    c00 += a0 * b0
    c01 += a0 * b1
    c02 += a0 * b2
    c03 += a0 * b3
    c10 += a1 * b0
    c11 += a1 * b1
    c12 += a1 * b2
    c13 += a1 * b3
    c20 += a2 * b0
    c21 += a2 * b1
    c22 += a2 * b2
    c23 += a2 * b3
    c30 += a3 * b0
    c31 += a3 * b1
    c32 += a3 * b2
    c33 += a3 * b3
    ia += 4
    ib += 4
  }
  if (mr === MR && nr === NR) {
    let o = co
    c[o] = c[o]! + c00
    c[o + 1] = c[o + 1]! + c01
    c[o + 2] = c[o + 2]! + c02
    c[o + 3] = c[o + 3]! + c03
    o += ldc
    c[o] = c[o]! + c10
    c[o + 1] = c[o + 1]! + c11
    c[o + 2] = c[o + 2]! + c12
    c[o + 3] = c[o + 3]! + c13
    o += ldc
    c[o] = c[o]! + c20
    c[o + 1] = c[o + 1]! + c21
    c[o + 2] = c[o + 2]! + c22
    c[o + 3] = c[o + 3]! + c23
    o += ldc
    c[o] = c[o]! + c30
    c[o + 1] = c[o + 1]! + c31
    c[o + 2] = c[o + 2]! + c32
    c[o + 3] = c[o + 3]! + c33
    return
  }
  // Edge tile: store only the valid part.
  storeEdge(c, co, ldc, mr, nr, 0, c00, c01, c02, c03)
  storeEdge(c, co, ldc, mr, nr, 1, c10, c11, c12, c13)
  storeEdge(c, co, ldc, mr, nr, 2, c20, c21, c22, c23)
  storeEdge(c, co, ldc, mr, nr, 3, c30, c31, c32, c33)
}

const storeEdge = (
  c: Float64Array,
  co: number,
  ldc: number,
  mr: number,
  nr: number,
  r: number,
  v0: number,
  v1: number,
  v2: number,
  v3: number
): void => {
  if (r >= mr) return
  const o = co + r * ldc
  c[o] = c[o]! + v0
  if (nr > 1) c[o + 1] = c[o + 1]! + v1
  if (nr > 2) c[o + 2] = c[o + 2]! + v2
  if (nr > 3) c[o + 3] = c[o + 3]! + v3
}

/**
 * Options of `trsm`: which side A stands on and the scale α of the right-hand side.
 *
 * @category models
 * @since 0.1.0
 */
export interface TrsmOptions extends TriangularOptions {
  /** "left" solves op(A)·X = α·B, "right" solves X·op(A) = α·B. */
  readonly side: "left" | "right"
  /** Scale of the right-hand side; default 1. */
  readonly alpha?: number
}

/**
 * Triangular solve with many right-hand sides, in place: B ← α·op(A)⁻¹·B
 * (side "left", A is m × m) or B ← α·B·op(A)⁻¹ (side "right", A is n × n),
 * for B of shape m × n. Every inner loop is an axpy along a row, the
 * contiguous direction of row-major storage.
 *
 * @throws DimensionMismatch when A is not square or does not fit B.
 * @throws Singular when a diagonal entry is zero (and `unitDiagonal` is off).
 * @category kernels
 * @since 0.1.0
 */
export const trsm = (A: Matrix, B: Matrix, options: TrsmOptions): void => {
  const na = A.rows
  if (A.cols !== na)
    throw new DimensionMismatch({ operation: "trsm", what: "A", expected: [na, na], actual: [na, A.cols] })
  const { rows: m, cols: n, data: b } = B
  const left = options.side === "left"
  const need = left ? m : n
  if (na !== need) {
    throw new DimensionMismatch({ operation: "trsm", what: "A", expected: [need, need], actual: [na, na] })
  }
  const unit = options.unitDiagonal === true
  if (!unit) assertNonzeroDiagonal("trsm", A)
  const alpha = options.alpha ?? 1
  if (alpha !== 1) scalAt(m * n, alpha, b, 0)
  const a = A.data
  const fast = resident(a, b)
  const lower = options.lower
  const transpose = options.transpose === true
  if (left) {
    // Row i of X depends on rows before it (forward) or after it (backward).
    const forward = lower !== transpose
    if (!transpose) {
      // X_i = (B_i − Σ_k A_ik X_k) / A_ii over already-solved k.
      for (let t = 0; t < m; t++) {
        const i = forward ? t : m - 1 - t
        const kStart = forward ? 0 : i + 1
        const kEnd = forward ? i : m
        for (let kk = kStart; kk < kEnd; kk++) {
          const aik = a[i * m + kk]!
          if (aik !== 0) axpyRow(fast, n, -aik, b, kk * n, b, i * n)
        }
        if (!unit) scalRow(fast, n, 1 / a[i * m + i]!, b, i * n)
      }
    } else {
      // op(A) = Aᵀ: once X_i is final, eliminate it from the rows that depend on it.
      for (let t = 0; t < m; t++) {
        const i = forward ? t : m - 1 - t
        if (!unit) scalRow(fast, n, 1 / a[i * m + i]!, b, i * n)
        const kStart = forward ? i + 1 : 0
        const kEnd = forward ? m : i
        for (let kk = kStart; kk < kEnd; kk++) {
          const aik = a[i * m + kk]!
          if (aik !== 0) axpyRow(fast, n, -aik, b, i * n, b, kk * n)
        }
      }
    }
    return
  }
  // Right side: each row x of X solves x·op(A) = b independently.
  for (let r = 0; r < m; r++) {
    const o = r * n
    if (!transpose) {
      // x·A = b: column j of A meets x; with A upper, x_j depends on x_k for k < j.
      const forward = !lower
      for (let t = 0; t < n; t++) {
        const j = forward ? t : n - 1 - t
        const xj = unit ? b[o + j]! : b[o + j]! / a[j * n + j]!
        b[o + j] = xj
        if (xj === 0) continue
        // Remove x_j·A[j, k] from the entries still to solve, along row j of A.
        if (forward) axpyRow(fast, n - 1 - j, -xj, a, j * n + j + 1, b, o + j + 1)
        else axpyRow(fast, j, -xj, a, j * n, b, o)
      }
    } else {
      // x·Aᵀ = b ⇔ A·xᵀ = bᵀ: a row-wise substitution along rows of A.
      const forward = lower
      for (let t = 0; t < n; t++) {
        const j = forward ? t : n - 1 - t
        const s = forward
          ? b[o + j]! - dotRow(fast, j, a, j * n, b, o)
          : b[o + j]! - dotRow(fast, n - 1 - j, a, j * n + j + 1, b, o + j + 1)
        b[o + j] = unit ? s : s / a[j * n + j]!
      }
    }
  }
}
