/**
 * The linear assignment problem: given an n × m cost matrix (n ≤ m), find
 * distinct columns σ(1) … σ(n) minimizing Σ_i C_{i,σ(i)}; for n = m with
 * uniform weights it is optimal transport whose plan is a permutation
 * (Birkhoff–von Neumann), and `solve` returns it as a transport result.
 *
 * Algorithm: shortest augmenting paths with dual potentials — the Hungarian
 * method of Kuhn (1955) and Munkres (1957) in the O(n²m) form of Jonker &
 * Volgenant ("A shortest augmenting path algorithm for dense and sparse
 * linear assignment problems", Computing 38, 1987), as described for
 * rectangular problems by Crouse ("On implementing 2D rectangular
 * assignment algorithms", IEEE Trans. Aerosp. Electron. Syst. 52(4), 2016),
 * the method behind SciPy's `linear_sum_assignment`. Each row is assigned in
 * turn by a Dijkstra search over reduced costs C_ij − u_i − v_j ≥ 0; the
 * potentials u, v stay dual feasible (u_i + v_j ≤ C_ij, equality on the
 * assignment), so they certify optimality.
 *
 * Forbidden pairs (+∞) are never assigned; `InfeasibleTransport` when no
 * complete assignment avoids them. NaN and −∞ costs are rejected.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Vector } from "@descent/core"
import { InfeasibleTransport } from "./Errors.ts"
import { materialize } from "./Geometry.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import { type SparsePlan, toDense } from "./SparsePlan.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * The solution of a rectangular assignment problem, as SciPy's
 * `linear_sum_assignment`: `rows` increasing, `cols[k]` assigned to `rows[k]`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearSumAssignment {
  readonly rows: Int32Array
  readonly cols: Int32Array
  /** Σ_k C[rows[k], cols[k]]. */
  readonly totalCost: number
  /** Row potentials u (length = matrix rows) and column potentials v: u_i + v_j ≤ C_ij, = on the assignment. */
  readonly u: Float64Array
  readonly v: Float64Array
}

/**
 * The result of `solve`: a transport result whose plan is a permutation
 * scaled by the uniform mass.
 *
 * @category models
 * @since 0.1.0
 */
export interface AssignmentResult extends TransportResult {
  /** assignment[i] = the target of source i. */
  readonly assignment: Int32Array
  /** Σ_i C_{i,σ(i)} (`cost` is this times the uniform mass 1/n). */
  readonly totalCost: number
  /** The n entries (i, σ(i), mass). */
  readonly transport: SparsePlan
}

/**
 * Shortest augmenting paths on a rows × cols matrix with rows ≤ cols.
 * Returns col4row, u, v; throws InfeasibleTransport when a row cannot be assigned.
 */
const augmentingPaths = (
  operation: string,
  rows: number,
  cols: number,
  C: Float64Array
): { col4row: Int32Array; u: Float64Array; v: Float64Array } => {
  const u = Vector.zeros(rows)
  const v = Vector.zeros(cols)
  const col4row = new Int32Array(rows).fill(-1)
  const row4col = new Int32Array(cols).fill(-1)
  const shortest = Vector.zeros(cols)
  const pathRow = new Int32Array(cols)
  const remaining = new Int32Array(cols)
  const inSC = new Uint8Array(cols)
  const scannedRows = new Int32Array(rows)
  for (let cur = 0; cur < rows; cur++) {
    shortest.fill(Number.POSITIVE_INFINITY)
    inSC.fill(0)
    let numRemaining = cols
    for (let k = 0; k < cols; k++) remaining[k] = cols - 1 - k
    let numScanned = 0
    let minVal = 0
    let i = cur
    let sink = -1
    // Dijkstra from row `cur` until a free column is reached (≤ cols rounds).
    while (sink < 0) {
      scannedRows[numScanned++] = i
      const base = i * cols
      const ui = u[i]!
      let lowest = Number.POSITIVE_INFINITY
      let index = -1
      for (let k = 0; k < numRemaining; k++) {
        const j = remaining[k]!
        const r = minVal + C[base + j]! - ui - v[j]!
        if (r < shortest[j]!) {
          pathRow[j] = i
          shortest[j] = r
        }
        const s = shortest[j]!
        if (s < lowest || (s === lowest && row4col[j] === -1)) {
          lowest = s
          index = k
        }
      }
      if (!(lowest < Number.POSITIVE_INFINITY)) {
        throw new InfeasibleTransport({ operation, unmatchedMass: rows - cur })
      }
      minVal = lowest
      const j = remaining[index]!
      inSC[j] = 1
      remaining[index] = remaining[--numRemaining]!
      if (row4col[j] === -1) sink = j
      else i = row4col[j]!
    }
    // Dual update keeps u_i + v_j ≤ C_ij, with equality on the new assignment.
    u[cur]! += minVal
    for (let s = 1; s < numScanned; s++) {
      const r = scannedRows[s]!
      u[r]! += minVal - shortest[col4row[r]!]!
    }
    for (let j = 0; j < cols; j++) if (inSC[j] === 1) v[j]! -= minVal - shortest[j]!
    // Augment along the path back to `cur` (≤ numScanned steps).
    let j = sink
    for (let step = 0; step <= numScanned; step++) {
      const r = pathRow[j]!
      row4col[j] = r
      const previous = col4row[r]!
      col4row[r] = j
      j = previous
      if (r === cur) break
    }
  }
  return { col4row, u, v }
}

const checkCosts = (operation: string, C: Matrix.Matrix): void => {
  for (let k = 0; k < C.data.length; k++) {
    const c = C.data[k]!
    if (Number.isNaN(c) || c === Number.NEGATIVE_INFINITY) {
      throw new Errors.NonFiniteInput({ operation, what: "cost matrix", index: k, value: c })
    }
  }
}

/**
 * Solves min Σ C[rows[k], cols[k]] over matchings of size min(n, m) of an
 * n × m matrix, like SciPy's `linear_sum_assignment` (a tall matrix is
 * solved transposed). +∞ marks forbidden pairs.
 *
 * @example
 * Assignment.linearSumAssignment(Matrix.fromRows([[4, 1, 3], [2, 0, 5], [3, 2, 2]])).cols // [1, 0, 2]
 * @throws NonFiniteInput for NaN or −∞ costs; EmptyInput for an empty matrix.
 * @throws InfeasibleTransport when forbidden pairs leave no complete matching.
 * @category solvers
 * @since 0.1.0
 */
export const linearSumAssignment = (C: Matrix.Matrix): LinearSumAssignment => {
  const operation = "Assignment.linearSumAssignment"
  if (C.rows === 0 || C.cols === 0) throw new Errors.EmptyInput({ operation, what: "cost matrix" })
  checkCosts(operation, C)
  const transpose = C.rows > C.cols
  const M = transpose ? Matrix.transpose(C) : C
  const { col4row, u, v } = augmentingPaths(operation, M.rows, M.cols, M.data)
  const k = M.rows
  const rows = new Int32Array(k)
  const cols = new Int32Array(k)
  if (!transpose) {
    for (let i = 0; i < k; i++) {
      rows[i] = i
      cols[i] = col4row[i]!
    }
  } else {
    // Rows of C are columns of M: list them in increasing order.
    const row4 = new Int32Array(C.rows).fill(-1)
    for (let i = 0; i < k; i++) row4[col4row[i]!] = i
    let t = 0
    for (let r = 0; r < C.rows; r++) {
      if (row4[r]! < 0) continue
      rows[t] = r
      cols[t] = row4[r]!
      t++
    }
  }
  let totalCost = 0
  for (let t = 0; t < k; t++) totalCost += C.data[rows[t]! * C.cols + cols[t]!]!
  return { rows, cols, totalCost, u: transpose ? v : u, v: transpose ? u : v }
}

/**
 * The optimal permutation of a square problem with uniform marginals (the
 * `LinearProblem` defaults): plan P = (mass/n)·permutation, cost ⟨C, P⟩,
 * potentials f, g with f_i + g_j ≤ C_ij (equality on the permutation),
 * centered so that aᵀf = bᵀg.
 *
 * @throws DimensionMismatch when n ≠ m; InvalidOptions when a or b is not uniform.
 * @throws InfeasibleTransport when forbidden pairs leave no permutation.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: LinearProblem): AssignmentResult => {
  const operation = "Assignment.solve"
  const { geometry, a, b } = problem
  const n = geometry.rows
  if (geometry.cols !== n) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "geometry (targets)",
      expected: [n, n],
      actual: [n, geometry.cols]
    })
  }
  for (const [field, w] of [
    ["a", a],
    ["b", b]
  ] as const) {
    for (let i = 1; i < n; i++) {
      if (Math.abs(w[i]! - w[0]!) > 1e-12 * w[0]!) {
        throw new Errors.InvalidOptions({
          operation,
          field,
          value: `${field}[${i}] = ${w[i]} ≠ ${field}[0] = ${w[0]}`,
          requirement: "uniform weights (the assignment problem); use Emd for general weights"
        })
      }
    }
  }
  const C = materialize(geometry)
  const { cols: assignment, totalCost, u, v } = linearSumAssignment(C)
  const unit = problem.massA / n
  const f = Vector.clone(u)
  const g = Vector.clone(v)
  let af = 0
  let bg = 0
  for (let i = 0; i < n; i++) {
    af += a[i]! * f[i]!
    bg += b[i]! * g[i]!
  }
  const shift = (bg - af) / (problem.massA + problem.massB)
  for (let i = 0; i < n; i++) {
    f[i]! += shift
    g[i]! -= shift
  }
  const rows = new Int32Array(n)
  for (let i = 0; i < n; i++) rows[i] = i
  const transport: SparsePlan = {
    sourceCount: n,
    targetCount: n,
    rows,
    cols: assignment,
    mass: Vector.full(n, unit)
  }
  return {
    status: "converged",
    iterations: n,
    f,
    g,
    cost: unit * totalCost,
    assignment,
    totalCost,
    transport,
    marginalErrors: [],
    plan: () => toDense(transport)
  }
}
