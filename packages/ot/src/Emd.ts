/**
 * Exact optimal transport (the earth mover's distance) by the network
 * simplex: for a balanced `LinearProblem` with costs C and marginals a, b,
 *
 *   min_{P ≥ 0} ⟨C, P⟩   s.t.  P·1 = a,  Pᵀ·1 = b,
 *
 * and its dual max { aᵀf + bᵀg : f_i + g_j ≤ C_ij }. The primal simplex
 * runs on the bipartite transportation graph (Bonneel, van de Panne, Paris &
 * Heidrich, "Displacement interpolation using Lagrangian mass transport",
 * SIGGRAPH Asia 2011, whose solver POT's `ot.emd` uses; Ahuja, Magnanti &
 * Orlin, *Network Flows*, 1993, ch. 11): block-search pricing (Grigoriadis
 * 1986), strongly feasible spanning trees with Cunningham's leaving-arc rule
 * (no cycling on degenerate problems with many ties), an artificial root
 * whose "big M" arcs start the run and leave the basis as real arcs enter.
 *
 * The result holds the optimal basic plan as a sparse list (at most
 * n + m − 1 entries: the basic arcs, a spanning forest; `plan()` builds the
 * dense matrix), dual potentials f, g with complementary slackness
 * (f_i + g_j = C_ij on the basis, ≤ C_ij everywhere, centered so that
 * aᵀf = bᵀg, as POT's `center_dual`), the cost ⟨C, P⟩ and a status: the
 * pivot budget `maxIterations` is reported, not thrown. Sources and targets
 * with zero mass are left out of the simplex; their potentials are the
 * tightest feasible ones (f_i = min_j C_ij − g_j).
 *
 * Warm starts: `basis` (e.g. a previous result's `transport`) seeds the
 * tree with those arcs where their flows for the new marginals are
 * feasible, and `potentials` (f, g, e.g. from Sinkhorn) set the artificial
 * arcs' costs so that pricing starts from the reduced costs C_ij − f_i − g_j.
 *
 * Forbidden pairs (+∞ costs) never enter the basis; when no plan avoids
 * them, `InfeasibleTransport` is thrown. Unbalanced problems (finite ρ)
 * throw `UnbalancedMarginals`: the network simplex solves balanced ones.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Solver, Vector } from "@descent/core"
import { InfeasibleTransport, UnbalancedMarginals } from "./Errors.ts"
import { type Geometry, materialize } from "./Geometry.ts"
import {
  allocate,
  type Network,
  pivot,
  price,
  rebuild,
  refreshPotentials
} from "./internal/networkSimplex.ts"
import { defaultLinearProblemOptions, isBalanced, type LinearProblem } from "./LinearProblem.ts"
import { marginalError, type SparsePlan, toDense } from "./SparsePlan.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of the network simplex.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmdOptions {
  /** Pivot budget (an integer ≥ 0); running out is `status: "maxIterations"`. Default 10⁷. */
  readonly maxIterations?: number
  /**
   * An arc enters the basis when its reduced cost C_ij − f_i − g_j is below
   * −tolerance · max|C| (≥ 0; never below 64 ulps of the potentials). Default
   * 1e-12: the returned cost is then optimal to about that relative amount.
   */
  readonly tolerance?: number
  /** Pricing scans blocks of ⌈factor · √(n·m)⌉ arcs (> 0). Default 1. */
  readonly blockSizeFactor?: number
  /** Warm start: dual potentials f (length n) and g (length m), finite, in the geometry's normalized units. */
  readonly potentials?: { readonly f: ArrayLike<number>; readonly g: ArrayLike<number> }
  /** Warm start: arcs (rows[k], cols[k]) to seed the basis with, e.g. a previous result's `transport`. */
  readonly basis?: { readonly rows: ArrayLike<number>; readonly cols: ArrayLike<number> }
  /** Record metrics every this many pivots (0: none). Default 0. */
  readonly traceEvery?: number
  /** Aborting ends the run as `interrupted` (the plan is then not optimal and may miss mass). */
  readonly signal?: AbortSignal
}

/**
 * Defaults of `EmdOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultEmdOptions = {
  maxIterations: 10_000_000,
  tolerance: 1e-12,
  blockSizeFactor: 1,
  traceEvery: 0
} as const

/**
 * The result of the network simplex. `iterations` counts pivots.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmdResult extends TransportResult {
  /** The basic variables (a spanning forest, ≤ n + m − 1 entries, masses ≥ 0). */
  readonly transport: SparsePlan
  /** ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ of the returned plan (rounding-level when converged). */
  readonly marginalError: number
  /** Pivots that moved no mass (ties, degeneracy). */
  readonly degeneratePivots: number
  /** Trace (pivot, most negative reduced cost) when `traceEvery` > 0. */
  readonly trace: Solver.Trace
}

/**
 * The solver's output before the loop adds status, iterations and trace.
 *
 * @category models
 * @since 0.1.0
 */
export type EmdOutput = Omit<EmdResult, "status" | "iterations" | "trace"> & {
  /** Mass left on the artificial arcs (unmatched); 0 up to rounding at a feasible optimum. */
  readonly unmatchedMass: number
}

/**
 * Network simplex state (mutable buffers; see `Solver.IterativeSolver`).
 *
 * @category models
 * @since 0.1.0
 */
export interface EmdState {
  readonly problem: LinearProblem
  readonly net: Network
  /** The full n × m cost matrix (normalized units). */
  readonly fullCost: Float64Array
  /** Compact source/target index → original index. */
  readonly rowIndex: Int32Array
  readonly colIndex: Int32Array
  /** Potentials are recomputed from the tree every this many pivots (bounds rounding drift). */
  readonly refreshEvery: number
}

const NAME = "Emd"

const invalid = (field: string, value: unknown, requirement: string): Errors.InvalidOptions =>
  new Errors.InvalidOptions({ operation: NAME, field, value, requirement })

const checkOptions = (options: EmdOptions) => {
  const d = defaultEmdOptions
  const tolerance = options.tolerance ?? d.tolerance
  if (typeof tolerance !== "number" || !(tolerance >= 0) || !Number.isFinite(tolerance))
    throw invalid("tolerance", tolerance, "a finite number ≥ 0")
  const factor = options.blockSizeFactor ?? d.blockSizeFactor
  if (typeof factor !== "number" || !(factor > 0) || !Number.isFinite(factor))
    throw invalid("blockSizeFactor", factor, "a finite number > 0")
  const maxIterations = options.maxIterations ?? d.maxIterations
  if (!Number.isInteger(maxIterations) || maxIterations < 0)
    throw invalid("maxIterations", maxIterations, "an integer ≥ 0")
  const traceEvery = options.traceEvery ?? d.traceEvery
  if (!Number.isInteger(traceEvery) || traceEvery < 0)
    throw invalid("traceEvery", traceEvery, "an integer ≥ 0")
  return { tolerance, factor, maxIterations, traceEvery }
}

const checkPotentials = (p: NonNullable<EmdOptions["potentials"]>, n: number, m: number): void => {
  const parts = [
    ["potentials.f", p.f, n],
    ["potentials.g", p.g, m]
  ] as const
  for (const [what, values, length] of parts) {
    if (values === undefined || values.length !== length) {
      throw new Errors.DimensionMismatch({
        operation: NAME,
        what,
        expected: [length],
        actual: [values?.length ?? 0]
      })
    }
    for (let k = 0; k < length; k++) {
      if (!Number.isFinite(values[k]))
        throw new Errors.NonFiniteInput({ operation: NAME, what, index: k, value: values[k]! })
    }
  }
}

/**
 * Seeds the tree from `basis` arcs (compact indices after mapping): keeps a
 * spanning forest of them, hangs each component from the root, and keeps an
 * arc only when the flow the new marginals force on it is feasible and the
 * tree stays strongly feasible; other subtrees hang from the root by an
 * artificial arc carrying their net supply.
 */
const seedFromBasis = (
  net: Network,
  basis: NonNullable<EmdOptions["basis"]>,
  rowMap: Int32Array,
  colMap: Int32Array,
  supply: Float64Array,
  tolMass: number
): void => {
  const { nS, nT, root, cost, parent, pred, up, flow, inTree } = net
  const count = nS + nT
  if (basis.rows.length !== basis.cols.length) {
    throw new Errors.DimensionMismatch({
      operation: NAME,
      what: "basis.cols",
      expected: [basis.rows.length],
      actual: [basis.cols.length]
    })
  }
  // Union–find forest of the usable arcs.
  const uf = new Int32Array(count)
  for (let v = 0; v < count; v++) uf[v] = v
  const find = (v: number): number => {
    let r = v
    while (uf[r] !== r) r = uf[r]!
    while (uf[v] !== r) {
      const w = uf[v]!
      uf[v] = r
      v = w
    }
    return r
  }
  const arcs: number[] = []
  for (let k = 0; k < basis.rows.length; k++) {
    const r = basis.rows[k]!
    const c = basis.cols[k]!
    if (!Number.isInteger(r) || r < 0 || r >= rowMap.length)
      throw invalid(`basis.rows[${k}]`, r, `an integer in [0, ${rowMap.length})`)
    if (!Number.isInteger(c) || c < 0 || c >= colMap.length)
      throw invalid(`basis.cols[${k}]`, c, `an integer in [0, ${colMap.length})`)
    const i = rowMap[r]!
    const j = colMap[c]!
    if (i < 0 || j < 0) continue
    const a = i * nT + j
    if (!Number.isFinite(cost[a]!)) continue
    const ri = find(i)
    const rj = find(nS + j)
    if (ri === rj) continue
    uf[ri] = rj
    arcs.push(a)
  }
  // Adjacency (CSR) of the forest.
  const start = new Int32Array(count + 1)
  for (const a of arcs) {
    const i = (a / nT) | 0
    start[i + 1]!++
    start[nS + (a - i * nT) + 1]!++
  }
  for (let v = 0; v < count; v++) start[v + 1]! += start[v]!
  const fill = start.slice(0, count)
  const adjacent = new Int32Array(2 * arcs.length)
  for (const a of arcs) {
    const i = (a / nT) | 0
    adjacent[fill[i]!++] = a
    adjacent[fill[nS + (a - i * nT)]!++] = a
  }
  // Orient each component from its first node (DFS preorder).
  const seen = new Uint8Array(count)
  const order = new Int32Array(count)
  const treeParent = new Int32Array(count).fill(-1)
  const treeArc = new Int32Array(count).fill(-1)
  const stack = new Int32Array(count)
  let n = 0
  for (let s = 0; s < count; s++) {
    if (seen[s] === 1) continue
    let top = 0
    stack[top++] = s
    seen[s] = 1
    while (top > 0) {
      const x = stack[--top]!
      order[n++] = x
      for (let t = start[x]!; t < start[x + 1]!; t++) {
        const a = adjacent[t]!
        const i = (a / nT) | 0
        const y = x === i ? nS + (a - i * nT) : i
        if (seen[y] === 1) continue
        seen[y] = 1
        treeParent[y] = x
        treeArc[y] = a
        stack[top++] = y
      }
    }
  }
  // Bottom-up: net supply of each subtree decides each arc's flow.
  const excess = Vector.zeros(count)
  for (let v = 0; v < count; v++) excess[v] = v < nS ? supply[v]! : -supply[v]!
  const hangFromRoot = (v: number): void => {
    const s = excess[v]!
    parent[v] = root
    pred[v] = -1
    if (s < -tolMass) {
      up[v] = 0
      flow[v] = -s
    } else {
      up[v] = 1
      flow[v] = Math.max(s, 0)
    }
  }
  for (let t = count - 1; t >= 0; t--) {
    const v = order[t]!
    const w = treeParent[v]!
    if (w < 0) {
      hangFromRoot(v)
      continue
    }
    const isSource = v < nS
    const f = isSource ? excess[v]! : -excess[v]!
    if (f > 0 || (isSource && f > -tolMass)) {
      parent[v] = w
      pred[v] = treeArc[v]!
      up[v] = isSource ? 1 : 0
      flow[v] = Math.max(f, 0)
      inTree[treeArc[v]!] = 1
      excess[w]! += excess[v]!
    } else {
      hangFromRoot(v)
    }
  }
}

/**
 * The network simplex as a `Solver.IterativeSolver`: one step is one pivot
 * (then the next block search); `status` is `converged` when no arc prices
 * below the threshold; the residual is the entering arc's |reduced cost|.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<LinearProblem, EmdOptions, EmdState, EmdOutput> = {
  name: NAME,
  init: (problem, options) => init(problem, options),
  step: (state) => {
    const net = state.net
    if (net.entering < 0) return state
    pivot(net)
    if (net.pivots % state.refreshEvery === 0) refreshPotentials(net)
    price(net)
    return state
  },
  status: (state) => (state.net.entering < 0 ? "converged" : undefined),
  residual: (state) => (state.net.entering < 0 ? 0 : -state.net.enteringReduced),
  metrics: (state) => ({
    pivots: state.net.pivots,
    reducedCost: state.net.entering < 0 ? 0 : state.net.enteringReduced,
    degeneratePivots: state.net.degeneratePivots
  }),
  output: (state) => output(state)
}

const init = (problem: LinearProblem, options: EmdOptions): EmdState => {
  if (!isBalanced(problem)) {
    throw new UnbalancedMarginals({
      operation: NAME,
      sumA: problem.massA,
      sumB: problem.massB,
      tolerance: defaultLinearProblemOptions.massTolerance
    })
  }
  const { tolerance, factor } = checkOptions(options)
  const geometry: Geometry = problem.geometry
  const n = geometry.rows
  const m = geometry.cols
  if (options.potentials !== undefined) checkPotentials(options.potentials, n, m)
  const full = materialize(geometry).data
  const { a, b } = problem
  // Active (positive-mass) sources and targets.
  const rowMap = new Int32Array(n).fill(-1)
  const colMap = new Int32Array(m).fill(-1)
  let nS = 0
  let nT = 0
  for (let i = 0; i < n; i++) if (a[i]! > 0) rowMap[i] = nS++
  for (let j = 0; j < m; j++) if (b[j]! > 0) colMap[j] = nT++
  const rowIndex = new Int32Array(nS)
  const colIndex = new Int32Array(nT)
  for (let i = 0; i < n; i++) if (rowMap[i]! >= 0) rowIndex[rowMap[i]!] = i
  for (let j = 0; j < m; j++) if (colMap[j]! >= 0) colIndex[colMap[j]!] = j
  let cost = full
  if (nS !== n || nT !== m) {
    cost = Matrix.zeros(nS, nT).data
    for (let i = 0; i < nS; i++) {
      const src = rowIndex[i]! * m
      for (let j = 0; j < nT; j++) cost[i * nT + j] = full[src + colIndex[j]!]!
    }
  }
  let maxAbsC = 0
  let finite = 0
  for (let k = 0; k < cost.length; k++) {
    const c = cost[k]!
    if (c !== Number.POSITIVE_INFINITY) {
      finite++
      const abs = Math.abs(c)
      if (abs > maxAbsC) maxAbsC = abs
    }
  }
  if (finite === 0) throw new InfeasibleTransport({ operation: NAME, unmatchedMass: problem.massA })
  const complete = finite === cost.length
  const nodes = nS + nT + 1
  // Supplies: a on sources; b rescaled to a's total mass on targets.
  const supply = Vector.zeros(nS + nT)
  const rescale = problem.massA / problem.massB
  for (let i = 0; i < nS; i++) supply[i] = a[rowIndex[i]!]!
  for (let j = 0; j < nT; j++) supply[nS + j] = b[colIndex[j]!]! * rescale
  // Artificial costs K + h_v, h the warm-start potentials (0 without). With
  // every pair allowed, any two unmatched nodes are joined by ≤ 3 real arcs,
  // so K − max|h| > 1.5·max|C| expels all artificial flow at the optimum;
  // with forbidden pairs a path may use every node: K − max|h| > N·max|C|/2.
  const artCost = Vector.zeros(nodes)
  let maxAbsH = 0
  if (options.potentials !== undefined) {
    const { f, g } = options.potentials
    for (let i = 0; i < nS; i++) artCost[i] = f[rowIndex[i]!]!
    for (let j = 0; j < nT; j++) artCost[nS + j] = g[colIndex[j]!]!
    for (let v = 0; v < nS + nT; v++) maxAbsH = Math.max(maxAbsH, Math.abs(artCost[v]!))
  }
  const scale = Math.max(maxAbsC, maxAbsH) || 1
  const K = (complete ? 2 * maxAbsC : (nS + nT) * maxAbsC) + maxAbsH + scale
  if (!Number.isFinite(K)) {
    throw invalid("geometry", maxAbsC, "costs small enough that (n + m)·max|C| is finite (rescale them)")
  }
  for (let v = 0; v < nS + nT; v++) artCost[v]! += K
  const threshold = Math.max(tolerance * (maxAbsC || 1), 64 * Number.EPSILON * (K + maxAbsH))
  const blockSize = Math.max(1, Math.min(nS * nT, Math.ceil(factor * Math.sqrt(nS * nT))))
  const net = allocate(nS, nT, cost, Vector.zeros(nodes), Vector.zeros(nodes), artCost, threshold, blockSize)
  if (options.basis !== undefined) {
    seedFromBasis(net, options.basis, rowMap, colMap, supply, 1e-14 * problem.massA)
  } else {
    for (let v = 0; v < nS + nT; v++) {
      net.parent[v] = net.root
      net.up[v] = v < nS ? 1 : 0
      net.flow[v] = supply[v]!
    }
  }
  if (!rebuild(net)) throw new Error("Emd: the initial basis is not a spanning tree (internal error)")
  price(net)
  return { problem, net, fullCost: full, rowIndex, colIndex, refreshEvery: Math.max(nodes, 1000) }
}

const output = (state: EmdState): EmdOutput => {
  const { net, problem, rowIndex, colIndex, fullCost } = state
  const { nS, nT, root, pred, flow, pi } = net
  const n = problem.geometry.rows
  const m = problem.geometry.cols
  refreshPotentials(net)
  // Basic source–sink arcs, and the mass left on artificial arcs.
  let basic = 0
  let unmatchedMass = 0
  for (let v = 0; v < root; v++) {
    if (pred[v]! >= 0) basic++
    else unmatchedMass += flow[v]!
  }
  const rows = new Int32Array(basic)
  const cols = new Int32Array(basic)
  const mass = Vector.zeros(basic)
  let k = 0
  let cost = 0
  for (let v = 0; v < root; v++) {
    const arc = pred[v]!
    if (arc < 0) continue
    const i = (arc / nT) | 0
    rows[k] = rowIndex[i]!
    cols[k] = colIndex[arc - i * nT]!
    mass[k] = flow[v]!
    if (flow[v]! !== 0) cost += flow[v]! * net.cost[arc]!
    k++
  }
  // Potentials: f_i = π_i, g_j = −π_j on active nodes; zero-mass nodes get
  // the tightest feasible value; then one shift makes aᵀf = bᵀg.
  const f = Vector.zeros(n)
  const g = Vector.zeros(m)
  const fSet = new Uint8Array(n)
  for (let i = 0; i < nS; i++) {
    f[rowIndex[i]!] = pi[i]!
    fSet[rowIndex[i]!] = 1
  }
  const gSet = new Uint8Array(m)
  for (let j = 0; j < nT; j++) {
    g[colIndex[j]!] = -pi[nS + j]!
    gSet[colIndex[j]!] = 1
  }
  if (nS < n) {
    for (let i = 0; i < n; i++) {
      if (fSet[i] === 1) continue
      let best = Number.POSITIVE_INFINITY
      for (let j = 0; j < m; j++) if (gSet[j] === 1) best = Math.min(best, fullCost[i * m + j]! - g[j]!)
      f[i] = Number.isFinite(best) ? best : 0
    }
  }
  if (nT < m) {
    for (let j = 0; j < m; j++) {
      if (gSet[j] === 1) continue
      let best = Number.POSITIVE_INFINITY
      for (let i = 0; i < n; i++) best = Math.min(best, fullCost[i * m + j]! - f[i]!)
      g[j] = Number.isFinite(best) ? best : 0
    }
  }
  let af = 0
  let bg = 0
  for (let i = 0; i < n; i++) af += problem.a[i]! * f[i]!
  for (let j = 0; j < m; j++) bg += problem.b[j]! * g[j]!
  const shift = (bg - af) / (problem.massA + problem.massB)
  for (let i = 0; i < n; i++) f[i]! += shift
  for (let j = 0; j < m; j++) g[j]! -= shift
  const transport: SparsePlan = { sourceCount: n, targetCount: m, rows, cols, mass }
  return {
    f,
    g,
    cost,
    transport,
    marginalErrors: [],
    marginalError: marginalError(transport, problem.a, problem.b),
    degeneratePivots: net.degeneratePivots,
    unmatchedMass,
    plan: () => toDense(transport)
  }
}

/**
 * Solves a balanced problem exactly (see the module comment).
 *
 * @example
 * const problem = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max" }), { a, b })
 * const { cost, f, g, transport } = Emd.solve(problem)
 * @throws UnbalancedMarginals for an unbalanced problem (finite ρ).
 * @throws InfeasibleTransport when forbidden pairs leave mass unmatched.
 * @throws InvalidOptions, DimensionMismatch, NonFiniteInput for bad options or warm starts.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: LinearProblem, options: EmdOptions = {}): EmdResult => {
  const { maxIterations, traceEvery } = checkOptions(options)
  const loop: Solver.LoopOptions<EmdState> = {
    maxIterations,
    traceEvery,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  }
  const run = Solver.run(solver, problem, options, loop)
  const { unmatchedMass, ...out } = run.output
  if (run.status === "converged" && unmatchedMass > 1e-10 * problem.massA) {
    throw new InfeasibleTransport({ operation: NAME, unmatchedMass })
  }
  return { ...out, status: run.status, iterations: run.iterations, trace: run.trace }
}
