/**
 * The cost as the log-domain Sinkhorn engine reads it: either a materialized
 * matrix, or an online point cloud whose costs are recomputed in row blocks
 * at every pass (OTT-JAX's online `PointCloud`), so that n·m costs never sit
 * in memory. The three operations the engine needs, on both:
 *
 *   rows:  out_i = log Σ_j exp((f_i + g_j − C_ij)/ε),
 *   cols:  out_j = log Σ_i exp((f_i + g_j − C_ij)/ε),
 *   ⟨C, P⟩ for P_ij = exp((f_i + g_j − C_ij)/ε),
 *
 * all on core's fused kernels (`Reductions.logSumExpAffineRows/Cols`, SIMD
 * exp). Online, a row block is computed once per pass and reduced while it
 * is in cache; the column sums of the blocks are merged by
 * log(e^x + e^y) = max + log1p(e^−|x−y|), one exp and one log per column and
 * block (block rows are chosen so that this is a few per cent of the pass).
 * Row results are bit-identical to the materialized ones; column results
 * differ in rounding only (the shifts of the one-pass column kernel move per
 * block).
 */
import { Elementwise, Matrix, Memory, Reductions, Vector } from "@descent/core"
import * as Geometry from "../Geometry.ts"

/** A materialized cost matrix. */
export interface MatrixSource {
  readonly _tag: "Matrix"
  readonly C: Matrix.Matrix
}

/** An online point cloud and the buffers of one row block. */
export interface OnlineSource {
  readonly _tag: "Online"
  readonly geometry: Geometry.PointCloudGeometry
  readonly blockRows: number
  /** Costs of one row block (blockRows × m). */
  readonly block: Float64Array
  /** Column log-sums of one block. */
  readonly partial: Float64Array
  readonly zerosM: Float64Array
}

/**
 * Where the log-domain engine reads costs from.
 *
 * @category models
 */
export type CostSource = MatrixSource | OnlineSource

/** Cost entries per online block (2¹⁸ doubles, 2 MiB: in L2/L3, and ≥ 32 rows for n ≤ 8192). */
const BLOCK_ENTRIES = 2 ** 18
/** At least this many rows per block, so the per-block column merges stay ≲ 3 % of the pass. */
const MIN_BLOCK_ROWS = 32

export const matrixSource = (C: Matrix.Matrix): MatrixSource => ({ _tag: "Matrix", C })

/** An online source; `blockRows` defaults to max(32, 2¹⁸/m) (tests pass small blocks). */
export const onlineSource = (
  geometry: Geometry.PointCloudGeometry,
  rowsPerBlock = Math.max(MIN_BLOCK_ROWS, Math.floor(BLOCK_ENTRIES / geometry.cols))
): OnlineSource => {
  const m = geometry.cols
  const blockRows = Math.max(1, Math.min(geometry.rows, rowsPerBlock))
  return {
    _tag: "Online",
    geometry,
    blockRows,
    block: Vector.zeros(blockRows * m),
    partial: Vector.zeros(m),
    zerosM: Vector.zeros(m)
  }
}

/** Rows [start, end) of the online cost as a matrix view of the block buffer. */
const blockOf = (s: OnlineSource, start: number, end: number): Matrix.Matrix => {
  const m = s.geometry.cols
  const data = s.block.subarray(0, (end - start) * m)
  Geometry.costRows(s.geometry, start, end, data)
  return Matrix.fromData(end - start, m, data)
}

/** log(e^x + e^y) without overflow; −∞ is the identity, NaN propagates. */
const logAddExp = (x: number, y: number): number => {
  if (x === Number.NEGATIVE_INFINITY) return y
  if (y === Number.NEGATIVE_INFINITY) return x
  if (x === Number.POSITIVE_INFINITY || y === Number.POSITIVE_INFINITY) return x + y
  return x > y ? x + Math.log1p(Math.exp(y - x)) : y + Math.log1p(Math.exp(x - y))
}

/** out_i ← log Σ_j exp((f_i + g_j − C_ij)/ε). */
export const lseRows = (
  source: CostSource,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  out: Float64Array
): void => {
  if (source._tag === "Matrix") {
    Reductions.logSumExpAffineRows(source.C, f, g, epsilon, out)
    return
  }
  const n = source.geometry.rows
  for (let start = 0; start < n; start += source.blockRows) {
    const end = Math.min(n, start + source.blockRows)
    Reductions.logSumExpAffineRows(
      blockOf(source, start, end),
      f.subarray(start, end),
      g,
      epsilon,
      out.subarray(start, end)
    )
  }
}

/** out_j ← log Σ_i exp((f_i + g_j − C_ij)/ε). */
export const lseCols = (
  source: CostSource,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  out: Float64Array
): void => {
  if (source._tag === "Matrix") {
    Reductions.logSumExpAffineCols(source.C, f, g, epsilon, out)
    return
  }
  const { geometry, partial, zerosM } = source
  const n = geometry.rows
  const m = geometry.cols
  out.fill(Number.NEGATIVE_INFINITY)
  for (let start = 0; start < n; start += source.blockRows) {
    const end = Math.min(n, start + source.blockRows)
    Reductions.logSumExpAffineCols(
      blockOf(source, start, end),
      f.subarray(start, end),
      zerosM,
      epsilon,
      partial
    )
    for (let j = 0; j < m; j++) out[j] = logAddExp(out[j]!, partial[j]!)
  }
  const inv = 1 / epsilon
  for (let j = 0; j < m; j++) out[j] = out[j]! + g[j]! * inv
}

/** Rows per block when P is formed by exp((f_i + g_j − C_ij)/ε) from a matrix. */
const planBlockRows = (m: number): number => Math.max(1, Math.floor(65536 / Math.max(1, m)))

/**
 * Writes rows [start, end) of P_ij = exp((f_i + g_j − C_ij)/ε) into `out`
 * (row-major, (end − start)·m entries; may be `cost` itself), from the cost
 * rows in `cost` (same layout), with core's SIMD exp.
 */
export const planRows = (
  cost: Float64Array,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  start: number,
  end: number,
  out: Float64Array
): void => {
  const m = g.length
  const inv = 1 / epsilon
  for (let i = start; i < end; i++) {
    const fi = f[i]!
    const o = (i - start) * m
    for (let j = 0; j < m; j++) out[o + j] = (fi + g[j]! - cost[o + j]!) * inv
  }
  const p = out.subarray(0, (end - start) * m)
  Elementwise.exp(p, p)
}

/**
 * Σ over rows [start, end) of P_ij·C_ij with the costs in `cost` (row-major)
 * and `work` as scratch; zero entries are skipped, so the +∞ costs of
 * forbidden pairs add nothing.
 */
const blockCost = (
  cost: Float64Array,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  start: number,
  end: number,
  work: Float64Array
): number => {
  planRows(cost, f, g, epsilon, start, end, work)
  const len = (end - start) * g.length
  let total = 0
  for (let k = 0; k < len; k++) {
    const pk = work[k]!
    if (pk > 0) total += pk * cost[k]!
  }
  return total
}

/** ⟨C, P⟩ for P_ij = exp((f_i + g_j − C_ij)/ε), in row blocks with core's SIMD exp. */
export const transportCost = (
  source: CostSource,
  f: Float64Array,
  g: Float64Array,
  epsilon: number
): number => {
  const n = f.length
  const m = g.length
  const rows = source._tag === "Matrix" ? planBlockRows(m) : source.blockRows
  const work = Vector.zeros(Math.min(n, rows) * m)
  let total = 0
  for (let start = 0; start < n; start += rows) {
    const end = Math.min(n, start + rows)
    const cost =
      source._tag === "Matrix" ? source.C.data.subarray(start * m, end * m) : blockOf(source, start, end).data
    total += blockCost(cost, f, g, epsilon, start, end, work)
  }
  Memory.free(work)
  return total
}
