/**
 * L-BFGS-B: limited-memory BFGS for a smooth f under box bounds
 * lower ≤ x ≤ upper (any side may be ±∞), written from the papers: R. H.
 * Byrd, P. Lu, J. Nocedal and C. Zhu, "A limited memory algorithm for bound
 * constrained optimization", SIAM J. Sci. Comput. 16(5), 1995 ("BLNZ"
 * below), with the compact representation of R. H. Byrd, J. Nocedal and
 * R. B. Schnabel, "Representations of quasi-Newton matrices and their use
 * in limited memory methods", Math. Prog. 63, 1994 ("BNS"), and the
 * subspace step of J. L. Morales and J. Nocedal, "Remark on Algorithm
 * 778", ACM TOMS 38(1), 2011. Each iteration:
 *
 * 1. The model mₖ(x) = f + gᵀ(x − xₖ) + ½(x − xₖ)ᵀB(x − xₖ) with the
 *    compact limited-memory matrix (BNS §2; BLNZ §3)
 *
 *      B = θI − W·M·Wᵀ,   W = [Y  θS],   M = [−D  Lᵀ; L  θSᵀS]⁻¹,
 *
 *    S, Y the n × k stored pairs sᵢ = xᵢ₊₁ − xᵢ, yᵢ = gᵢ₊₁ − gᵢ (oldest
 *    first, k ≤ m), D = diag(sᵢᵀyᵢ), L the strictly lower triangle of SᵀY,
 *    θ = yᵀy/sᵀy of the newest pair (θ = 1, B = I with no pairs). M is
 *    applied by block elimination with the Cholesky factor of the positive
 *    definite Schur complement θSᵀS + L·D⁻¹·Lᵀ.
 * 2. The generalized Cauchy point x^c: the first local minimizer of mₖ
 *    along the projected steepest-descent path x(t) = P(xₖ − t·g), found
 *    by visiting the breakpoints tᵢ where coordinates reach their bounds in
 *    increasing order (a binary heap) and updating the slope f' and
 *    curvature f'' of the model on each segment (BLNZ §4, Algorithm CP,
 *    with p = Wᵀd and c = Wᵀ(x(t) − xₖ) carried along).
 * 3. Subspace minimization over the variables F that are free at x^c, by
 *    the direct primal method (BLNZ §5.1): the reduced gradient
 *    r = Zᵀ(g + θ(x^c − xₖ) − W·M·c) and the Newton step
 *    dᵘ = −B̂⁻¹r of the reduced model, B̂ = ZᵀBZ = θI − ZᵀW·M·WᵀZ, inverted by
 *    the Sherman–Morrison–Woodbury formula (BLNZ §5.1)
 *
 *      B̂⁻¹ = (1/θ)I + (1/θ²)·ZᵀW·K⁻¹·WᵀZ,   K = M⁻¹ − (1/θ)·WᵀZZᵀW,
 *
 *    K a symmetric 2k × 2k saddle-point matrix solved by block elimination
 *    (two k × k Cholesky factorizations). The products of S and Y over F
 *    and its complement that K and WᵀZr need are kept from one iteration
 *    to the next and updated as pairs arrive and coordinates enter or leave
 *    F, so an iteration costs O(m·n) plus O(m²) per such change, not
 *    O(m²·n). Then x̄ = P(x^c + Z·dᵘ) (Morales
 *    & Nocedal); if d = x̄ − xₖ is not a descent direction, x̄ backtracks
 *    towards the Cauchy point, to x^c + α*·Z·dᵘ with α* ≤ 1 the largest
 *    feasible step (the truncated step of BLNZ §5.1).
 * 4. A line search along d = x̄ − xₖ whose largest step keeps xₖ + λd in
 *    the box: `LineSearch`'s Moré–Thuente search run step by step, with c₁
 *    = 1e-3, c₂ = 0.9, interval tolerance 0.1 and `maxLineSearchTrials`
 *    trials. The first trial is λ = 1 (the point x̄), except on the first
 *    iteration, where it is min(1/‖d‖₂, λ_max) unless every variable has
 *    two finite bounds (d is then steepest descent with B = I). Trial
 *    points are projected onto the box against rounding. A trial where f
 *    or ∇f is NaN or ±∞ shrinks the step (`LineSearch.moreThuenteReject`)
 *    and is never accepted.
 * 5. The pair (s, y) is stored, dropping the oldest when m are stored,
 *    unless sᵀy ≤ ε·yᵀy (BLNZ: a pair without enough positive curvature
 *    would make B nearly singular or indefinite).
 *
 * Stopping tests (defaults m = 10, ftol = 2.220446049250313e-9, gtol = 1e-5,
 * 20 trials per line search):
 *
 *   ‖P(x − g) − x‖∞ ≤ tolerance,   (fₖ − fₖ₊₁)/max(|fₖ|, |fₖ₊₁|, 1) ≤ functionTolerance.
 *
 * The step is taken when the search returns a strong Wolfe step, or ends
 * (largest feasible step, interval too small, rounding errors) at a finite
 * trial with sufficient decrease. Otherwise (trial budget spent, only
 * non-finite trials, no sufficient decrease) the iterate is kept and the
 * memory emptied (a restart along the projected steepest descent);
 * if the memory was already empty the run ends as `stalled`. A singular
 * reduced matrix K (possible only through rounding) also empties the memory.
 * A start outside the box is projected onto it and the result says so
 * (`projectedStart`).
 *
 * @since 0.1.0
 */
import {
  Blas1,
  Blas2,
  Blas3,
  BoxKernels,
  Elementwise,
  Matrix,
  Objective,
  type Solver,
  Vector
} from "@descent/core"
import { smallDecrease } from "./internal/smooth.ts"
import { requireNonNegative, requirePositiveInteger } from "./internal/validate.ts"
import {
  armijo,
  defaultMoreThuenteOptions,
  type MoreThuenteOptions,
  moreThuenteOptions,
  moreThuenteReject,
  moreThuenteStart,
  moreThuenteUpdate,
  type Termination
} from "./LineSearch.ts"
import {
  checkStart,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  makeBounds,
  projectOntoBounds,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"

/**
 * Options of L-BFGS-B.
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsBOptions extends MinimizeOptions {
  /** Lower bounds: one number for every coordinate, or one per coordinate (−∞ = none). Default −∞. */
  readonly lower?: number | ArrayLike<number>
  /** Upper bounds: one number for every coordinate, or one per coordinate (+∞ = none). Default +∞. */
  readonly upper?: number | ArrayLike<number>
  /** m, the number of correction pairs kept (an integer ≥ 1). Default 10. */
  readonly memory?: number
  /** Stop when the projected gradient's ∞-norm is ≤ this (≥ 0). Default 1e-5. */
  readonly tolerance?: number
  /** Stop when the relative decrease of f is ≤ this (≥ 0). Default 2.220446049250313e-9. */
  readonly functionTolerance?: number
  /** Function evaluations per line search (an integer ≥ 1). Default 20. */
  readonly maxLineSearchTrials?: number
  /** Iteration budget. Default 15000 in `minimize`. */
  readonly maxIterations?: number
}

/**
 * Defaults of `LbfgsBOptions` (the documented defaults of the L-BFGS-B code
 * as SciPy exposes it: maxcor, ftol, gtol, maxls, maxiter).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultLbfgsBOptions = {
  maxIterations: 15000,
  memory: 10,
  tolerance: 1e-5,
  functionTolerance: 2.220446049250313e-9,
  maxLineSearchTrials: 20
} as const

/**
 * The problem: an objective, a starting point and the bounds (bounds given
 * here take precedence over `LbfgsBOptions.lower` / `upper`).
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsBProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
  readonly lower?: number | ArrayLike<number>
  readonly upper?: number | ArrayLike<number>
}

/**
 * An L-BFGS-B result: `MinimizeResult` (with `gradientNorm` the projected
 * gradient's ∞-norm) plus facts about the bounds.
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsBResult extends MinimizeResult {
  /** True when x0 was outside the box and was projected onto it. */
  readonly projectedStart: boolean
  /** Coordinates of x at a (finite) bound. */
  readonly activeBounds: number
  /** Correction pairs skipped because sᵀy was not positive enough. */
  readonly skippedUpdates: number
  /** Times the memory was emptied (failed line search or singular reduced matrix). */
  readonly restarts: number
}

/**
 * L-BFGS-B output (before `runSolver` adds status, iterations and trace).
 *
 * @category models
 * @since 0.1.0
 */
export type LbfgsBOutput = SolverOutput & Omit<LbfgsBResult, keyof MinimizeResult>

/**
 * L-BFGS-B state; `step` mutates its buffers.
 *
 * The pairs live in a ring of m rows: pair a (0 = oldest) is row
 * (`head` + a) mod m of `s` and `y`. `sy` and `ss` hold the inner
 * products sᵢᵀyⱼ (i newer than or equal to j) and sᵢᵀsⱼ indexed by ring row
 * (m × m, row-major); `packed`, `freeGram` and `fixedGram` hold the same
 * pairs for the subspace step (see there). The
 * small matrices of one iteration (`diagonal` D, `lowerSY` L, the Cholesky
 * factors `middle` of θSᵀS + LD⁻¹Lᵀ, `reducedE` and `reducedSchur` of K's
 * blocks, `reducedG`, `scratch`) use the leading k × k block of m × m
 * row-major arrays, in pair order.
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsBState {
  readonly objective: Objective.MeteredObjective
  readonly n: number
  /** m, the most pairs kept. */
  readonly memory: number
  readonly lower: Float64Array
  readonly upper: Float64Array
  /** Whether every variable has two finite bounds. */
  readonly boxed: boolean
  readonly projectedStart: boolean
  readonly tolerance: number
  readonly functionTolerance: number
  readonly maxTrials: number
  readonly lineSearch: Required<MoreThuenteOptions>
  x: Float64Array
  gradient: Float64Array
  value: number
  /** ‖P(x − g) − x‖∞. */
  gradientNorm: number
  xTrial: Float64Array
  gradientTrial: Float64Array
  /** x^c after the Cauchy step. */
  readonly cauchyPoint: Float64Array
  /** The path direction d of the Cauchy step (−gᵢ while coordinate i moves). */
  readonly pathDirection: Float64Array
  /** t^c, where the Cauchy path stops. */
  cauchyTime: number
  /** λ_max: the largest λ with lower ≤ x + λ·direction ≤ upper (≥ 1 up to rounding: x̄ is feasible). */
  maxStep: number
  /** The search direction x̄ − x. */
  readonly direction: Float64Array
  /** Scratch n-vectors of the subspace step, indexed like `order` (θ·dᵘ and a = g + θ(x^c − x) on F). */
  readonly work: Float64Array
  readonly reducedGradient: Float64Array
  /** Breakpoint tᵢ per coordinate (∞: none), and the heap of coordinates not yet passed. */
  readonly breakpoints: Float64Array
  /** The slope gᵀd at t = 0 and the first breakpoint (`BoxKernels.cauchyBreakpoints`). */
  readonly cauchySummary: Float64Array
  readonly heap: Int32Array
  /** 1 for the coordinates free at x^c, 0 for the others (kept by `partitionFree`). */
  readonly freeMask: Float64Array
  /** Coordinates by row of `packed`: the free ones at x^c (first `freeCount`), then the others. */
  readonly order: Int32Array
  /** The row of each coordinate in `packed` (the inverse of `order`). */
  readonly position: Int32Array
  freeCount: number
  /** V = [Y S] by rows in `order` (n × 2m row-major; column r: yᵣ, column m + r: sᵣ by ring row). */
  readonly packed: Float64Array
  /** The ring rows of S and Y (swapped with `sNew`, `yNew` as pairs arrive). */
  readonly s: Float64Array[]
  readonly y: Float64Array[]
  /** The candidate pair of `storePair`. */
  sNew: Float64Array
  yNew: Float64Array
  readonly sy: Float64Array
  readonly ss: Float64Array
  /** VᵀPV and Vᵀ(I − P)V (2m × 2m), P the projection on the free coordinates. */
  readonly freeGram: Matrix.Matrix
  readonly fixedGram: Matrix.Matrix
  /** Scratch: a new pair in the row order of `packed`, and columns of 2m. */
  readonly gatherY: Float64Array
  readonly gatherS: Float64Array
  readonly gramColumn: Float64Array
  readonly gramColumnS: Float64Array
  readonly gramColumnFixed: Float64Array
  /** Scratch: coordinates whose membership of F changed (`BoxKernels.cauchyPointComplete`). */
  readonly moved: Float64Array
  /** Coordinate moves applied to the products since their last full recomputation. */
  movesSinceRefresh: number
  readonly diagonal: Float64Array
  readonly lowerSY: Float64Array
  readonly middle: Float64Array
  readonly reducedE: Float64Array
  readonly reducedG: Float64Array
  readonly reducedSchur: Float64Array
  readonly scratch: Float64Array
  /** Vectors of length 2m: p = Wᵀd, c = Wᵀ(x(t) − x), w_b, and solve results. */
  readonly p: Float64Array
  readonly c: Float64Array
  readonly wb: Float64Array
  readonly v: Float64Array
  readonly u: Float64Array
  readonly q: Float64Array
  readonly tmp: Float64Array
  theta: number
  /** Pairs stored (k). */
  pairs: number
  head: number
  /** The ring row of pair a, (head + a) mod m, for a < k. */
  readonly ringRow: Int32Array
  /** Whether an iteration has completed (the first line search starts differently). */
  started: boolean
  skippedUpdates: number
  restarts: number
  lineSearchTrials: number
  end: "converged" | "stalled" | "diverged" | undefined
  /** How the last failed line search ended ("nonFinite" makes a final failure `diverged`). */
  lastFailure: Termination | undefined
  message: string | undefined
}

const NAME = "LbfgsB"

// ---------------------------------------------------------------------------
// Dense algebra on the leading k × k block of an m × m row-major array. No
// kernel takes a leading dimension, so these are short loops bounded by k ≤ m.

/** Cholesky CCᵀ of the leading k × k block, in its lower triangle; false unless positive definite. */
const choleskyLeading = (a: Float64Array, m: number, k: number): boolean => {
  for (let j = 0; j < k; j++) {
    let pivot = a[j * m + j]!
    for (let p = 0; p < j; p++) pivot -= a[j * m + p]! * a[j * m + p]!
    if (!(pivot > 0) || !Number.isFinite(pivot)) return false
    const cjj = Math.sqrt(pivot)
    a[j * m + j] = cjj
    for (let i = j + 1; i < k; i++) {
      let s = a[i * m + j]!
      for (let p = 0; p < j; p++) s -= a[i * m + p]! * a[j * m + p]!
      a[i * m + j] = s / cjj
    }
  }
  return true
}

/** b[o..o+k) ← C⁻¹ b (forward substitution with the lower factor C). */
const forwardLeading = (c: Float64Array, m: number, k: number, b: Float64Array, o: number): void => {
  for (let i = 0; i < k; i++) {
    let s = b[o + i]!
    for (let p = 0; p < i; p++) s -= c[i * m + p]! * b[o + p]!
    b[o + i] = s / c[i * m + i]!
  }
}

/** b[o..o+k) ← (CCᵀ)⁻¹ b. */
const choleskySolveLeading = (c: Float64Array, m: number, k: number, b: Float64Array, o: number): void => {
  forwardLeading(c, m, k, b, o)
  for (let i = k - 1; i >= 0; i--) {
    let s = b[o + i]!
    for (let p = i + 1; p < k; p++) s -= c[p * m + i]! * b[o + p]!
    b[o + i] = s / c[i * m + i]!
  }
}

/** Σ_{a < len} u[a]·v[a]. */
const dotLeading = (u: Float64Array, v: Float64Array, len: number): number => {
  let s = 0
  for (let a = 0; a < len; a++) s += u[a]! * v[a]!
  return s
}

/** Ring row of pair a (0 = oldest; a < k). */
const slotOf = (state: LbfgsBState, a: number): number => state.ringRow[a]!

// ---------------------------------------------------------------------------
// The compact representation (BNS)

/**
 * D, L and the Cholesky factor of θSᵀS + L·D⁻¹·Lᵀ, the Schur complement of
 * −D in M⁻¹ = [−D Lᵀ; L θSᵀS]. False when it is not numerically positive
 * definite.
 */
const formMiddle = (state: LbfgsBState): boolean => {
  const { memory: m, pairs: k, theta, sy, ss, diagonal: D, lowerSY: L, middle: T } = state
  for (let a = 0; a < k; a++) {
    const sa = slotOf(state, a)
    D[a] = sy[sa * m + sa]!
    for (let b = 0; b < k; b++) L[a * m + b] = a > b ? sy[sa * m + slotOf(state, b)]! : 0
  }
  for (let a = 0; a < k; a++) {
    const sa = slotOf(state, a)
    for (let b = 0; b <= a; b++) {
      let t = theta * ss[sa * m + slotOf(state, b)]!
      for (let e = 0; e < b; e++) t += (L[a * m + e]! * L[b * m + e]!) / D[e]!
      T[a * m + b] = t
    }
  }
  return choleskyLeading(T, m, k)
}

/**
 * out ← M·u for u, out of length 2k (not aliased): solves
 * [−D Lᵀ; L θSᵀS]·[a; b] = [u₁; u₂] by b = T⁻¹(u₂ + L·D⁻¹u₁), a = D⁻¹(Lᵀb − u₁).
 */
const applyMiddle = (state: LbfgsBState, u: Float64Array, out: Float64Array): void => {
  const { memory: m, pairs: k, diagonal: D, lowerSY: L, middle: T } = state
  for (let a = 0; a < k; a++) {
    let s = u[k + a]!
    for (let e = 0; e < a; e++) s += (L[a * m + e]! * u[e]!) / D[e]!
    out[k + a] = s
  }
  choleskySolveLeading(T, m, k, out, k)
  for (let a = 0; a < k; a++) {
    let s = -u[a]!
    for (let e = a + 1; e < k; e++) s += L[e * m + a]! * out[k + e]!
    out[a] = s / D[a]!
  }
}

/** out ← Wᵀz (length 2k) for an n-vector z. */
const applyWt = (state: LbfgsBState, z: Float64Array, out: Float64Array): void => {
  const k = state.pairs
  for (let a = 0; a < k; a++) {
    const slot = slotOf(state, a)
    out[a] = Blas1.dot(state.y[slot]!, z)
    out[k + a] = state.theta * Blas1.dot(state.s[slot]!, z)
  }
}

/** Row b of W (length 2k). */
const rowOfW = (state: LbfgsBState, b: number, out: Float64Array): void => {
  const k = state.pairs
  for (let a = 0; a < k; a++) {
    const slot = slotOf(state, a)
    out[a] = state.y[slot]![b]!
    out[k + a] = state.theta * state.s[slot]![b]!
  }
}

// ---------------------------------------------------------------------------
// The breakpoint heap (a binary min-heap of coordinates keyed by tᵢ)

const siftDown = (heap: Int32Array, count: number, key: Float64Array, start: number): void => {
  let i = start
  const item = heap[i]!
  const t = key[item]!
  for (let child = 2 * i + 1; child < count; child = 2 * i + 1) {
    if (child + 1 < count && key[heap[child + 1]!]! < key[heap[child]!]!) child++
    if (!(key[heap[child]!]! < t)) break
    heap[i] = heap[child]!
    i = child
  }
  heap[i] = item
}

/** Removes the smallest entry (heap[0]) and returns the new count. */
const popHeap = (heap: Int32Array, count: number, key: Float64Array): number => {
  const last = count - 1
  heap[0] = heap[last]!
  if (last > 0) siftDown(heap, last, key, 0)
  return last
}

// ---------------------------------------------------------------------------
// The generalized Cauchy point (BLNZ §4)

/**
 * x^c into `cauchyPoint` (but for the coordinates still moving at t^c, left
 * to `partitionFree`, which visits every coordinate anyway), c = Wᵀ(x^c − x)
 * into `c`. Along x(t) = P(x − tg)
 * the model is a quadratic on each segment between breakpoints, with slope
 * f' = gᵀd + θdᵀz − pᵀMc and curvature f'' = θdᵀd − pᵀMp (z = x(t) − x,
 * p = Wᵀd). When coordinate b reaches its bound at t_b (BLNZ §4, Algorithm CP):
 *
 *   c ← c + Δt·p,
 *   f' ← f' + Δt·f'' + g_b² + θ·g_b·z_b − g_b·w_bᵀMc,
 *   f'' ← f'' − θ·g_b² − 2g_b·w_bᵀMp − g_b²·w_bᵀMw_b,
 *   p ← p + g_b·w_b,   d_b ← 0,
 *
 * and the first segment whose minimizer −f'/f'' comes before its end holds x^c.
 */
const cauchyStep = (state: LbfgsBState): void => {
  const { n, x, gradient: g, lower, upper, cauchyPoint: xc, pathDirection: d, breakpoints: key, heap } = state
  const { pairs: k, theta, p, c, wb, v } = state
  Blas1.copy(x, xc)
  // tᵢ: where xᵢ − t·gᵢ reaches the bound it moves towards (key ∞ for none,
  // and for the coordinates that do not move: dᵢ = 0).
  const summary = state.cauchySummary
  BoxKernels.cauchyBreakpoints(x, g, lower, upper, d, key, summary)
  let slope = summary[0]!
  const firstBreakpoint = summary[1]!
  for (let a = 0; a < 2 * k; a++) c[a] = 0
  state.cauchyTime = 0
  if (slope === 0) return
  applyWt(state, d, p)
  // f'' = dᵀBd = θdᵀd − pᵀMp > 0 for B positive definite; kept above
  // ε·θ·‖d₀‖² against cancellation.
  const curvatureFloor = Number.EPSILON * -theta * slope
  let curvature = -theta * slope
  if (k > 0) {
    applyMiddle(state, p, v)
    curvature -= dotLeading(p, v, 2 * k)
  }
  if (!(curvature >= curvatureFloor)) curvature = curvatureFloor
  let tOld = 0
  let dtMin = -slope / curvature
  // The heap only when the minimizer may lie past the first breakpoint (the
  // loop below would stop at once otherwise: most iterations).
  let count = 0
  if (!(dtMin < firstBreakpoint)) {
    for (let i = 0; i < n; i++) {
      // Without a branch: whether tᵢ < ∞ does not follow a pattern.
      heap[count] = i
      count += +(key[i]! < Number.POSITIVE_INFINITY)
    }
    for (let i = (count >> 1) - 1; i >= 0; i--) siftDown(heap, count, key, i)
  }
  while (count > 0) {
    const b = heap[0]!
    const dt = key[b]! - tOld
    if (dtMin < dt) break
    count = popHeap(heap, count, key)
    const gb = g[b]!
    xc[b] = gb > 0 ? lower[b]! : upper[b]!
    const zb = xc[b]! - x[b]!
    for (let a = 0; a < 2 * k; a++) c[a] = c[a]! + dt * p[a]!
    let wMc = 0
    let wMp = 0
    let wMw = 0
    if (k > 0) {
      rowOfW(state, b, wb)
      applyMiddle(state, wb, v)
      wMc = dotLeading(v, c, 2 * k)
      wMp = dotLeading(v, p, 2 * k)
      wMw = dotLeading(v, wb, 2 * k)
    }
    slope += dt * curvature + gb * gb + theta * gb * zb - gb * wMc
    curvature += -theta * gb * gb - 2 * gb * wMp - gb * gb * wMw
    if (!(curvature >= curvatureFloor)) curvature = curvatureFloor
    for (let a = 0; a < 2 * k; a++) p[a] = p[a]! + gb * wb[a]!
    d[b] = 0
    tOld = key[b]!
    if (slope >= 0) {
      dtMin = 0
      break
    }
    dtMin = -slope / curvature
  }
  if (!(dtMin > 0)) dtMin = 0
  // Coordinates still moving stop at t^c = t_old + Δt* (set by `partitionFree`).
  state.cauchyTime = tOld + dtMin
  for (let a = 0; a < 2 * k; a++) c[a] = c[a]! + dtMin * p[a]!
}

// ---------------------------------------------------------------------------
// Subspace minimization (BLNZ §5.1, Morales & Nocedal 2011)
//
// The step needs products of W's columns over the free set F (P = ZZᵀ the
// projection on F) and over its complement. Summing them afresh costs
// O(m²·n) per iteration; they are kept up to date instead, in two Gram
// matrices of V = [Y S] (n × 2m, columns by ring row: yᵣ in column r, sᵣ in
// column m + r): `freeGram` = VᵀPV and `fixedGram` = Vᵀ(I − P)V.
//
// `packed` holds V's rows contiguously, ordered so that the rows of the free
// coordinates come first (`order[p]` is the coordinate of row p, `position`
// the inverse): the sums over F or its complement are then core's SIMD
// matrix–vector products over a block of rows. A new pair fills its two
// columns and its rows and columns of the Gram matrices (O(m·n)); a
// coordinate entering or leaving F adds or removes its rank-one term
// (O(m²), `moveCoordinate`) and moves its row to the other block. The
// rounding of those updates accumulates, so both Gram matrices are summed
// afresh (`refreshProducts`) once more than n coordinates have moved since
// the last time, or when one iteration moves more than n/8 (then a fresh sum
// is cheaper). Only the blocks that are read are updated as coordinates
// move: YᵀPY, SᵀPY, SᵀPS of `freeGram` and Sᵀ(I − P)S of `fixedGram` (its
// SᵀY block is read only in the row of a pair just stored, which
// `pairProducts` has just summed). The other blocks, and unused columns
// (k < m), hold stale finite values that are never read.

/**
 * Entries [from, to) of x as a view. Made with the constructor: `subarray`
 * of core's WebAssembly arrays records each view's parent (a WeakMap entry
 * per call), too slow for a few views per iteration; the state keeps the
 * parents alive.
 */
const view = (x: Float64Array, from: number, to: number): Float64Array =>
  new Float64Array(x.buffer, x.byteOffset + from * Float64Array.BYTES_PER_ELEMENT, to - from)

/** The rows [from, to) of `packed` as a matrix (a view). */
const packedRows = (state: LbfgsBState, from: number, to: number): Matrix.Matrix => {
  const w = 2 * state.memory
  return { rows: to - from, cols: w, data: view(state.packed, from * w, to * w) }
}

/** Both Gram matrices afresh from the row blocks of `packed`. */
const refreshProducts = (state: LbfgsBState): void => {
  const { n, freeCount: f, freeGram, fixedGram } = state
  const free = packedRows(state, 0, f)
  const fixed = packedRows(state, f, n)
  Blas3.gemm(true, false, 1, free, free, 0, freeGram)
  Blas3.gemm(true, false, 1, fixed, fixed, 0, fixedGram)
  state.movesSinceRefresh = 0
}

/** Swaps rows p and q of `packed` with their coordinates. */
const swapRows = (state: LbfgsBState, p: number, q: number, moveData: boolean): void => {
  if (p === q) return
  const { order, position, packed } = state
  const i = order[p]!
  const j = order[q]!
  order[p] = j
  order[q] = i
  position[j] = p
  position[i] = q
  if (!moveData) return
  const w = 2 * state.memory
  for (let c = 0; c < w; c++) {
    const t = packed[p * w + c]!
    packed[p * w + c] = packed[q * w + c]!
    packed[q * w + c] = t
  }
}

/**
 * Coordinate i enters F or leaves it: its row moves to the other block
 * (its data only when `moveData`) and, when `update`, its rank-one term
 * vᵢvᵢᵀ moves between the Gram matrices.
 */
const moveCoordinate = (state: LbfgsBState, i: number, moveData: boolean, update: boolean): void => {
  const { packed, position } = state
  const w = 2 * state.memory
  const entering = position[i]! >= state.freeCount
  if (update) {
    // Only the blocks that are read: YᵀPY, SᵀPY, SᵀPS and Sᵀ(I − P)S.
    const m = state.memory
    const freeGram = state.freeGram.data
    const fixedGram = state.fixedGram.data
    const row = position[i]! * w
    const sign = entering ? 1 : -1
    for (let a = 0; a < m; a++) {
      const va = sign * packed[row + a]!
      for (let b = 0; b < m; b++) freeGram[a * w + b] = freeGram[a * w + b]! + va * packed[row + b]!
    }
    for (let a = m; a < w; a++) {
      const va = sign * packed[row + a]!
      for (let b = 0; b < m; b++) freeGram[a * w + b] = freeGram[a * w + b]! + va * packed[row + b]!
      for (let b = m; b < w; b++) {
        const t = va * packed[row + b]!
        freeGram[a * w + b] = freeGram[a * w + b]! + t
        fixedGram[a * w + b] = fixedGram[a * w + b]! - t
      }
    }
  }
  if (entering) {
    swapRows(state, position[i]!, state.freeCount, moveData)
    state.freeCount++
  } else {
    state.freeCount--
    swapRows(state, position[i]!, state.freeCount, moveData)
  }
}

/**
 * Completes x^c (the coordinates still moving stop at t^c, projected
 * against rounding), writes x^c − x into `direction`, makes F the set of
 * coordinates strictly inside their bounds at x^c and brings the Gram
 * matrices to it. With no pairs only the order changes: every column is
 * rewritten when a pair arrives.
 */
const partitionFree = (state: LbfgsBState): void => {
  const { n, x, lower, upper, cauchyPoint: xc, pathDirection: d, direction, moved } = state
  const isFree = state.freeMask
  // `isFree` holds F before the call (`position`'s order), after it F at x^c.
  const moves = BoxKernels.cauchyPointComplete(
    x,
    d,
    state.cauchyTime,
    lower,
    upper,
    xc,
    direction,
    isFree,
    moved
  )
  if (moves === 0) return
  const stored = state.pairs > 0
  state.movesSinceRefresh += moves
  const refresh = stored && (state.movesSinceRefresh > n || 8 * moves > n)
  for (let j = 0; j < moves; j++) moveCoordinate(state, moved[j]!, stored, stored && !refresh)
  if (refresh) refreshProducts(state)
}

/**
 * The columns of a pair just stored in ring row `slot` (s, y the new pair):
 * writes them into `packed` and their rows and columns of both Gram
 * matrices.
 */
const pairProducts = (state: LbfgsBState, slot: number, s: Float64Array, y: Float64Array): void => {
  const { n, memory: m, order, freeCount: f, gatherY, gatherS } = state
  const w = 2 * m
  for (let p = 0; p < n; p++) {
    const i = order[p]!
    gatherY[p] = y[i]!
    gatherS[p] = s[i]!
  }
  // VᵀPy, VᵀPs and Vᵀ(I − P)s, with the new columns stored, in one pass over
  // V. Vᵀ(I − P)y is never read (H needs the s columns of the complement, L
  // and D sᵢᵀyⱼ = sᵢᵀPyⱼ + sᵢᵀ(I − P)yⱼ).
  const freeY = state.gramColumn
  const freeS = state.gramColumnS
  const fixedS = state.gramColumnFixed
  const all = { rows: n, cols: w, data: state.packed }
  Blas2.storeColumnsGemvT(all, slot, m + slot, gatherY, gatherS, f, freeY, freeS, fixedS)
  for (let which = 0; which < 3; which++) {
    const column = which === 0 ? freeY : which === 1 ? freeS : fixedS
    const c = which === 0 ? slot : m + slot
    const gram = which === 2 ? state.fixedGram.data : state.freeGram.data
    for (let a = 0; a < w; a++) {
      gram[a * w + c] = column[a]!
      gram[c * w + a] = column[a]!
    }
  }
}

/**
 * The blocks of K = M⁻¹ − (1/θ)WᵀPW:
 *
 *   K = [−E  Gᵀ; G  H],   E = D + YᵀPY/θ,   G = L − SᵀPY,   H = θ·Sᵀ(I − P)S,
 *
 * factored as E = R·Rᵀ and H + G·E⁻¹·Gᵀ = V·Vᵀ (Cholesky). False when a
 * factor does not exist numerically.
 */
const formReduced = (state: LbfgsBState): boolean => {
  const { memory: m, pairs: k, theta } = state
  const { diagonal: D, lowerSY: L, reducedE: E, reducedG: G, reducedSchur: U, scratch: F } = state
  const free = state.freeGram.data
  const fixed = state.fixedGram.data
  const w = 2 * m
  for (let a = 0; a < k; a++) {
    const ra = slotOf(state, a)
    for (let b = 0; b < k; b++) {
      const rb = slotOf(state, b)
      E[a * m + b] = (a === b ? D[a]! : 0) + free[ra * w + rb]! / theta
      G[a * m + b] = L[a * m + b]! - free[(m + ra) * w + rb]!
      U[a * m + b] = theta * fixed[(m + ra) * w + m + rb]!
    }
  }
  if (!choleskyLeading(E, m, k)) return false
  // F = R⁻¹Gᵀ column by column (column j of Gᵀ is row j of G), then U = H + FᵀF.
  const col = state.tmp
  for (let j = 0; j < k; j++) {
    for (let a = 0; a < k; a++) col[a] = G[j * m + a]!
    forwardLeading(E, m, k, col, 0)
    for (let a = 0; a < k; a++) F[a * m + j] = col[a]!
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      let t = U[a * m + b]!
      for (let e = 0; e < k; e++) t += F[e * m + a]! * F[e * m + b]!
      U[a * m + b] = t
    }
  }
  return choleskyLeading(U, m, k)
}

const solveReduced = (state: LbfgsBState, u: Float64Array, out: Float64Array): void => {
  const { memory: m, pairs: k, reducedE: E, reducedG: G, reducedSchur: U, tmp: z } = state
  for (let a = 0; a < k; a++) z[a] = u[a]!
  choleskySolveLeading(E, m, k, z, 0)
  for (let a = 0; a < k; a++) {
    let t = u[k + a]!
    for (let e = 0; e < k; e++) t += G[a * m + e]! * z[e]!
    out[k + a] = t
  }
  choleskySolveLeading(U, m, k, out, k)
  for (let a = 0; a < k; a++) {
    let t = -u[a]!
    for (let e = 0; e < k; e++) t += G[e * m + a]! * out[k + e]!
    out[a] = t
  }
  choleskySolveLeading(E, m, k, out, 0)
}

/** out ← WᵀPW·v (pair order, length 2k; WᵀPW = [YᵀPY θYᵀPS; θSᵀPY θ²SᵀPS] from `freeGram`). */
const applyFreeGram = (state: LbfgsBState, v: Float64Array, out: Float64Array): void => {
  const { memory: m, pairs: k, theta } = state
  const gram = state.freeGram.data
  const w = 2 * m
  for (let a = 0; a < k; a++) {
    const ra = slotOf(state, a)
    let ty = 0
    let ts = 0
    for (let b = 0; b < k; b++) {
      const rb = slotOf(state, b)
      // yₐᵀPsᵦ from the SᵀPY block (the YᵀPS block is not kept up to date).
      ty += gram[ra * w + rb]! * v[b]! + theta * gram[(m + rb) * w + ra]! * v[k + b]!
      ts += gram[(m + ra) * w + rb]! * v[b]! + theta * gram[(m + ra) * w + m + rb]! * v[k + b]!
    }
    out[a] = ty
    out[k + a] = theta * ts
  }
}

/**
 * x̄ on F (pairs stored, F not empty). False when K is singular.
 *
 * With a = g + θ(x^c − x) and v = M·c, the reduced gradient is r = Zᵀ(a −
 * W·v) and dᵘ = −B̂⁻¹r = −(1/θ)(r + (1/θ)·ZᵀW·q), q = K⁻¹WᵀZr (BLNZ §5.1,
 * by SMW). Through the Gram matrices, WᵀZr = WᵀPa − WᵀPW·v and
 * θ·dᵘ = −Zᵀa + ZᵀW(v − q/θ): one product with the free rows of V each way.
 */
const reducedStep = (state: LbfgsBState): boolean => {
  const { memory: m, x, gradient: g, lower, upper, cauchyPoint: xc, direction, order, theta } = state
  const k = state.pairs
  const free = state.freeCount
  if (!formReduced(state)) return false
  const { c, v, u, q, tmp, gramColumn: column } = state
  const a = view(state.reducedGradient, 0, free)
  const du = view(state.work, 0, free)
  for (let p = 0; p < free; p++) {
    const i = order[p]!
    a[p] = g[i]! + theta * (xc[i]! - x[i]!)
  }
  const rows = packedRows(state, 0, free)
  applyMiddle(state, c, v)
  // u = WᵀPa − WᵀPW·v.
  Blas2.gemvT(1, rows, a, 0, column)
  applyFreeGram(state, v, tmp)
  for (let e = 0; e < k; e++) {
    const r = slotOf(state, e)
    u[e] = column[r]! - tmp[e]!
    u[k + e] = theta * column[m + r]! - tmp[k + e]!
  }
  solveReduced(state, u, q)
  // The coefficients of v − q/θ on V's columns (W = [Y θS]); unused columns 0.
  column.fill(0)
  for (let e = 0; e < k; e++) {
    const r = slotOf(state, e)
    column[r] = v[e]! - q[e]! / theta
    column[m + r] = theta * (v[k + e]! - q[k + e]! / theta)
  }
  for (let p = 0; p < free; p++) du[p] = -a[p]!
  Blas2.gemv(1, rows, column, 1, du)
  // du[p] = θ·dᵘ for coordinate order[p].
  for (let p = 0; p < free; p++) {
    const i = order[p]!
    const target = xc[i]! + du[p]! / theta
    direction[i] = Math.min(Math.max(target, lower[i]!), upper[i]!) - x[i]!
  }
  if (!(Blas1.dot(g, direction) < 0)) {
    // Morales & Nocedal: the projection is no descent direction; back
    // towards x^c, to the largest feasible fraction α* ≤ 1 of dᵘ.
    let alpha = 1
    for (let p = 0; p < free; p++) {
      const i = order[p]!
      const di = du[p]! / theta
      if (di > 0 && xc[i]! + alpha * di > upper[i]!) alpha = (upper[i]! - xc[i]!) / di
      else if (di < 0 && xc[i]! + alpha * di < lower[i]!) alpha = (lower[i]! - xc[i]!) / di
    }
    if (!(alpha > 0)) alpha = 0
    for (let p = 0; p < free; p++) {
      const i = order[p]!
      direction[i] = xc[i]! + (alpha * du[p]!) / theta - x[i]!
    }
  }
  return true
}

/**
 * x̄ into `direction` as d = x̄ − x, and λ_max into `maxStep`. With no pairs
 * B = I and x^c already minimizes the model on its face, so x̄ = x^c. False
 * when K is singular.
 */
const subspaceStep = (state: LbfgsBState): boolean => {
  const { x, lower, upper, direction } = state
  partitionFree(state)
  if (state.pairs > 0 && state.freeCount > 0 && !reducedStep(state)) return false
  // λ_max over every coordinate, in one contiguous pass (a minimum: the same
  // value as over F and its complement separately).
  state.maxStep = BoxKernels.maxFeasibleStep(x, direction, lower, upper, defaultMoreThuenteOptions.maxStep)
  return true
}

// ---------------------------------------------------------------------------
// Memory

const resetMemory = (state: LbfgsBState): void => {
  state.pairs = 0
  state.head = 0
  state.theta = 1
}

/**
 * Stores s = x₊ − x, y = g₊ − g (x₊, g₊ in `x`, `gradient`; x, g in the
 * trial buffers after the swap) unless sᵀy ≤ ε·yᵀy; updates the inner
 * products, θ and the middle matrix.
 */
const storePair = (state: LbfgsBState): void => {
  const { memory: m, sy, ss } = state
  const sNew = state.sNew
  const yNew = state.yNew
  Elementwise.sub(state.x, state.xTrial, sNew)
  Elementwise.sub(state.gradient, state.gradientTrial, yNew)
  const sTy = Blas1.dot(sNew, yNew)
  const yTy = Blas1.dot(yNew, yNew)
  if (!(sTy > Number.EPSILON * yTy)) {
    state.skippedUpdates++
    return
  }
  let slot: number
  if (state.pairs < m) {
    slot = (state.head + state.pairs) % m
    state.pairs++
  } else {
    slot = state.head
    state.head = (state.head + 1) % m
  }
  for (let a = 0; a < state.pairs; a++) state.ringRow[a] = (state.head + a) % m
  // The new pair takes the buffers; the ring row's old buffers become scratch.
  state.sNew = state.s[slot]!
  state.yNew = state.y[slot]!
  state.s[slot] = sNew
  state.y[slot] = yNew
  pairProducts(state, slot, sNew, yNew)
  // sᵢᵀyⱼ of the new s (L and D read only i newer than or equal to j) and
  // sᵢᵀsⱼ: the sums over F and over its complement.
  const free = state.freeGram.data
  const fixed = state.fixedGram.data
  const w = 2 * m
  for (let a = 0; a < state.pairs; a++) {
    const j = slotOf(state, a)
    const sRow = (m + slot) * w
    sy[slot * m + j] = j === slot ? sTy : free[sRow + j]! + fixed[sRow + j]!
    const sts = free[sRow + m + j]! + fixed[sRow + m + j]!
    ss[slot * m + j] = sts
    ss[j * m + slot] = sts
  }
  state.theta = yTy / sTy
  if (!formMiddle(state)) {
    resetMemory(state)
    state.restarts++
  }
}

// ---------------------------------------------------------------------------
// One iteration

/**
 * Search ends other than a strong Wolfe step that still give a step to take
 * when the trial decreases f sufficiently: the largest feasible step, and
 * an interval that can shrink no further. (A spent trial budget does not:
 * its last trial is no better than any other.)
 */
const ACCEPTABLE_WARNINGS: ReadonlySet<Termination> = new Set<Termination>([
  "stepAtMaximum",
  "intervalTooSmall",
  "roundingErrors"
])

/** Steps 2–5 of the module comment; returns why it failed, or undefined after a step. */
const iterate = (state: LbfgsBState): string | undefined => {
  cauchyStep(state)
  if (!subspaceStep(state)) return "the reduced matrix of the subspace step is singular"
  const { x, gradient: g, lower, upper, direction: d } = state
  const slope = Blas1.dot(g, d)
  if (!(slope < 0)) {
    return `no descent direction for the line search (gᵀd = ${slope.toExponential(2)}, projected gradient norm ${state.gradientNorm.toExponential(2)})`
  }
  const maxStep = state.maxStep
  if (!(maxStep > 0)) return `line search impossible: no feasible step along d (λ_max = ${maxStep})`
  const first = !state.started && !state.boxed ? 1 / Blas1.nrm2(d) : 1
  const options = { ...state.lineSearch, maxStep }
  let search = moreThuenteStart(state.value, slope, Math.min(first, maxStep), options)
  const xt = state.xTrial
  const gt = state.gradientTrial
  let step = search.step
  let value = Number.NaN
  let finite = false
  while (search.task === "evaluate" && search.trials < state.maxTrials) {
    step = search.step
    // The trial point, projected against rounding in x + λd.
    BoxKernels.projectedAxpy(x, step, d, lower, upper, xt)
    value = state.objective.valueAndGradient(xt, gt)
    // A NaN or ±∞ entry of ∇f makes the slope NaN or ±∞ too.
    const derivative = Blas1.dot(gt, d)
    finite = Number.isFinite(value) && Number.isFinite(derivative)
    search = finite ? moreThuenteUpdate(search, value, derivative) : moreThuenteReject(search)
  }
  state.lineSearchTrials += search.trials
  const termination: Termination = search.termination ?? (finite ? "maxTrials" : "nonFinite")
  const accepted =
    finite &&
    step > 0 &&
    (termination === "strongWolfe" ||
      (ACCEPTABLE_WARNINGS.has(termination) &&
        armijo(state.value, slope, step, value, options.sufficientDecrease)))
  if (!accepted) {
    state.lastFailure = termination
    return `line search ended with ${termination} after ${search.trials} trials (projected gradient norm ${state.gradientNorm.toExponential(2)})`
  }
  // Take the step: the trial buffers become the iterate and keep the old one.
  const previous = state.value
  state.x = xt
  state.xTrial = x
  state.gradient = gt
  state.gradientTrial = g
  state.value = value
  state.gradientNorm = BoxKernels.projectedGradientNorm(state.x, state.gradient, lower, upper)
  state.started = true
  if (state.gradientNorm <= state.tolerance) {
    state.end = "converged"
    state.message = `projected gradient norm ${state.gradientNorm.toExponential(2)} ≤ tolerance ${state.tolerance}`
    return undefined
  }
  if (smallDecrease(previous, value, state.functionTolerance)) {
    state.end = "converged"
    state.message = `relative decrease of f ≤ functionTolerance ${state.functionTolerance} (projected gradient norm ${state.gradientNorm.toExponential(2)})`
    return undefined
  }
  storePair(state)
  return undefined
}

const activeBounds = (state: LbfgsBState): number => {
  let count = 0
  for (let i = 0; i < state.n; i++) {
    const xi = state.x[i]!
    if (xi === state.lower[i]! || xi === state.upper[i]!) count++
  }
  return count
}

/**
 * L-BFGS-B as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<LbfgsBProblem, LbfgsBOptions, LbfgsBState, LbfgsBOutput> = {
  name: NAME,
  init: (problem, options) => {
    const m = requirePositiveInteger(NAME, "memory", options.memory ?? defaultLbfgsBOptions.memory)
    const maxTrials = requirePositiveInteger(
      NAME,
      "maxLineSearchTrials",
      options.maxLineSearchTrials ?? defaultLbfgsBOptions.maxLineSearchTrials
    )
    const tolerance = requireNonNegative(
      NAME,
      "tolerance",
      options.tolerance ?? defaultLbfgsBOptions.tolerance
    )
    const functionTolerance = requireNonNegative(
      NAME,
      "functionTolerance",
      options.functionTolerance ?? defaultLbfgsBOptions.functionTolerance
    )
    const lineSearch = moreThuenteOptions(NAME)
    const objective = Objective.meter(problem.objective)
    const n = objective.dimension
    const bounds = makeBounds(NAME, n, problem.lower ?? options.lower, problem.upper ?? options.upper)
    const x = checkStart(NAME, objective, problem.x0)
    const projectedStart = projectOntoBounds(x, bounds)
    const gradient = Vector.zeros(n)
    const value = evaluateStart(NAME, objective, x, gradient)
    let boxed = true
    for (let i = 0; i < n; i++) {
      if (!(bounds.lower[i]! > Number.NEGATIVE_INFINITY && bounds.upper[i]! < Number.POSITIVE_INFINITY)) {
        boxed = false
        break
      }
    }
    const rows = () => Array.from({ length: m }, () => Vector.zeros(n))
    const state: LbfgsBState = {
      objective,
      n,
      memory: m,
      lower: bounds.lower,
      upper: bounds.upper,
      boxed,
      projectedStart,
      tolerance,
      functionTolerance,
      maxTrials,
      lineSearch,
      x,
      gradient,
      value,
      gradientNorm: BoxKernels.projectedGradientNorm(x, gradient, bounds.lower, bounds.upper),
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      cauchyPoint: Vector.zeros(n),
      pathDirection: Vector.zeros(n),
      cauchyTime: 0,
      maxStep: 0,
      direction: Vector.zeros(n),
      work: Vector.zeros(n),
      reducedGradient: Vector.zeros(n),
      breakpoints: Vector.zeros(n),
      cauchySummary: Vector.zeros(2),
      heap: new Int32Array(n),
      freeMask: Vector.zeros(n),
      order: Int32Array.from({ length: n }, (_, i) => i),
      position: Int32Array.from({ length: n }, (_, i) => i),
      freeCount: 0,
      packed: Vector.zeros(2 * m * n),
      s: rows(),
      y: rows(),
      sNew: Vector.zeros(n),
      yNew: Vector.zeros(n),
      sy: Vector.zeros(m * m),
      ss: Vector.zeros(m * m),
      freeGram: Matrix.zeros(2 * m, 2 * m),
      fixedGram: Matrix.zeros(2 * m, 2 * m),
      gatherY: Vector.zeros(n),
      gatherS: Vector.zeros(n),
      gramColumn: Vector.zeros(2 * m),
      gramColumnS: Vector.zeros(2 * m),
      gramColumnFixed: Vector.zeros(2 * m),
      moved: Vector.zeros(n),
      movesSinceRefresh: 0,
      diagonal: Vector.zeros(m),
      lowerSY: Vector.zeros(m * m),
      middle: Vector.zeros(m * m),
      reducedE: Vector.zeros(m * m),
      reducedG: Vector.zeros(m * m),
      reducedSchur: Vector.zeros(m * m),
      scratch: Vector.zeros(m * m),
      p: Vector.zeros(2 * m),
      c: Vector.zeros(2 * m),
      wb: Vector.zeros(2 * m),
      v: Vector.zeros(2 * m),
      u: Vector.zeros(2 * m),
      q: Vector.zeros(2 * m),
      tmp: Vector.zeros(2 * m),
      theta: 1,
      pairs: 0,
      head: 0,
      ringRow: new Int32Array(m),
      started: false,
      skippedUpdates: 0,
      restarts: 0,
      lineSearchTrials: 0,
      end: undefined,
      lastFailure: undefined,
      message: undefined
    }
    if (state.gradientNorm <= tolerance) {
      state.end = "converged"
      state.message = `projected gradient norm ${state.gradientNorm.toExponential(2)} ≤ tolerance ${tolerance}`
    }
    return state
  },
  step: (state) => {
    if (state.end !== undefined) return state
    // At most two attempts: with the stored pairs, then (after a failure)
    // from an empty memory, whose failure ends the run.
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = iterate(state)
      if (failure === undefined) return state
      if (state.pairs > 0) {
        resetMemory(state)
        state.restarts++
        continue
      }
      // Non-finite trials all the way down from an empty memory: the
      // objective is NaN or ±∞ along −∇f; x is the last finite iterate.
      state.end = state.lastFailure === "nonFinite" ? "diverged" : "stalled"
      state.message = failure
      return state
    }
    return state
  },
  status: (state) => state.end,
  residual: (state) => state.gradientNorm,
  metrics: (state) => ({
    objective: state.value,
    gradientNorm: state.gradientNorm,
    pairs: state.pairs,
    freeVariables: state.freeCount
  }),
  output: (state) => ({
    x: Vector.clone(state.x),
    fun: state.value,
    gradient: Vector.clone(state.gradient),
    gradientNorm: state.gradientNorm,
    counts: { ...state.objective.counts },
    projectedStart: state.projectedStart,
    activeBounds: activeBounds(state),
    skippedUpdates: state.skippedUpdates,
    restarts: state.restarts,
    ...(state.message === undefined ? {} : { message: state.message })
  })
}

/**
 * Minimizes `objective` from `x0` subject to `lower ≤ x ≤ upper`
 * (`options.lower`, `options.upper`) by L-BFGS-B.
 *
 * @example
 * const result = LbfgsB.minimize(objective, x0, { lower: 0, upper: [1, 2, Infinity] })
 * @throws DimensionMismatch when `x0` or a bound array does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, or f or ∇f at the projected start, has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range, or a lower bound exceeds its upper bound.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: LbfgsBOptions = {}
): LbfgsBResult =>
  runSolver(
    solver,
    { objective, x0 },
    { maxIterations: defaultLbfgsBOptions.maxIterations, ...options }
  ) as LbfgsBResult
