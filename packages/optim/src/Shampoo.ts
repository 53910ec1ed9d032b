/**
 * Shampoo (Gupta, Koren & Singer, "Shampoo: Preconditioned Stochastic Tensor
 * Optimization", ICML 2018), with the practical extensions of Anil, Gupta,
 * Koren, Regan & Singer ("Scalable Second Order Optimization for Deep
 * Learning", arXiv:2002.09018, 2020): a full-matrix AdaGrad whose
 * preconditioner is factored along the two sides of each weight matrix, so it
 * costs O(m² + n²) memory for an m × n matrix instead of O(m²n²).
 *
 * For a matrix leaf with gradient G (m × n), with β₂ = 1 (sums, the paper's
 * Algorithm 1) or β₂ < 1 (exponential averages, Anil et al. §3),
 *
 *   L ← β₂·L + w·G·Gᵀ,   R ← β₂·R + w·Gᵀ·G   (w = 1 if β₂ = 1, else 1 − β₂),
 *   D = (L + εI)^{−1/4} · G · (R + εI)^{−1/4}.
 *
 * A vector leaf declared with shape [n] is the order-1 case: H ← β₂·H + w·g·gᵀ
 * and d = (H + εI)^{−1/2}·g (full-matrix AdaGrad); an undeclared leaf gets
 * the diagonal version, hᵢ ← β₂·hᵢ + w·gᵢ², dᵢ = gᵢ/√(hᵢ + ε). Dimensions of
 * size 1 are dropped from declared shapes ([n, 1] is the vector [n]).
 *
 * Practical extensions (Anil et al. 2020):
 * - **Blocking** (§3.2, "preconditioning of large layers"): a dimension longer
 *   than `blockSize` is cut into blocks of `blockSize` (the last shorter), and
 *   every block of the matrix (or vector) gets its own statistics: a
 *   block-diagonal approximation of L and R.
 * - **Infrequent roots** (§3.1): the inverse roots, the expensive part
 *   (`MatrixRoots.inverseRootEigen` of `@descent/linalg` by default, or the
 *   coupled Newton iteration via `newtonInverseRoot`), are recomputed at steps
 *   t = s, s + k, s + 2k, … (s = `startPreconditioningStep`, k =
 *   `updateInterval`) and reused in between; the statistics accumulate at every
 *   step. A root that cannot be computed (ε too small against the rounding
 *   n·u·λ_max(L), or non-finite statistics) keeps the previous one and is
 *   counted in the state's `rootFailures`.
 * - **Grafting** (§3.3 and Agarwal et al., "Disentangling Adaptive Gradient
 *   Methods from Learning Rates", 2020): the direction of Shampoo takes the
 *   per-leaf (layer-wise) norm of a graft direction, D ← D·‖A‖/‖D‖, where A
 *   is the output of the `graft` transform on the same gradient (AdaGrad
 *   `Transforms.scaleByRss()` by default; `scaleByAdam()` or `identity()` for
 *   Adam or SGD grafting; `null` for none). Before step s the update is the
 *   graft direction itself (the gradient when `graft` is null).
 *
 * `shampoo` chains this with optional momentum (`Transforms.trace`, applied to
 * the grafted direction as in Anil et al.), decoupled weight decay and the
 * learning rate. Shampoo is not part of Optax; the tests compare it with an
 * independent NumPy/SciPy implementation of these equations
 * (test/fixtures/generate_second_order.py).
 *
 * Memory: statistics, roots and block buffers are allocated once in `init`;
 * a root refresh allocates inside `@descent/linalg`.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Errors, Matrix, Vector } from "@descent/core"
import { MatrixRoots } from "@descent/linalg"
import { chain, type EmptyState, type GradientTransform, identity } from "./GradientTransform.ts"
import { checkLeafShape, resolveLeafAnnotations } from "./internal/leafAnnotations.ts"
import {
  increment,
  invalid,
  requireDecay,
  requirePositive,
  requirePositiveInteger
} from "./internal/validate.ts"
import {
  addDecayedWeights,
  type ScaleByRssState,
  type StepSize,
  type StepSizeState,
  scaleByLearningRate,
  scaleByRss,
  type TraceState,
  trace
} from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * The declared shape of a leaf stored row-major: [length] for a vector,
 * [rows, cols] for a matrix.
 *
 * @category models
 * @since 0.1.0
 */
export type ShampooShape = readonly [length: number] | readonly [rows: number, cols: number]

/**
 * Which leaves are vectors or matrices: an array indexed by leaf (traversal
 * order of `Tree.leaves`; `null`/`undefined` entries are diagonal) or a
 * record keyed by leaf path (`"w"`, `"layers[0].w"`; `""` for a single-leaf
 * tree). Undeclared leaves get the diagonal preconditioner.
 *
 * @category models
 * @since 0.1.0
 */
export type ShampooShapes =
  | ReadonlyArray<ShampooShape | null | undefined>
  | { readonly [path: string]: ShampooShape }

/**
 * An inverse p-th root (A + εI)^{−1/p} of a symmetric positive semidefinite
 * statistic, or `undefined` when it cannot be computed (the previous root is
 * then kept).
 *
 * @category models
 * @since 0.1.0
 */
export type InverseRoot = (A: Matrix.Matrix, p: number, epsilon: number) => Matrix.Matrix | undefined

/**
 * (A + εI)^{−1/p} by the eigendecomposition (`MatrixRoots.inverseRootEigen`):
 * exact up to the eigensolver's backward error, so a relative error of about
 * u·κ(A + εI)/p. `undefined` when A + εI is numerically singular
 * (ε ≲ n·u·λ_max) or not finite.
 *
 * @category constructors
 * @since 0.1.0
 */
export const eigenInverseRoot: InverseRoot = (A, p, epsilon) => {
  try {
    return MatrixRoots.inverseRootEigen(A, p, { epsilon }).value
  } catch (e) {
    if (e instanceof Errors.NotPositiveDefinite || e instanceof Errors.NonFiniteInput) return undefined
    throw e
  }
}

/**
 * (A + εI)^{−1/p} by the coupled Newton iteration of Guo & Higham
 * (`MatrixRoots.inverseRootNewton`, the method of Anil et al. 2020): matrix
 * products only, to a residual of 1e-12. `undefined` when the iteration
 * diverges or runs out of iterations, or A is not finite.
 *
 * @category constructors
 * @since 0.1.0
 */
export const newtonInverseRoot: InverseRoot = (A, p, epsilon) => {
  try {
    const r = MatrixRoots.inverseRootNewton(A, p, { epsilon })
    return r.status === "converged" || r.status === "stalled" ? r.value : undefined
  } catch (e) {
    if (e instanceof Errors.NotPositiveDefinite || e instanceof Errors.NonFiniteInput) return undefined
    throw e
  }
}

/**
 * Options of `scaleByShampoo`; defaults in `shampooDefaults`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByShampooOptions<GS = ScaleByRssState> {
  /** Vector and matrix leaves (see `ShampooShapes`); undeclared leaves are diagonal. Default: none declared. */
  readonly shapes?: ShampooShapes
  /** Decay β₂ of the statistics, in (0, 1]; 1 sums them (Gupta et al.). Default 1. */
  readonly b2?: number
  /** Damping ε > 0 of the statistics in the inverse roots. Default 1e-6. */
  readonly epsilon?: number
  /** Largest block along a dimension, an integer ≥ 1. Default 128. */
  readonly blockSize?: number
  /** Recompute the inverse roots every k steps, an integer ≥ 1. Default 1. */
  readonly updateInterval?: number
  /** First preconditioned step s (1-based), an integer ≥ 1; earlier steps use the graft direction. Default 1. */
  readonly startPreconditioningStep?: number
  /** The graft transform whose per-leaf norm the direction takes, or `null` for none. Default `Transforms.scaleByRss()` (AdaGrad). */
  readonly graft?: GradientTransform<GS> | null
  /** How to compute (A + εI)^{−1/p}. Default `eigenInverseRoot`. */
  readonly inverseRoot?: InverseRoot
}

/**
 * Options of `shampoo`: `scaleByShampoo`'s, plus momentum and weight decay.
 *
 * @category models
 * @since 0.1.0
 */
export interface ShampooOptions<GS = ScaleByRssState> extends ScaleByShampooOptions<GS> {
  /** Momentum β₁ in [0, 1) on the grafted direction (`Transforms.trace`); 0 for none. Default 0. */
  readonly momentum?: number
  /** Nesterov momentum. Default false. */
  readonly nesterov?: boolean
  /** Decoupled weight decay λ (≥ 0, or a schedule). Default 0. */
  readonly weightDecay?: StepSize
}

/**
 * Default options of `scaleByShampoo` and `shampoo`.
 *
 * @category models
 * @since 0.1.0
 */
export const shampooDefaults = {
  shapes: {},
  b2: 1,
  epsilon: 1e-6,
  blockSize: 128,
  updateInterval: 1,
  startPreconditioningStep: 1,
  graft: scaleByRss(),
  inverseRoot: eigenInverseRoot,
  momentum: 0,
  nesterov: false,
  weightDecay: 0
} as const

/**
 * One block of a vector or matrix leaf: its position, a copy of its gradient,
 * its statistics and their inverse roots, and work buffers. For a vector
 * block the gradient is a column (length × 1) and `right`/`rightRoot` are
 * `null`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ShampooBlock {
  readonly rowStart: number
  readonly colStart: number
  readonly gradient: Matrix.Matrix
  readonly left: Matrix.Matrix
  readonly leftRoot: Matrix.Matrix
  readonly right: Matrix.Matrix | null
  readonly rightRoot: Matrix.Matrix | null
  readonly scratch: Matrix.Matrix
  readonly output: Matrix.Matrix
}

/**
 * The preconditioner of one leaf: `matrix` (two-sided, exponent −1/4),
 * `vector` (one-sided, −1/2) or `diagonal` (`statistic` and `root` hold hᵢ
 * and (hᵢ + ε)^{−1/2}; no blocks).
 *
 * @category models
 * @since 0.1.0
 */
export interface ShampooLeaf {
  readonly kind: "matrix" | "vector" | "diagonal"
  /** Row length of the leaf seen as a row-major matrix (1 for vectors). */
  readonly cols: number
  readonly blocks: ReadonlyArray<ShampooBlock>
  readonly statistic: Float64Array
  readonly root: Float64Array
}

/**
 * State of `scaleByShampoo`: step count, the number of inverse roots that
 * could not be computed (the previous root was kept), the per-leaf
 * preconditioners, and the graft's buffer and state.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByShampooState<GS = ScaleByRssState> {
  count: number
  rootFailures: number
  readonly leaves: ReadonlyArray<ShampooLeaf>
  readonly graftDirection: Params | null
  graftState: GS | null
}

/** Block boundaries of a dimension of length n: [start, length] pairs. */
const cuts = (n: number, blockSize: number): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  for (let s = 0; s < n; s += blockSize) out.push([s, Math.min(blockSize, n - s)])
  return out
}

const newBlock = (rowStart: number, rows: number, colStart: number, cols: number, twoSided: boolean) => {
  const leftRoot = Matrix.identity(rows)
  return {
    rowStart,
    colStart,
    gradient: Matrix.zeros(rows, cols),
    left: Matrix.zeros(rows, rows),
    leftRoot,
    right: twoSided ? Matrix.zeros(cols, cols) : null,
    rightRoot: twoSided ? Matrix.identity(cols) : null,
    scratch: Matrix.zeros(rows, cols),
    output: Matrix.zeros(rows, cols)
  }
}

const emptyVector = Vector.zeros(0)

/** The preconditioner layout of a leaf of `length` with declared shape `shape`. */
const newLeaf = (length: number, shape: ShampooShape | undefined, blockSize: number): ShampooLeaf => {
  const dims = shape === undefined ? [] : shape.filter((d) => d > 1)
  if (shape === undefined) {
    return {
      kind: "diagonal",
      cols: 1,
      blocks: [],
      statistic: Vector.zeros(length),
      root: Vector.full(length, 1)
    }
  }
  if (dims.length <= 1) {
    return {
      kind: "vector",
      cols: 1,
      blocks: cuts(length, blockSize).map(([s, n]) => newBlock(s, n, 0, 1, false)),
      statistic: emptyVector,
      root: emptyVector
    }
  }
  const [rows, cols] = dims as [number, number]
  const blocks: ShampooBlock[] = []
  for (const [r0, r] of cuts(rows, blockSize)) {
    for (const [c0, c] of cuts(cols, blockSize)) blocks.push(newBlock(r0, r, c0, c, true))
  }
  return { kind: "matrix", cols, blocks, statistic: emptyVector, root: emptyVector }
}

/** Copies the block's part of the row-major leaf into `block.gradient`. */
const gather = (leaf: Float64Array, leafCols: number, block: ShampooBlock): void => {
  const { rows, cols, data } = block.gradient
  for (let i = 0; i < rows; i++) {
    const from = (block.rowStart + i) * leafCols + block.colStart
    for (let j = 0; j < cols; j++) data[i * cols + j] = leaf[from + j]!
  }
}

/** Copies `block.output` into the block's part of the row-major leaf. */
const scatter = (block: ShampooBlock, leaf: Float64Array, leafCols: number): void => {
  const { rows, cols, data } = block.output
  for (let i = 0; i < rows; i++) {
    const to = (block.rowStart + i) * leafCols + block.colStart
    for (let j = 0; j < cols; j++) leaf[to + j] = data[i * cols + j]!
  }
}

/**
 * Shampoo's preconditioning with blocking, infrequent roots and grafting (see
 * the module comment). The output replaces the gradient in place; chain a
 * learning rate (or use `shampoo`).
 *
 * @throws InvalidOptions when an option is out of range, or at `init` when `shapes` names an unknown leaf or holds a bad shape.
 * @throws DimensionMismatch at `init` when a declared shape does not match its leaf's length, and at `update` when the updates do not match the parameters.
 * @category transforms
 * @since 0.1.0
 */
export const scaleByShampoo = <GS = ScaleByRssState>(
  options: ScaleByShampooOptions<GS> = {}
): GradientTransform<ScaleByShampooState<GS>> => {
  const op = "scaleByShampoo"
  const b2 = options.b2 ?? shampooDefaults.b2
  if (typeof b2 !== "number" || !(b2 > 0 && b2 <= 1)) throw invalid(op, "b2", b2, "a number in (0, 1]")
  const epsilon = requirePositive(op, "epsilon", options.epsilon ?? shampooDefaults.epsilon)
  const blockSize = requirePositiveInteger(op, "blockSize", options.blockSize ?? shampooDefaults.blockSize)
  const interval = requirePositiveInteger(
    op,
    "updateInterval",
    options.updateInterval ?? shampooDefaults.updateInterval
  )
  const start = requirePositiveInteger(
    op,
    "startPreconditioningStep",
    options.startPreconditioningStep ?? shampooDefaults.startPreconditioningStep
  )
  const graft =
    options.graft === undefined
      ? (shampooDefaults.graft as unknown as GradientTransform<GS>)
      : (options.graft as GradientTransform<GS> | null)
  if (
    graft !== null &&
    (typeof graft !== "object" || typeof graft.init !== "function" || typeof graft.update !== "function")
  ) {
    throw invalid(op, "graft", graft, "a GradientTransform or null")
  }
  const inverseRoot = options.inverseRoot ?? shampooDefaults.inverseRoot
  if (typeof inverseRoot !== "function") throw invalid(op, "inverseRoot", inverseRoot, "a function (A, p, ε)")
  const decay = b2
  const weight = b2 === 1 ? 1 : 1 - b2

  /** Recomputes `root` ← (stat + εI)^{−1/p}; returns false (root kept) on failure. */
  const refresh = (stat: Matrix.Matrix, root: Matrix.Matrix, p: number): boolean => {
    const value = inverseRoot(stat, p, epsilon)
    if (
      value === undefined ||
      value.rows !== root.rows ||
      value.cols !== root.cols ||
      Vector.findNonFinite(value.data) >= 0
    ) {
      return false
    }
    Blas1.copy(value.data, root.data)
    return true
  }

  return {
    init: (params) => {
      const leaves = Tree.leaves(params)
      const shapes = resolveLeafAnnotations(op, "shapes", options.shapes, params)
      return {
        count: 0,
        rootFailures: 0,
        leaves: leaves.map((leaf, k) => {
          const shape = shapes[k]
          if (shape !== undefined) checkLeafShape(op, "shapes", shape, [1, 2], leaf, k)
          return newLeaf(leaf.length, shape, blockSize)
        }),
        graftDirection: graft === null ? null : Tree.zerosLike(params),
        graftState: graft === null ? null : graft.init(params)
      }
    },
    update: (updates, state, params, extras) => {
      const gs = Tree.leaves(updates)
      if (gs.length !== state.leaves.length || gs.some((g, k) => g.length !== leafLength(state.leaves[k]!))) {
        throw new Errors.DimensionMismatch({
          operation: op,
          what: "leaf lengths of the updates tree",
          expected: state.leaves.map(leafLength),
          actual: gs.map((g) => g.length)
        })
      }
      const t = increment(state.count)
      let graftLeaves: Float64Array[] | null = null
      if (graft !== null) {
        const buffers = Tree.leaves(state.graftDirection!)
        for (let k = 0; k < gs.length; k++) Blas1.copy(gs[k]!, buffers[k]!)
        const r = graft.update(state.graftDirection!, state.graftState as GS, params, extras)
        state.graftState = r.state
        graftLeaves = Tree.leaves(r.updates)
      }
      const precondition = t >= start
      const refreshRoots = precondition && (t - start) % interval === 0
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const leaf = state.leaves[k]!
        if (leaf.kind === "diagonal") {
          const h = leaf.statistic
          const d = leaf.root
          for (let i = 0; i < g.length; i++) {
            const gi = g[i]!
            h[i] = decay * h[i]! + weight * (gi * gi)
          }
          if (refreshRoots) for (let i = 0; i < g.length; i++) d[i] = 1 / Math.sqrt(h[i]! + epsilon)
          if (precondition) for (let i = 0; i < g.length; i++) g[i] = d[i]! * g[i]!
        } else {
          const twoSided = leaf.kind === "matrix"
          for (const block of leaf.blocks) {
            const G = block.gradient
            gather(g, leaf.cols, block)
            Blas3.gemm(false, true, weight, G, G, decay, block.left)
            if (twoSided) Blas3.gemm(true, false, weight, G, G, decay, block.right!)
            if (refreshRoots) {
              if (!refresh(block.left, block.leftRoot, twoSided ? 4 : 2)) state.rootFailures++
              if (twoSided && !refresh(block.right!, block.rightRoot!, 4)) state.rootFailures++
            }
          }
          if (precondition) {
            for (const block of leaf.blocks) {
              if (twoSided) {
                Blas3.gemm(false, false, 1, block.leftRoot, block.gradient, 0, block.scratch)
                Blas3.gemm(false, false, 1, block.scratch, block.rightRoot!, 0, block.output)
              } else {
                Blas3.gemm(false, false, 1, block.leftRoot, block.gradient, 0, block.output)
              }
              scatter(block, g, leaf.cols)
            }
          }
        }
        if (graftLeaves !== null) {
          const a = graftLeaves[k]!
          if (precondition) {
            const norm = Blas1.nrm2(g)
            Blas1.scal(norm > 0 ? Blas1.nrm2(a) / norm : 0, g)
          } else {
            Blas1.copy(a, g)
          }
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

/** The number of scalars a leaf preconditioner covers. */
const leafLength = (leaf: ShampooLeaf): number => {
  if (leaf.kind === "diagonal") return leaf.statistic.length
  let n = 0
  for (const b of leaf.blocks) n += b.gradient.data.length
  return n
}

/**
 * Shampoo (Gupta et al. 2018; Anil et al. 2020): `chain(scaleByShampoo(options),
 * trace({ decay: momentum, nesterov }) (when momentum > 0),
 * addDecayedWeights(λ), scaleByLearningRate(η))`. With `graft: null`,
 * b2 = 1, `updateInterval: 1` and no momentum it is the paper's Algorithm 1
 * (statistics started at εI): W ← W − η·L^{−1/4}·G·R^{−1/4}.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const shampoo = <GS = ScaleByRssState>(
  learningRate: StepSize,
  options: ShampooOptions<GS> = {}
): GradientTransform<[ScaleByShampooState<GS>, TraceState | EmptyState, StepSizeState, StepSizeState]> => {
  const momentum = requireDecay("shampoo", "momentum", options.momentum ?? shampooDefaults.momentum)
  const withMomentum: GradientTransform<TraceState | EmptyState> =
    momentum === 0
      ? (identity() as GradientTransform<TraceState | EmptyState>)
      : (trace({
          decay: momentum,
          nesterov: options.nesterov ?? shampooDefaults.nesterov
        }) as GradientTransform<TraceState | EmptyState>)
  return chain(
    scaleByShampoo(options),
    withMomentum,
    addDecayedWeights(options.weightDecay ?? shampooDefaults.weightDecay),
    scaleByLearningRate(learningRate)
  )
}
