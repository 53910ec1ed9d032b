/**
 * Block coordinate descent (BCD) for smooth and composite problems
 *
 *   min F(x) = f(x) + Σ_b g_b(x_b),
 *
 * with f smooth and g separable over a fixed partition of the coordinates
 * into blocks x = (x_1, …, x_B). Each iteration picks one block b by a
 * selection rule and updates only x_b:
 *
 * - gradient step: x_b ← prox_{g_b/L}(x_b − ∇_b f(x)/L), with L = L_b, the
 *   Lipschitz constant of ∇_b f along block b (`stepSize: "block"`), or
 *   L = max_b L_b for every block (`stepSize: "uniform"`, the setting of
 *   Nesterov 2012 and of Nutini et al. 2015, §2–4);
 * - exact block minimization (`update: "exact"`) for quadratic smooth parts:
 *   x_b ← x_b − A_bb⁻¹ ∇_b f(x), by a Cholesky factor of the diagonal block
 *   A_bb computed once (`@descent/linalg`).
 *
 * Selection rules (Nutini, Schmidt, Laradji, Friedlander & Koepke, "Coordinate
 * Descent Converges Faster with the Gauss-Southwell Rule Than Random
 * Selection", ICML 2015; Nutini, Laradji & Schmidt, "Let's Make Block
 * Coordinate Descent Converge Faster: Faster Greedy Rules, Message-Passing,
 * Active-Set Complexity, and Superlinear Convergence", JMLR 23, 2022):
 * cyclic; uniformly random; random with probability ∝ L_b (Nesterov 2012);
 * Gauss–Southwell (GS, the largest ‖∇_b f‖); Gauss–Southwell–Lipschitz (GSL,
 * the largest ‖∇_b f‖/√L_b); GS-r (the longest proximal-gradient step
 * ‖d_b‖); GS-q (the largest decrease of the quadratic upper bound
 * ⟨∇_b f, d⟩ + (L/2)‖d‖² + g_b(x_b + d) − g_b(x_b) over d). The greedy rules
 * need the whole gradient at every iteration; they pay off when it is cheap
 * to keep (quadratics with residual updates) and when coordinates differ in
 * how much progress they offer (the "badly scaled" problems of the papers).
 *
 * Smooth parts: a quadratic ½xᵀAx − bᵀx (its gradient Ax − b is kept up to
 * date in O(n·|b|) per update), least squares ½‖Ax − b‖² (the residual
 * Ax − b is kept up to date in O(m·|b|); a block gradient costs O(m·|b|), the
 * full gradient of the greedy rules and of the once-per-epoch convergence
 * test O(m·n)), or any `Objective` (full gradients; block constants given or
 * found by backtracking on the sufficient-decrease condition
 * f(x⁺) ≤ f(x) + ⟨∇_b f, d⟩ + (L_b/2)‖d‖²).
 *
 * The run stops when the gradient mapping is small:
 * max_b ‖L·(x_b − prox_{g_b/L}(x_b − ∇_b f/L))‖∞ ≤ tolerance, which is
 * ‖∇f(x)‖∞ when g = 0.
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Errors, Matrix, Objective, Random, type Solver, Vector } from "@descent/core"
import { Cholesky, SymmetricEigen } from "@descent/linalg"
import { infNorm } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositive, requirePositiveInteger } from "./internal/validate.ts"
import {
  checkStart,
  defaultMinimizeOptions,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"
import type { Prox } from "./Prox.ts"

// ---------------------------------------------------------------------------
// Problems

/**
 * The smooth part f(x) = ½xᵀAx − bᵀx with A symmetric positive semidefinite
 * (A is read as (A + Aᵀ)/2). Block constants L_b = λ_max(A_bb).
 *
 * @category models
 * @since 0.1.0
 */
export interface Quadratic {
  readonly _tag: "Quadratic"
  /** n × n. */
  readonly A: Matrix.Matrix
  /** Length n. */
  readonly b: Float64Array
}

/**
 * The smooth part f(x) = ½‖Ax − b‖². Block constants
 * L_b = λ_max(A_bᵀA_b) = σ_max(A_b)², A_b the columns of block b.
 *
 * @category models
 * @since 0.1.0
 */
export interface LeastSquares {
  readonly _tag: "LeastSquares"
  /** m × n. */
  readonly A: Matrix.Matrix
  /** Length m. */
  readonly b: Float64Array
}

/**
 * A smooth part given as an `Objective` (value and full gradient), with the
 * block Lipschitz constants when they are known: one number for every
 * block, or one per block. Without them each block's constant is found by
 * backtracking (see `BlockCoordinateDescentOptions.initialLipschitz`).
 *
 * @category models
 * @since 0.1.0
 */
export interface Smooth {
  readonly _tag: "Smooth"
  readonly objective: Objective.Objective
  readonly lipschitz?: number | ArrayLike<number>
}

/**
 * The smooth part f of a block-coordinate problem.
 *
 * @category models
 * @since 0.1.0
 */
export type SmoothPart = Quadratic | LeastSquares | Smooth

/**
 * The quadratic smooth part ½xᵀAx − bᵀx.
 *
 * @category constructors
 * @since 0.1.0
 */
export const quadratic = (A: Matrix.Matrix, b: Float64Array): Quadratic => ({ _tag: "Quadratic", A, b })

/**
 * The least-squares smooth part ½‖Ax − b‖².
 *
 * @category constructors
 * @since 0.1.0
 */
export const leastSquares = (A: Matrix.Matrix, b: Float64Array): LeastSquares => ({
  _tag: "LeastSquares",
  A,
  b
})

/**
 * A smooth part from an `Objective`, optionally with known block Lipschitz
 * constants (one number, or one per block).
 *
 * @category constructors
 * @since 0.1.0
 */
export const smooth = (objective: Objective.Objective, lipschitz?: number | ArrayLike<number>): Smooth =>
  lipschitz === undefined ? { _tag: "Smooth", objective } : { _tag: "Smooth", objective, lipschitz }

/**
 * A block-coordinate problem min f(x) + Σ_b g_b(x_b). The regularizer is
 * one `Prox` applied to every block — it must then act coordinate by
 * coordinate or on a vector of any length (`Prox.l1`, `Prox.elasticNet`,
 * `Prox.nonNegative`, a `Prox.box` with number bounds, …) — or one `Prox`
 * per block, each acting on that block's coordinates in the block's order
 * (`Prox.simplex()` per block, a `Prox.box` with the block's bounds, a
 * one-group `Prox.groupLasso`, …). Omitted, g = 0.
 *
 * @category models
 * @since 0.1.0
 */
export interface Problem {
  readonly smooth: SmoothPart
  readonly regularizer?: Prox | ReadonlyArray<Prox>
}

// ---------------------------------------------------------------------------
// Options and result

/**
 * How the next block is chosen (Nutini et al. 2015, 2022):
 * - `cyclic`: blocks 0, 1, …, B − 1, 0, 1, …
 * - `random`: uniformly at random (seeded by `key`).
 * - `randomLipschitz`: at random with probability L_b / Σ L (Nesterov 2012).
 * - `gaussSouthwell` (GS): the largest ‖∇_b f(x)‖₂ (smooth problems only).
 * - `gaussSouthwellLipschitz` (GSL): the largest ‖∇_b f(x)‖₂ / √L_b (smooth problems only).
 * - `gaussSouthwellR` (GS-r): the largest ‖d_b‖₂, d_b = prox_{g_b/L}(x_b − ∇_b f/L) − x_b.
 * - `gaussSouthwellQ` (GS-q): the largest decrease of the quadratic upper
 *   bound, −min_d {⟨∇_b f, d⟩ + (L/2)‖d‖² + g_b(x_b + d) − g_b(x_b)}.
 *
 * In GS-r and GS-q, L is the step constant of the update (L_b, or max L_b with
 * `stepSize: "uniform"`): with block constants GS-q is the Lipschitz-weighted
 * GSL-q rule and reduces to GSL when g = 0; with a uniform constant it
 * reduces to GS.
 *
 * @category models
 * @since 0.1.0
 */
export type SelectionRule =
  | "cyclic"
  | "random"
  | "randomLipschitz"
  | "gaussSouthwell"
  | "gaussSouthwellLipschitz"
  | "gaussSouthwellR"
  | "gaussSouthwellQ"

/**
 * Every selection rule, in a fixed order.
 *
 * @category constants
 * @since 0.1.0
 */
export const selectionRules: ReadonlyArray<SelectionRule> = [
  "cyclic",
  "random",
  "randomLipschitz",
  "gaussSouthwell",
  "gaussSouthwellLipschitz",
  "gaussSouthwellR",
  "gaussSouthwellQ"
]

/**
 * How the chosen block is updated: a (proximal) gradient step, or exact
 * minimization over the block (quadratic and least-squares smooth parts;
 * with a regularizer only for blocks of one coordinate, where it is the
 * proximal step with the exact curvature).
 *
 * @category models
 * @since 0.1.0
 */
export type BlockUpdate = "gradient" | "exact"

/**
 * The constant L of the gradient step 1/L: per block (L_b) or the same for
 * every block (max_b L_b). Exact updates use the block's own curvature.
 *
 * @category models
 * @since 0.1.0
 */
export type StepSize = "block" | "uniform"

/**
 * Options of `minimize`.
 *
 * @category models
 * @since 0.1.0
 */
export interface BlockCoordinateDescentOptions extends MinimizeOptions {
  /** Block updates allowed (one iteration updates one block). Default 100 000. */
  readonly maxIterations?: number
  /** Contiguous blocks of this many coordinates (the last may be shorter). Default 1. */
  readonly blockSize?: number
  /** An explicit partition: every coordinate in exactly one non-empty block. Excludes `blockSize`. */
  readonly blocks?: ReadonlyArray<ReadonlyArray<number>>
  /** Block selection rule. Default `"cyclic"`. */
  readonly rule?: SelectionRule
  /** Block update. Default `"gradient"`. */
  readonly update?: BlockUpdate
  /** Step constant of gradient updates. Default `"block"`. */
  readonly stepSize?: StepSize
  /** Stop when the gradient mapping's ∞-norm is at most this (≥ 0). Default 1e-6. */
  readonly tolerance?: number
  /** Key of the random rules (`Random.key(seed)`); draw k uses `Random.foldIn(key, ⌊k/256⌋)`. Default `Random.key(0)`. */
  readonly key?: Random.Key
  /** Backtracking (an `Objective` without Lipschitz constants): the first guess of every L_b (> 0). Default 1. */
  readonly initialLipschitz?: number
  /** Backtracking: L_b is multiplied by this (> 1) until sufficient decrease holds. Default 2. */
  readonly backtrackingFactor?: number
  /** Backtracking trials per iteration before the run ends as `stalled` (an integer ≥ 1). Default 60. */
  readonly maxBacktracks?: number
}

/**
 * Defaults of `BlockCoordinateDescentOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultBlockCoordinateDescentOptions = {
  ...defaultMinimizeOptions,
  maxIterations: 100_000,
  blockSize: 1,
  rule: "cyclic",
  update: "gradient",
  stepSize: "block",
  tolerance: 1e-6,
  key: Random.key(0),
  initialLipschitz: 1,
  backtrackingFactor: 2,
  maxBacktracks: 60
} as const

/**
 * The result of `minimize`: `fun` is F(x) = f(x) + g(x), `gradient` is ∇f(x)
 * (the smooth part's), `gradientNorm` the ∞-norm of the gradient mapping.
 * `counts` holds the `Objective`'s oracle calls for a `Smooth` part; for
 * quadratic and least-squares parts `counts.matvec` is the number of full
 * products with A or Aᵀ (block updates, which touch only a block's columns,
 * are not counted).
 *
 * @category models
 * @since 0.1.0
 */
export interface BlockCoordinateDescentResult extends MinimizeResult {
  /** f(x), the smooth part. */
  readonly smoothValue: number
  /** g(x) = Σ_b g_b(x_b), the regularizer (0 without one). */
  readonly regularizerValue: number
  /**
   * The block Lipschitz constants L_b (after backtracking, when it ran); with
   * `stepSize: "uniform"` the gradient steps used their maximum.
   */
  readonly lipschitz: Float64Array
  /** How many times each block was updated. */
  readonly blockUpdates: Float64Array
  /** The partition: `blocks[b]` lists the coordinates of block b. */
  readonly blocks: ReadonlyArray<ReadonlyArray<number>>
}

// ---------------------------------------------------------------------------
// State

/**
 * Slack of the sufficient-decrease test, relative to |f(x)|: near a
 * minimizer f(x⁺) − f(x) is below the rounding error of f itself, and a
 * test without slack would inflate L_b without end.
 */
const DECREASE_SLACK = 8 * Number.EPSILON
/** Uniform draws per key of the random rules. */
const DRAW_BATCH = 256

type Engine =
  | {
      readonly kind: "quadratic"
      /** (A + Aᵀ)/2. */
      readonly S: Matrix.Matrix
      readonly b: Float64Array
      /** Rows of S (= columns), as views. */
      readonly rows: ReadonlyArray<Float64Array>
    }
  | {
      readonly kind: "leastSquares"
      /** Aᵀ, n × m: its rows are A's columns. */
      readonly At: Matrix.Matrix
      readonly b: Float64Array
      readonly columns: ReadonlyArray<Float64Array>
      /** Ax − b. */
      readonly residual: Float64Array
    }
  | {
      readonly kind: "objective"
      readonly objective: Objective.MeteredObjective
      readonly backtracking: boolean
      trialX: Float64Array
      trialGradient: Float64Array
    }

interface State {
  readonly engine: Engine
  readonly n: number
  readonly blockCount: number
  /** Coordinates of block b: index[start[b]], …, index[start[b + 1] − 1]. */
  readonly index: Int32Array
  readonly start: Int32Array
  /** Block b's scratch views have length size(b): slot[b] indexes them. */
  readonly slot: Int32Array
  readonly xViews: ReadonlyArray<Float64Array>
  readonly gViews: ReadonlyArray<Float64Array>
  readonly pViews: ReadonlyArray<Float64Array>
  /** One Prox per block, or undefined when g = 0. */
  readonly proxes: ReadonlyArray<Prox> | undefined
  /** Cholesky factors of A_bb for exact updates of blocks of more than one coordinate. */
  readonly factors: ReadonlyArray<Cholesky.CholeskyFactorization | undefined> | undefined
  readonly rule: SelectionRule
  readonly exact: boolean
  readonly uniform: boolean
  readonly tolerance: number
  readonly key: Random.Key
  readonly backtrackingFactor: number
  readonly maxBacktracks: number
  /** L_b. */
  readonly lipschitz: Float64Array
  /** max_b L_b (the step constant of `stepSize: "uniform"`). */
  uniformLipschitz: number
  /** Cumulative sums of L_b (randomLipschitz). */
  readonly cumulative: Float64Array
  readonly uniforms: Float64Array
  x: Float64Array
  /** ∇f(x); for least squares only valid when `gradientCurrent`. */
  gradient: Float64Array
  gradientCurrent: boolean
  smoothValue: number
  /** The gradient mapping's ∞-norm at the last check. */
  stationarity: number
  /** The block the greedy rule picked at the last scan. */
  nextBlock: number
  lastBlock: number
  iteration: number
  diverged: boolean
  stalled: boolean
  readonly blockUpdates: Float64Array
  readonly counts: Objective.OracleCounts
}

/**
 * The input of `solver` (the `IterativeSolver`): the problem and the start.
 *
 * @category models
 * @since 0.1.0
 */
export interface Start {
  readonly problem: Problem
  readonly x0: Float64Array
}

const isGreedy = (rule: SelectionRule): boolean =>
  rule === "gaussSouthwell" ||
  rule === "gaussSouthwellLipschitz" ||
  rule === "gaussSouthwellR" ||
  rule === "gaussSouthwellQ"

const gather = (
  source: Float64Array,
  index: Int32Array,
  from: number,
  to: number,
  out: Float64Array
): void => {
  for (let k = from; k < to; k++) out[k - from] = source[index[k]!]!
}

const scatter = (
  values: Float64Array,
  index: Int32Array,
  from: number,
  to: number,
  out: Float64Array
): void => {
  for (let k = from; k < to; k++) out[index[k]!] = values[k - from]!
}

/** The step constant of block b. */
const stepConstant = (s: State, b: number): number => (s.uniform ? s.uniformLipschitz : s.lipschitz[b]!)

// ---------------------------------------------------------------------------
// Validation and setup

const partition = (
  operation: string,
  n: number,
  blockSize: number | undefined,
  blocks: ReadonlyArray<ReadonlyArray<number>> | undefined
): { index: Int32Array; start: Int32Array } => {
  if (blocks !== undefined) {
    if (blockSize !== undefined) throw invalid(operation, "blocks", blocks, "not both blocks and blockSize")
    if (!Array.isArray(blocks)) throw invalid(operation, "blocks", blocks, "an array of arrays of indices")
    const seen = new Uint8Array(n)
    const index = new Int32Array(n)
    const start = new Int32Array(blocks.length + 1)
    let k = 0
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!
      if (!Array.isArray(block) || block.length === 0)
        throw invalid(operation, `blocks[${b}]`, block, "a non-empty array of indices")
      for (const i of block) {
        if (!Number.isInteger(i) || i < 0 || i >= n)
          throw invalid(operation, `blocks[${b}]`, i, `indices that are integers in [0, ${n})`)
        if (seen[i] !== 0) throw invalid(operation, `blocks[${b}]`, i, "disjoint blocks")
        seen[i] = 1
        index[k++] = i
      }
      start[b + 1] = k
    }
    if (k !== n) {
      const missing = seen.indexOf(0)
      throw invalid(
        operation,
        "blocks",
        missing,
        `a partition covering every coordinate (${missing} is missing)`
      )
    }
    return { index, start }
  }
  const size = requirePositiveInteger(operation, "blockSize", blockSize ?? 1)
  const count = Math.ceil(n / size)
  const index = new Int32Array(n)
  for (let i = 0; i < n; i++) index[i] = i
  const start = new Int32Array(count + 1)
  for (let b = 0; b <= count; b++) start[b] = Math.min(b * size, n)
  return { index, start }
}

const requireOneOf = <T extends string>(
  operation: string,
  field: string,
  value: T,
  allowed: ReadonlyArray<T>
): T => {
  if (!allowed.includes(value)) throw invalid(operation, field, value, `one of ${allowed.join(", ")}`)
  return value
}

const assertMatrixFinite = (operation: string, what: string, A: Matrix.Matrix): void =>
  Vector.assertFinite(operation, what, A.data)

/** The block's submatrix of a symmetric matrix S. */
const principal = (S: Matrix.Matrix, index: Int32Array, from: number, to: number): Matrix.Matrix => {
  const size = to - from
  const out = Matrix.zeros(size, size)
  for (let p = 0; p < size; p++) {
    const row = Matrix.row(S, index[from + p]!)
    for (let q = 0; q < size; q++) out.data[p * size + q] = row[index[from + q]!]!
  }
  return out
}

/** A_bᵀA_b from the rows of Aᵀ. */
const blockGram = (At: Matrix.Matrix, index: Int32Array, from: number, to: number): Matrix.Matrix => {
  const size = to - from
  const m = At.cols
  const rows = Matrix.zeros(size, m)
  for (let p = 0; p < size; p++) rows.data.set(Matrix.row(At, index[from + p]!), p * m)
  const gram = Matrix.zeros(size, size)
  for (let p = 0; p < size; p++) {
    const rp = Matrix.row(rows, p)
    for (let q = 0; q <= p; q++) {
      const v = Blas1.dot(rp, Matrix.row(rows, q))
      gram.data[p * size + q] = v
      gram.data[q * size + p] = v
    }
  }
  return gram
}

const largestEigenvalue = (M: Matrix.Matrix): number => {
  if (M.rows === 1) return M.data[0]!
  const values = SymmetricEigen.eigvalsh(M)
  return values[values.length - 1]!
}

const factorBlock = (operation: string, M: Matrix.Matrix, index: Int32Array, from: number) => {
  try {
    return Cholesky.factor(M)
  } catch (e) {
    if (e instanceof Errors.NotPositiveDefinite) {
      throw new Errors.NotPositiveDefinite({ operation, column: index[from + e.column]!, pivot: e.pivot })
    }
    throw e
  }
}

const makeEngine = (operation: string, part: SmoothPart): { engine: Engine; n: number } => {
  switch (part?._tag) {
    case "Quadratic": {
      const { A, b } = part
      Matrix.assertSquare(operation, "A", A)
      Vector.assertLength(operation, "b", b, A.rows)
      assertMatrixFinite(operation, "A", A)
      Vector.assertFinite(operation, "b", b)
      const n = A.rows
      const S = Matrix.zeros(n, n)
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) S.data[i * n + j] = 0.5 * (A.data[i * n + j]! + A.data[j * n + i]!)
      }
      const rows: Float64Array[] = []
      for (let i = 0; i < n; i++) rows.push(Matrix.row(S, i))
      return { engine: { kind: "quadratic", S, b: Vector.clone(b), rows }, n }
    }
    case "LeastSquares": {
      const { A, b } = part
      Vector.assertLength(operation, "b", b, A.rows)
      assertMatrixFinite(operation, "A", A)
      Vector.assertFinite(operation, "b", b)
      const At = Matrix.transpose(A)
      const columns: Float64Array[] = []
      for (let j = 0; j < A.cols; j++) columns.push(Matrix.row(At, j))
      return {
        engine: {
          kind: "leastSquares",
          At,
          b: Vector.clone(b),
          columns,
          residual: Vector.zeros(A.rows)
        },
        n: A.cols
      }
    }
    case "Smooth": {
      const n = part.objective.dimension
      return {
        engine: {
          kind: "objective",
          objective: Objective.meter(part.objective),
          backtracking: part.lipschitz === undefined,
          trialX: Vector.zeros(n),
          trialGradient: Vector.zeros(n)
        },
        n
      }
    }
    default:
      throw invalid(operation, "smooth", part, "a SmoothPart (quadratic, leastSquares or smooth)")
  }
}

/** Fills `lipschitz` from the smooth part (and the exact-update factors). */
const blockConstants = (
  operation: string,
  engine: Engine,
  part: SmoothPart,
  index: Int32Array,
  start: Int32Array,
  exact: boolean,
  initialLipschitz: number
): { lipschitz: Float64Array; factors: Array<Cholesky.CholeskyFactorization | undefined> | undefined } => {
  const count = start.length - 1
  const lipschitz = Vector.zeros(count)
  const factors = exact ? new Array<Cholesky.CholeskyFactorization | undefined>(count) : undefined
  if (engine.kind === "objective") {
    const given = (part as Smooth).lipschitz
    if (given === undefined) lipschitz.fill(initialLipschitz)
    else if (typeof given === "number") lipschitz.fill(requirePositive(operation, "lipschitz", given))
    else {
      if (given.length !== count) {
        throw new Errors.DimensionMismatch({
          operation,
          what: "lipschitz",
          expected: [count],
          actual: [given.length]
        })
      }
      for (let b = 0; b < count; b++) lipschitz[b] = requirePositive(operation, `lipschitz[${b}]`, given[b]!)
    }
    return { lipschitz, factors }
  }
  for (let b = 0; b < count; b++) {
    const from = start[b]!
    const to = start[b + 1]!
    const M =
      engine.kind === "quadratic"
        ? principal(engine.S, index, from, to)
        : blockGram(engine.At, index, from, to)
    const L = largestEigenvalue(M)
    if (!(L > 0)) throw new Errors.NotPositiveDefinite({ operation, column: index[from]!, pivot: L })
    lipschitz[b] = L
    if (factors !== undefined && to - from > 1) factors[b] = factorBlock(operation, M, index, from)
  }
  return { lipschitz, factors }
}

const regularizerValue = (s: State, x: Float64Array): number => {
  if (s.proxes === undefined) return 0
  let total = 0
  for (let b = 0; b < s.blockCount; b++) {
    const xb = s.xViews[s.slot[b]!]!
    gather(x, s.index, s.start[b]!, s.start[b + 1]!, xb)
    total += s.proxes[b]!.value(xb)
  }
  return total
}

const quadraticValue = (x: Float64Array, gradient: Float64Array, b: Float64Array): number =>
  0.5 * (Blas1.dot(x, gradient) - Blas1.dot(x, b))

const leastSquaresValue = (residual: Float64Array): number => 0.5 * Blas1.dot(residual, residual)

// ---------------------------------------------------------------------------
// Scan: stationarity and greedy scores

/**
 * The gradient mapping's ∞-norm at x for the given ∇f(x); when `select`, also
 * stores the greedy rule's block in `s.nextBlock`. Uses the scratch views.
 */
const scan = (s: State, x: Float64Array, gradient: Float64Array, select: boolean): number => {
  const rule = s.rule
  const proxes = s.proxes
  if (proxes === undefined && !select) return infNorm(gradient)
  let stationarity = 0
  let best = Number.NEGATIVE_INFINITY
  let bestBlock = 0
  for (let b = 0; b < s.blockCount; b++) {
    const from = s.start[b]!
    const to = s.start[b + 1]!
    const slot = s.slot[b]!
    const gb = s.gViews[slot]!
    gather(gradient, s.index, from, to, gb)
    const L = stepConstant(s, b)
    let score: number
    if (proxes === undefined) {
      stationarity = Math.max(stationarity, infNorm(gb))
      const norm = Blas1.nrm2(gb)
      score =
        rule === "gaussSouthwell"
          ? norm
          : rule === "gaussSouthwellLipschitz"
            ? norm / Math.sqrt(s.lipschitz[b]!)
            : rule === "gaussSouthwellR"
              ? norm / L
              : (norm * norm) / (2 * L)
    } else {
      const xb = s.xViews[slot]!
      const pb = s.pViews[slot]!
      const prox = proxes[b]!
      gather(x, s.index, from, to, xb)
      Blas1.copy(xb, pb)
      Blas1.axpy(-1 / L, gb, pb)
      prox.prox(pb, 1 / L, pb)
      const regularizerChange = rule === "gaussSouthwellQ" && select ? prox.value(pb) - prox.value(xb) : 0
      Blas1.axpy(-1, xb, pb)
      stationarity = Math.max(stationarity, L * infNorm(pb))
      if (!select) continue
      score =
        rule === "gaussSouthwell"
          ? Blas1.nrm2(gb)
          : rule === "gaussSouthwellLipschitz"
            ? Blas1.nrm2(gb) / Math.sqrt(s.lipschitz[b]!)
            : rule === "gaussSouthwellR"
              ? Blas1.nrm2(pb)
              : // The model decrease is at least (L/2)‖d‖² (prox optimality and convexity of
                // g_b); the clamp keeps the rounding error of g_b(x_b + d) − g_b(x_b), which
                // swamps tiny decreases near a solution, from ranking a block that can still
                // move below the blocks that cannot (d = 0, score exactly 0).
                Math.max(
                  -(Blas1.dot(gb, pb) + 0.5 * L * Blas1.dot(pb, pb) + regularizerChange),
                  0.5 * L * Blas1.dot(pb, pb)
                )
    }
    if (score > best) {
      best = score
      bestBlock = b
    }
  }
  if (select) s.nextBlock = bestBlock
  return stationarity
}

/** After an update: refreshes the full gradient where it is kept, the stationarity and the greedy choice. */
const refresh = (s: State): void => {
  const greedy = isGreedy(s.rule)
  const engine = s.engine
  if (engine.kind === "leastSquares") {
    s.gradientCurrent = false
    if (!greedy && s.iteration % s.blockCount !== 0) return
    Blas2.gemv(1, engine.At, engine.residual, 0, s.gradient)
    s.counts.matvec++
    s.gradientCurrent = true
  }
  s.stationarity = scan(s, s.x, s.gradient, greedy)
}

// ---------------------------------------------------------------------------
// Selection

const upperBound = (cumulative: Float64Array, target: number): number => {
  let lo = 0
  let hi = cumulative.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cumulative[mid]! > target) hi = mid
    else lo = mid + 1
  }
  return lo
}

const updateCumulative = (s: State): void => {
  let total = 0
  for (let b = 0; b < s.blockCount; b++) {
    total += s.lipschitz[b]!
    s.cumulative[b] = total
  }
}

const selectBlock = (s: State): number => {
  const k = s.iteration
  switch (s.rule) {
    case "cyclic":
      return k % s.blockCount
    case "random":
    case "randomLipschitz": {
      const offset = k % DRAW_BATCH
      if (offset === 0) Random.uniform(Random.foldIn(s.key, (k - offset) / DRAW_BATCH), s.uniforms)
      const u = s.uniforms[offset]!
      if (s.rule === "random") return Math.min(Math.floor(u * s.blockCount), s.blockCount - 1)
      return upperBound(s.cumulative, u * s.cumulative[s.blockCount - 1]!)
    }
    default:
      return s.nextBlock
  }
}

// ---------------------------------------------------------------------------
// Updates

/** ∇_b f(x) into gb. */
const blockGradient = (s: State, b: number, gb: Float64Array): void => {
  const from = s.start[b]!
  const to = s.start[b + 1]!
  const engine = s.engine
  if (engine.kind === "leastSquares" && !s.gradientCurrent) {
    for (let k = from; k < to; k++) gb[k - from] = Blas1.dot(engine.columns[s.index[k]!]!, engine.residual)
    return
  }
  gather(s.gradient, s.index, from, to, gb)
}

/** The proximal-gradient step d = prox_{g_b/L}(x_b − g_b/L) − x_b, into pb. */
const proxStep = (
  s: State,
  b: number,
  L: number,
  xb: Float64Array,
  gb: Float64Array,
  pb: Float64Array
): void => {
  Blas1.copy(xb, pb)
  Blas1.axpy(-1 / L, gb, pb)
  if (s.proxes !== undefined) s.proxes[b]!.prox(pb, 1 / L, pb)
  Blas1.axpy(-1, xb, pb)
}

/** Quadratic and least squares: x_b += d, keeping the gradient or residual; false when f became non-finite. */
const applyLinear = (s: State, b: number, xb: Float64Array, d: Float64Array): boolean => {
  const engine = s.engine
  const from = s.start[b]!
  const to = s.start[b + 1]!
  const x = s.x
  for (let k = from; k < to; k++) {
    const dj = d[k - from]!
    if (dj === 0) continue
    const j = s.index[k]!
    x[j] = x[j]! + dj
    if (engine.kind === "quadratic") Blas1.axpy(dj, engine.rows[j]!, s.gradient)
    else if (engine.kind === "leastSquares") Blas1.axpy(dj, engine.columns[j]!, engine.residual)
  }
  const f =
    engine.kind === "quadratic"
      ? quadraticValue(x, s.gradient, engine.b)
      : leastSquaresValue((engine as { residual: Float64Array }).residual)
  if (f - f !== 0) {
    scatter(xb, s.index, from, to, x)
    return false
  }
  s.smoothValue = f
  return true
}

/** Generic objective: a trial step (with backtracking on L_b when the constants are unknown). */
const stepObjective = (
  s: State,
  engine: Extract<Engine, { kind: "objective" }>,
  b: number,
  xb: Float64Array,
  gb: Float64Array,
  pb: Float64Array
): void => {
  const from = s.start[b]!
  const to = s.start[b + 1]!
  for (let trial = 0; trial < s.maxBacktracks; trial++) {
    const L = stepConstant(s, b)
    proxStep(s, b, L, xb, gb, pb)
    if (infNorm(pb) === 0) {
      // No move at the first trial: the block is stationary for this L. After
      // failed trials: L has grown until the step vanished below rounding.
      if (trial > 0) s.stalled = true
      return
    }
    const xt = engine.trialX
    Blas1.copy(s.x, xt)
    for (let k = from; k < to; k++) xt[s.index[k]!] = xb[k - from]! + pb[k - from]!
    const f = engine.objective.valueAndGradient(xt, engine.trialGradient)
    const finite = f - f === 0 && Vector.findNonFinite(engine.trialGradient) < 0
    if (engine.backtracking) {
      const bound = Blas1.dot(gb, pb) + 0.5 * L * Blas1.dot(pb, pb)
      if (!(finite && f - s.smoothValue <= bound + DECREASE_SLACK * Math.abs(s.smoothValue))) {
        if (s.uniform) {
          // One shared constant: every block's grows with it.
          s.uniformLipschitz *= s.backtrackingFactor
          s.lipschitz.fill(s.uniformLipschitz)
        } else s.lipschitz[b] = s.lipschitz[b]! * s.backtrackingFactor
        if (s.rule === "randomLipschitz") updateCumulative(s)
        continue
      }
    } else if (!finite) {
      s.diverged = true
      return
    }
    // Accepted: the trial buffers become the state's and the old ones the next trial's.
    engine.trialX = s.x
    s.x = xt
    const accepted = engine.trialGradient
    engine.trialGradient = s.gradient
    s.gradient = accepted
    s.smoothValue = f
    return
  }
  s.stalled = true
}

const step = (s: State): State => {
  if (s.diverged || s.stalled || s.blockCount === 0) return s
  const b = selectBlock(s)
  const slot = s.slot[b]!
  const xb = s.xViews[slot]!
  const gb = s.gViews[slot]!
  const pb = s.pViews[slot]!
  const from = s.start[b]!
  const to = s.start[b + 1]!
  blockGradient(s, b, gb)
  gather(s.x, s.index, from, to, xb)
  const engine = s.engine
  s.iteration++
  s.lastBlock = b
  s.blockUpdates[b] = s.blockUpdates[b]! + 1
  if (engine.kind === "objective") {
    stepObjective(s, engine, b, xb, gb, pb)
  } else {
    const factor = s.factors?.[b]
    if (factor !== undefined) {
      Blas1.copy(gb, pb)
      Blas2.trsv(factor.L, pb, { lower: true })
      Blas2.trsv(factor.L, pb, { lower: true, transpose: true })
      Blas1.scal(-1, pb)
    } else {
      proxStep(s, b, s.exact ? s.lipschitz[b]! : stepConstant(s, b), xb, gb, pb)
    }
    if (infNorm(pb) !== 0 && !applyLinear(s, b, xb, pb)) s.diverged = true
  }
  if (!s.diverged && !s.stalled) refresh(s)
  return s
}

// ---------------------------------------------------------------------------
// init / output

/** The regularizer as one Prox per block (undefined when g = 0). */
const blockProxes = (
  operation: string,
  regularizer: Prox | ReadonlyArray<Prox> | undefined,
  blockCount: number
): ReadonlyArray<Prox> | undefined => {
  if (regularizer === undefined) return undefined
  if (!Array.isArray(regularizer)) return new Array<Prox>(blockCount).fill(regularizer as Prox)
  if (regularizer.length !== blockCount) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "regularizer (one Prox per block)",
      expected: [blockCount],
      actual: [regularizer.length]
    })
  }
  return regularizer as ReadonlyArray<Prox>
}

/** Scratch buffers of the largest block's length, and one set of views per distinct block size. */
const scratchViews = (starts: Int32Array) => {
  const blockCount = starts.length - 1
  const slot = new Int32Array(blockCount)
  const sizes: number[] = []
  const xViews: Float64Array[] = []
  const gViews: Float64Array[] = []
  const pViews: Float64Array[] = []
  let largest = 0
  for (let b = 0; b < blockCount; b++) largest = Math.max(largest, starts[b + 1]! - starts[b]!)
  const xScratch = Vector.zeros(largest)
  const gScratch = Vector.zeros(largest)
  const pScratch = Vector.zeros(largest)
  for (let b = 0; b < blockCount; b++) {
    const size = starts[b + 1]! - starts[b]!
    let k = sizes.indexOf(size)
    if (k < 0) {
      k = sizes.length
      sizes.push(size)
      xViews.push(xScratch.subarray(0, size))
      gViews.push(gScratch.subarray(0, size))
      pViews.push(pScratch.subarray(0, size))
    }
    slot[b] = k
  }
  return { slot, xViews, gViews, pViews }
}

const init = (start: Start, options: BlockCoordinateDescentOptions): State => {
  const operation = "BlockCoordinateDescent.minimize"
  const problem = start.problem
  const d = defaultBlockCoordinateDescentOptions
  const rule = requireOneOf(operation, "rule", options.rule ?? d.rule, selectionRules)
  const update = requireOneOf<BlockUpdate>(operation, "update", options.update ?? d.update, [
    "gradient",
    "exact"
  ])
  const stepSize = requireOneOf<StepSize>(operation, "stepSize", options.stepSize ?? d.stepSize, [
    "block",
    "uniform"
  ])
  const tolerance = requireNonNegative(operation, "tolerance", options.tolerance ?? d.tolerance)
  const initialLipschitz = requirePositive(
    operation,
    "initialLipschitz",
    options.initialLipschitz ?? d.initialLipschitz
  )
  const backtrackingFactor = requirePositive(
    operation,
    "backtrackingFactor",
    options.backtrackingFactor ?? d.backtrackingFactor
  )
  if (!(backtrackingFactor > 1))
    throw invalid(operation, "backtrackingFactor", backtrackingFactor, "a number > 1")
  const maxBacktracks = requirePositiveInteger(
    operation,
    "maxBacktracks",
    options.maxBacktracks ?? d.maxBacktracks
  )
  const key = options.key ?? d.key
  Random.keyData(key)
  const { engine, n } = makeEngine(operation, problem?.smooth)
  const { index, start: starts } = partition(operation, n, options.blockSize, options.blocks)
  const blockCount = starts.length - 1
  const proxes = blockProxes(operation, problem.regularizer, blockCount)
  if (proxes !== undefined && (rule === "gaussSouthwell" || rule === "gaussSouthwellLipschitz")) {
    // GS and GSL rank blocks by ∇_b f alone: with a regularizer they keep
    // choosing a block that g holds in place (a lasso zero with |∇_j f| ≤ λ).
    throw invalid(
      operation,
      "rule",
      rule,
      "gaussSouthwellR or gaussSouthwellQ (or a non-greedy rule) with a regularizer"
    )
  }
  if (update === "exact") {
    if (engine.kind === "objective")
      throw invalid(
        operation,
        "update",
        update,
        '"gradient" for a Smooth objective (exact needs a quadratic)'
      )
    for (let b = 0; b < blockCount && proxes !== undefined; b++) {
      if (starts[b + 1]! - starts[b]! > 1)
        throw invalid(
          operation,
          "update",
          update,
          '"gradient" with a regularizer and blocks of more than one coordinate'
        )
    }
  }
  const { lipschitz, factors } = blockConstants(
    operation,
    engine,
    problem.smooth,
    index,
    starts,
    update === "exact",
    initialLipschitz
  )
  const { slot, xViews, gViews, pViews } = scratchViews(starts)
  let x: Float64Array
  const gradient = Vector.zeros(n)
  const counts = Objective.zeroCounts()
  let smoothValue: number
  if (engine.kind === "objective") {
    x = checkStart(operation, engine.objective, start.x0)
    smoothValue = evaluateStart(operation, engine.objective, x, gradient)
  } else {
    Vector.assertLength(operation, "x0", start.x0, n)
    Vector.assertFinite(operation, "x0", start.x0)
    x = Vector.clone(start.x0)
    if (engine.kind === "quadratic") {
      Blas2.gemv(1, engine.S, x, 0, gradient)
      Blas1.axpy(-1, engine.b, gradient)
      counts.matvec++
      smoothValue = quadraticValue(x, gradient, engine.b)
    } else {
      Blas2.gemvT(1, engine.At, x, 0, engine.residual)
      Blas1.axpy(-1, engine.b, engine.residual)
      Blas2.gemv(1, engine.At, engine.residual, 0, gradient)
      counts.matvec += 2
      smoothValue = leastSquaresValue(engine.residual)
    }
  }
  let uniformLipschitz = 0
  for (let b = 0; b < blockCount; b++) uniformLipschitz = Math.max(uniformLipschitz, lipschitz[b]!)
  const state: State = {
    engine,
    n,
    blockCount,
    index,
    start: starts,
    slot,
    xViews,
    gViews,
    pViews,
    proxes,
    factors,
    rule,
    exact: update === "exact",
    uniform: stepSize === "uniform",
    tolerance,
    key,
    backtrackingFactor,
    maxBacktracks,
    lipschitz,
    uniformLipschitz,
    cumulative: Vector.zeros(blockCount),
    uniforms: Vector.zeros(DRAW_BATCH),
    x,
    gradient,
    gradientCurrent: true,
    smoothValue,
    stationarity: Number.POSITIVE_INFINITY,
    nextBlock: 0,
    lastBlock: -1,
    iteration: 0,
    diverged: false,
    stalled: false,
    blockUpdates: Vector.zeros(blockCount),
    counts
  }
  const F = smoothValue + regularizerValue(state, x)
  if (!Number.isFinite(F))
    throw new Errors.NonFiniteInput({ operation, what: "objective at x0", index: 0, value: F })
  updateCumulative(state)
  state.stationarity = scan(state, x, gradient, isGreedy(rule))
  return state
}

const status = (s: State): Solver.Status | undefined => {
  if (s.diverged) return "diverged"
  if (s.stalled) return "stalled"
  return s.stationarity <= s.tolerance ? "converged" : undefined
}

const output = (s: State): SolverOutput & Omit<BlockCoordinateDescentResult, keyof MinimizeResult> => {
  const engine = s.engine
  const x = Vector.clone(s.x)
  const gradient = Vector.zeros(s.n)
  let smoothValue: number
  let counts: Objective.OracleCounts
  if (engine.kind === "objective") {
    Blas1.copy(s.gradient, gradient)
    smoothValue = s.smoothValue
    counts = { ...engine.objective.counts }
  } else {
    // Recomputed from x: exact (no drift of the kept gradient or residual) and
    // valid after a divergence, where x was rolled back but they were not.
    if (engine.kind === "quadratic") {
      Blas2.gemv(1, engine.S, x, 0, gradient)
      Blas1.axpy(-1, engine.b, gradient)
      smoothValue = quadraticValue(x, gradient, engine.b)
      s.counts.matvec++
    } else {
      const residual = Vector.zeros(engine.b.length)
      Blas2.gemvT(1, engine.At, x, 0, residual)
      Blas1.axpy(-1, engine.b, residual)
      Blas2.gemv(1, engine.At, residual, 0, gradient)
      smoothValue = leastSquaresValue(residual)
      s.counts.matvec += 2
    }
    counts = { ...s.counts }
  }
  const stationarity = scan(s, x, gradient, false)
  const regularizer = regularizerValue(s, x)
  const blocks: number[][] = []
  for (let b = 0; b < s.blockCount; b++)
    blocks.push(Array.from(s.index.subarray(s.start[b]!, s.start[b + 1]!)))
  return {
    x,
    fun: smoothValue + regularizer,
    gradient,
    gradientNorm: stationarity,
    counts,
    smoothValue,
    regularizerValue: regularizer,
    lipschitz: Vector.clone(s.lipschitz),
    blockUpdates: Vector.clone(s.blockUpdates),
    blocks,
    ...(message(s) === undefined ? {} : { message: message(s)! })
  }
}

const message = (s: State): string | undefined => {
  if (s.diverged)
    return "the objective became NaN or infinite (is f convex with the given Lipschitz constants?); x is the last finite iterate"
  if (s.stalled)
    return `backtracking found no step with sufficient decrease on block ${s.lastBlock} (${s.maxBacktracks} trials, or the step vanished)`
  if (s.stationarity <= s.tolerance)
    return `converged after ${s.iteration} block updates (gradient mapping ${s.stationarity.toExponential(2)} ≤ tolerance ${s.tolerance})`
  return undefined
}

/**
 * Block coordinate descent as a `Solver.IterativeSolver` over
 * `{ problem, x0 }` (one iteration = one block update). `residual` is the
 * gradient mapping's ∞-norm at the last check (for least squares with a
 * non-greedy rule, checked once per epoch of B updates).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  Start,
  BlockCoordinateDescentOptions,
  State,
  SolverOutput & Omit<BlockCoordinateDescentResult, keyof MinimizeResult>
> = {
  name: "BlockCoordinateDescent",
  init,
  step,
  status,
  residual: (s) => (s.diverged ? Number.NaN : s.stationarity),
  metrics: (s) => ({
    objective: s.smoothValue + regularizerValue(s, s.x),
    stationarity: s.stationarity,
    block: s.lastBlock
  }),
  output
}

/**
 * Minimizes f(x) + Σ_b g_b(x_b) by block coordinate descent from `x0` (see
 * the module documentation for the rules and updates).
 *
 * @example
 * // Lasso ½‖Ax − b‖² + λ‖x‖₁ by cyclic coordinate minimization:
 * const result = BlockCoordinateDescent.minimize(
 *   { smooth: BlockCoordinateDescent.leastSquares(A, b), regularizer: Prox.l1(0.1) },
 *   Vector.zeros(A.cols),
 *   { tolerance: 1e-10 }
 * )
 * @throws DimensionMismatch when x0, b or a per-block list does not fit.
 * @throws NonFiniteInput when x0, A, b or F(x0) has a NaN or ±∞.
 * @throws InvalidOptions for an out-of-range option, an invalid partition,
 *   or an exact update the problem does not allow.
 * @throws NotPositiveDefinite when a block of a quadratic or least-squares part
 *   has no positive curvature (L_b ≤ 0), or, for exact updates, A_bb is singular.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  problem: Problem,
  x0: Float64Array,
  options: BlockCoordinateDescentOptions = {}
): BlockCoordinateDescentResult =>
  runSolver(
    solver,
    { problem, x0 },
    {
      ...options,
      maxIterations: options.maxIterations ?? defaultBlockCoordinateDescentOptions.maxIterations
    }
  ) as BlockCoordinateDescentResult
