/**
 * Muon, "MomentUm Orthogonalized by Newton–Schulz" (Jordan et al., "Muon: An
 * optimizer for hidden layers in neural networks", 2024; Liu et al., "Muon is
 * Scalable for LLM Training", arXiv:2502.16982, 2025): for a weight matrix,
 * the step is the momentum with its singular values flattened towards 1, i.e.
 * approximately the orthogonal polar factor U·Vᵀ of the momentum U·Σ·Vᵀ —
 * steepest descent under the spectral norm (Bernstein & Newhouse, "Old
 * Optimizer, New Norm: An Anthology", arXiv:2409.20325, 2024).
 *
 * For a matrix leaf G (rows = fan-in, cols = fan-out), with t the step count
 * after incrementing:
 *
 *   μ ← (1 − β)·G + β·μ,
 *   M = β·μ/(1 − βᵗ⁺¹) + (1 − β)·G/(1 − βᵗ)   (Nesterov; otherwise M = μ/(1 − βᵗ)),
 *   O = NS₅(M / (‖M‖_F + ε))   (`NewtonSchulz.quintic` of `@descent/linalg`),
 *   O ← ⟨M, O⟩·O   (only with `adaptive`),
 *   u = s·O,   s = √max(1, cols/rows)   (or s = c·√max(rows, cols) with `consistentRms: c`),
 *
 * then decoupled weight decay and the learning rate, p ← p − η·(u + λ·p).
 * Leaves that are not declared as matrices (vectors, scalars, embeddings you
 * choose to exclude) go through a fallback transform, by default AdamW with
 * Muon's Nesterov flag and ε (NAdam when `nesterov`), as Optax does.
 *
 * Parameter leaves are flat `Float64Array`s, so the matrix leaves are declared
 * with the `shapes` option (by leaf index or path, row-major [rows, cols]):
 * this plays the role of Optax's rule "a leaf is a Muon leaf when it has two
 * dimensions" (`MuonDimensionNumbers(reduction_axis=0, output_axis=1)`).
 *
 * `muon` matches `optax.contrib.muon` (Optax 0.2.8) with its defaults
 * (coefficients (3.4445, −4.7750, 2.0315), 5 steps, β = 0.95, ε = 1e-8,
 * Nesterov on, `adaptive` off, Frobenius pre-scaling, width scaling, AdamW
 * fallback with β₁ = 0.9, β₂ = 0.999) and its options `adaptive`,
 * `consistent_rms`, weight decays and the Adam hyperparameters; see
 * test/muon.test.ts for the agreement. Not implemented: Optax's
 * per-step coefficient lists (the "dion" preset), the spectral/AOL/Schatten
 * pre-scalings, and batch axes of higher-rank weights (reshape them to
 * matrices instead).
 *
 * Memory: the momentum is allocated once in `init`; `NewtonSchulz.quintic`
 * allocates its working matrices at every call.
 *
 * @since 0.1.0
 */
import { Blas1, Errors, Matrix } from "@descent/core"
import { NewtonSchulz } from "@descent/linalg"
import { chain, type GradientTransform } from "./GradientTransform.ts"
import { checkLeafShape, resolveLeafAnnotations } from "./internal/leafAnnotations.ts"
import {
  increment,
  invalid,
  leavesLike,
  requireDecay,
  requireNonNegative,
  requirePositive,
  requireStepSize
} from "./internal/validate.ts"
import { adamw } from "./Optimizers.ts"
import { addDecayedWeights, type StepSize, type StepSizeState, scaleByLearningRate } from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * The shape [rows, cols] of a matrix leaf stored row-major (rows = fan-in,
 * the reduction axis; cols = fan-out).
 *
 * @category models
 * @since 0.1.0
 */
export type MatrixShape = readonly [rows: number, cols: number]

/**
 * Which leaves are matrices: an array indexed by leaf (traversal order of
 * `Tree.leaves`; `null`/`undefined` entries are not matrices) or a record
 * keyed by leaf path (`"w"`, `"layers[0].w"`; `""` for a single-leaf tree).
 *
 * @category models
 * @since 0.1.0
 */
export type MatrixShapes =
  | ReadonlyArray<MatrixShape | null | undefined>
  | { readonly [path: string]: MatrixShape }

/**
 * Options of `scaleByMuon`; defaults in `muonDefaults`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByMuonOptions {
  /** The matrix shape of every leaf (required by `scaleByMuon`, which accepts only matrix leaves). */
  readonly shapes?: MatrixShapes
  /** Coefficients (a, b, c) of the quintic X ← a·X + (b·A + c·A²)·X, A = X·Xᵀ. Default (3.4445, −4.7750, 2.0315). */
  readonly nsCoefficients?: readonly [number, number, number]
  /** Number of Newton–Schulz steps, an integer ≥ 0. Default 5. */
  readonly nsSteps?: number
  /** Momentum decay β in [0, 1). Default 0.95. */
  readonly beta?: number
  /** Added to ‖M‖_F before dividing (and Adam's ε in `muon`'s fallback), ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** Nesterov momentum. Default true. */
  readonly nesterov?: boolean
  /** Scale the orthogonalized O by the dual norm ⟨M, O⟩ (Bernstein & Newhouse 2024). Default false. */
  readonly adaptive?: boolean
}

/**
 * Options of `scaleByShape`; defaults in `muonDefaults`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByShapeOptions {
  /** The matrix shape of every leaf (required). */
  readonly shapes?: MatrixShapes
  /** `null`: width scaling √max(1, cols/rows); a number c > 0: consistent-RMS scaling c·√max(rows, cols) (Liu et al. 2025 use 0.2). Default null. */
  readonly consistentRms?: number | null
}

/**
 * Options of `muon`; defaults in `muonDefaults`. `shapes` declares the
 * matrix leaves; the others go to the fallback.
 *
 * @category models
 * @since 0.1.0
 */
export interface MuonOptions extends ScaleByMuonOptions {
  /** Width or consistent-RMS scaling of the matrix updates (see `ScaleByShapeOptions`). Default null (width). */
  readonly consistentRms?: number | null
  /** Decoupled weight decay λ of the matrix leaves (≥ 0, or a schedule), multiplied by η. Default 0. */
  readonly weightDecay?: StepSize
  /** β₁ of the AdamW fallback, in [0, 1). Default 0.9. */
  readonly adamB1?: number
  /** β₂ of the AdamW fallback, in [0, 1). Default 0.999. */
  readonly adamB2?: number
  /** ε_root of the AdamW fallback, ≥ 0. Default 0. */
  readonly adamEpsRoot?: number
  /** Weight decay of the AdamW fallback (≥ 0, or a schedule). Default 0. */
  readonly adamWeightDecay?: StepSize
  /** Learning rate of the AdamW fallback. Default: Muon's learning rate. */
  readonly adamLearningRate?: StepSize
  /**
   * The transform of the leaves that are not matrices, replacing the AdamW
   * built from the `adam*` options; it receives those leaves as an array
   * (in traversal order) and must include its own learning rate.
   */
  // biome-ignore lint/suspicious/noExplicitAny: any transform state; see `chain`.
  readonly fallback?: GradientTransform<any>
}

/**
 * Default options of `scaleByMuon`, `scaleByShape` and `muon` (those of
 * `optax.contrib.muon` in Optax 0.2.8). `shapes: {}` declares no matrix
 * leaf; `adamLearningRate: undefined` means Muon's learning rate.
 *
 * @category models
 * @since 0.1.0
 */
export const muonDefaults = {
  shapes: {},
  nsCoefficients: NewtonSchulz.muonCoefficients,
  nsSteps: 5,
  beta: 0.95,
  eps: 1e-8,
  nesterov: true,
  adaptive: false,
  consistentRms: null,
  weightDecay: 0,
  adamB1: 0.9,
  adamB2: 0.999,
  adamEpsRoot: 0,
  adamWeightDecay: 0,
  adamLearningRate: undefined
} as const

/**
 * State of `scaleByMuon`: step count, momentum, and the resolved shape of
 * every leaf.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByMuonState {
  count: number
  readonly mu: Params
  readonly shapes: ReadonlyArray<MatrixShape>
}

/**
 * State of `scaleByShape`: the scale factor of every leaf.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByShapeState {
  readonly scales: ReadonlyArray<number>
}

/**
 * State of `muon`: the leaf indices (traversal order) of the matrix leaves
 * and of the others, the states of the matrix chain (`scaleByMuon`,
 * `scaleByShape`, weight decay, learning rate) and the fallback's state.
 *
 * @category models
 * @since 0.1.0
 */
export interface MuonState {
  readonly matrixLeaves: ReadonlyArray<number>
  readonly otherLeaves: ReadonlyArray<number>
  readonly matrix: [ScaleByMuonState, ScaleByShapeState, StepSizeState, StepSizeState]
  fallback: unknown
}

/** The leaves of `tree`, or `Errors.DimensionMismatch` unless there are `count`. */
const checkLeafCount = (op: string, what: string, tree: Params, count: number): Float64Array[] => {
  const leaves = Tree.leaves(tree)
  if (leaves.length !== count) {
    throw new Errors.DimensionMismatch({
      operation: op,
      what: `number of leaves of the ${what} tree`,
      expected: [count],
      actual: [leaves.length]
    })
  }
  return leaves
}

/** The declared shapes of `params`'s leaves, checked (undefined: not a matrix). */
const resolveShapes = (
  op: string,
  option: MatrixShapes | undefined,
  params: Params
): Array<MatrixShape | undefined> => {
  const leaves = Tree.leaves(params)
  return resolveLeafAnnotations(op, "shapes", option, params).map((s, k) => {
    if (s !== undefined) checkLeafShape(op, "shapes", s, [2], leaves[k]!, k)
    return s
  })
}

/** Every leaf's shape, or `Errors.InvalidOptions` naming `shapes`. */
const requireAllShapes = (
  op: string,
  shapes: ReadonlyArray<MatrixShape | undefined>
): ReadonlyArray<MatrixShape> => {
  const missing = shapes.indexOf(undefined)
  if (missing >= 0) {
    throw invalid(op, "shapes", `no shape for leaf ${missing}`, "a matrix shape [rows, cols] for every leaf")
  }
  return shapes as ReadonlyArray<MatrixShape>
}

const muonSettings = (op: string, options: ScaleByMuonOptions) => {
  const coefficients = options.nsCoefficients ?? muonDefaults.nsCoefficients
  if (
    !Array.isArray(coefficients) ||
    coefficients.length !== 3 ||
    !coefficients.every((c) => typeof c === "number" && Number.isFinite(c))
  ) {
    throw invalid(op, "nsCoefficients", coefficients, "three finite numbers (a, b, c)")
  }
  const steps = options.nsSteps ?? muonDefaults.nsSteps
  if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 0) {
    throw invalid(op, "nsSteps", steps, "an integer ≥ 0")
  }
  return {
    coefficients: coefficients as readonly [number, number, number],
    steps,
    beta: requireDecay(op, "beta", options.beta ?? muonDefaults.beta),
    eps: requireNonNegative(op, "eps", options.eps ?? muonDefaults.eps),
    nesterov: options.nesterov ?? muonDefaults.nesterov,
    adaptive: options.adaptive ?? muonDefaults.adaptive
  }
}

/** `scaleByMuon`'s update, reading the shapes from the state. */
const muonUpdate = (
  op: string,
  s: ReturnType<typeof muonSettings>
): GradientTransform<ScaleByMuonState>["update"] => {
  const { coefficients, steps, beta, eps, nesterov, adaptive } = s
  const c = 1 - beta
  const quinticOptions = { steps, epsilon: eps, coefficients }
  return (updates, state) => {
    const mus = Tree.leaves(state.mu)
    const gs = leavesLike(op, updates, mus)
    const t = increment(state.count)
    // Optax's bias corrections, as XLA executes them: x · (1/(1 − βᵗ)).
    const r = 1 / (1 - beta ** t)
    const rNext = 1 / (1 - beta ** increment(t))
    for (let k = 0; k < gs.length; k++) {
      const g = gs[k]!
      const mu = mus[k]!
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!
        const m = c * gi + beta * mu[i]!
        mu[i] = m
        g[i] = nesterov ? beta * (m * rNext) + c * (gi * r) : m * r
      }
      const [rows, cols] = state.shapes[k]!
      const O = NewtonSchulz.quintic(Matrix.fromData(rows, cols, g), quinticOptions).value.data
      if (adaptive) Blas1.scal(Blas1.dot(g, O), O)
      Blas1.copy(O, g)
    }
    state.count = t
    return { updates, state }
  }
}

/**
 * Muon's scaling (Optax's `scale_by_muon`): Nesterov (or heavy-ball)
 * momentum with bias correction, then Newton–Schulz orthogonalization of
 * every leaf as a matrix, optionally scaled by ⟨M, O⟩ (see the module
 * comment). Every leaf must be declared in `shapes` (`muon` routes the
 * others to its fallback). No shape scaling or learning rate: see
 * `scaleByShape` and `muon`.
 *
 * @throws InvalidOptions when an option is out of range, or at `init` when a leaf has no shape or `shapes` names an unknown leaf.
 * @throws DimensionMismatch at `init` when a declared shape does not match its leaf's length.
 * @throws NonFiniteInput at `update` when a momentum holds NaN or ±Infinity.
 * @category transforms
 * @since 0.1.0
 */
export const scaleByMuon = (options: ScaleByMuonOptions = {}): GradientTransform<ScaleByMuonState> => {
  const op = "scaleByMuon"
  const settings = muonSettings(op, options)
  return {
    init: (params) => ({
      count: 0,
      mu: Tree.zerosLike(params),
      shapes: requireAllShapes(op, resolveShapes(op, options.shapes, params))
    }),
    update: muonUpdate(op, settings)
  }
}

const checkConsistentRms = (op: string, value: number | null | undefined): number | null =>
  value === undefined || value === null ? null : requirePositive(op, "consistentRms", value)

/** √max(1, cols/rows), or c·√max(rows, cols) for consistent RMS (Optax's `scale_by_shape`). */
const shapeScale = ([rows, cols]: MatrixShape, consistentRms: number | null): number =>
  consistentRms === null
    ? Math.sqrt(Math.max(1, cols / rows))
    : Math.sqrt(Math.max(rows, cols)) * consistentRms

const scaleUpdate: GradientTransform<ScaleByShapeState>["update"] = (updates, state) => {
  const leaves = Tree.leaves(updates)
  for (let k = 0; k < leaves.length; k++) Blas1.scal(state.scales[k]!, leaves[k]!)
  return { updates, state }
}

/**
 * Multiplies every matrix leaf by a factor of its shape (Optax's
 * `contrib.scale_by_shape`): √max(1, cols/rows), which keeps the RMS→RMS
 * operator norm of Muon's orthogonal steps independent of the width (Jordan
 * et al. 2024), or with `consistentRms: c` the factor c·√max(rows, cols),
 * which gives the orthogonalized update the RMS of an AdamW update (Liu et
 * al. 2025, §2.2). Every leaf must be declared in `shapes`.
 *
 * @throws InvalidOptions when `consistentRms` is not positive, or at `init` when a leaf has no shape.
 * @throws DimensionMismatch at `init` when a declared shape does not match its leaf's length.
 * @category transforms
 * @since 0.1.0
 */
export const scaleByShape = (options: ScaleByShapeOptions = {}): GradientTransform<ScaleByShapeState> => {
  const op = "scaleByShape"
  const consistentRms = checkConsistentRms(op, options.consistentRms)
  return {
    init: (params) => ({
      scales: requireAllShapes(op, resolveShapes(op, options.shapes, params)).map((s) =>
        shapeScale(s, consistentRms)
      )
    }),
    update: (updates, state) => {
      checkLeafCount(op, "updates", updates, state.scales.length)
      return scaleUpdate(updates, state)
    }
  }
}

/**
 * Muon (Jordan et al. 2024; Liu et al. 2025) as `optax.contrib.muon`: the
 * matrix leaves declared in `shapes` get `chain(scaleByMuon, scaleByShape,
 * addDecayedWeights(λ), scaleByLearningRate(η))`; the other leaves get the
 * fallback, by default `Optimizers.adamw(adamLearningRate ?? η, { b1:
 * adamB1, b2: adamB2, eps, epsRoot: adamEpsRoot, weightDecay:
 * adamWeightDecay, nesterov })`. `update` needs `params` when a weight decay
 * is non-zero.
 *
 * @throws InvalidOptions when an option is out of range, or at `init` when `shapes` names an unknown leaf.
 * @throws DimensionMismatch at `init` when a declared shape does not match its leaf's length.
 * @category optimizers
 * @since 0.1.0
 */
export const muon = (learningRate: StepSize, options: MuonOptions = {}): GradientTransform<MuonState> => {
  const op = "muon"
  requireStepSize(op, "learningRate", learningRate)
  const settings = muonSettings(op, options)
  const consistentRms = checkConsistentRms(op, options.consistentRms)
  const weightDecay = options.weightDecay ?? muonDefaults.weightDecay
  requireStepSize(op, "weightDecay", weightDecay)
  const decay = addDecayedWeights(weightDecay)
  const rate = scaleByLearningRate(learningRate)
  const matrixChain = chain(
    { init: () => undefined as unknown as ScaleByMuonState, update: muonUpdate(op, settings) },
    { init: () => undefined as unknown as ScaleByShapeState, update: scaleUpdate },
    decay,
    rate
  )
  // biome-ignore lint/suspicious/noExplicitAny: any transform state; see `chain`.
  const fallback: GradientTransform<any> =
    options.fallback ??
    adamw(options.adamLearningRate ?? learningRate, {
      b1: requireDecay(op, "adamB1", options.adamB1 ?? muonDefaults.adamB1),
      b2: requireDecay(op, "adamB2", options.adamB2 ?? muonDefaults.adamB2),
      eps: settings.eps,
      epsRoot: requireNonNegative(op, "adamEpsRoot", options.adamEpsRoot ?? muonDefaults.adamEpsRoot),
      weightDecay: requireStepSize(
        op,
        "adamWeightDecay",
        options.adamWeightDecay ?? muonDefaults.adamWeightDecay
      ),
      nesterov: settings.nesterov
    })
  if (
    fallback === null ||
    typeof fallback !== "object" ||
    typeof fallback.init !== "function" ||
    typeof fallback.update !== "function"
  ) {
    throw invalid(op, "fallback", fallback, "a GradientTransform")
  }
  const pick = (leaves: ReadonlyArray<Float64Array>, indices: ReadonlyArray<number>): Float64Array[] =>
    indices.map((k) => leaves[k]!)
  return {
    init: (params) => {
      const shapes = resolveShapes(op, options.shapes, params)
      const leaves = Tree.leaves(params)
      const matrixLeaves: number[] = []
      const otherLeaves: number[] = []
      shapes.forEach((s, k) => {
        ;(s === undefined ? otherLeaves : matrixLeaves).push(k)
      })
      const matrixParams = pick(leaves, matrixLeaves)
      const matrixShapes = matrixLeaves.map((k) => shapes[k]!)
      return {
        matrixLeaves,
        otherLeaves,
        matrix: [
          { count: 0, mu: Tree.zerosLike(matrixParams), shapes: matrixShapes },
          { scales: matrixShapes.map((s) => shapeScale(s, consistentRms)) },
          decay.init(matrixParams),
          rate.init(matrixParams)
        ],
        fallback: fallback.init(pick(leaves, otherLeaves))
      }
    },
    update: (updates, state, params, extras) => {
      const total = state.matrixLeaves.length + state.otherLeaves.length
      const gs = checkLeafCount(op, "updates", updates, total)
      const ps = params === undefined ? undefined : checkLeafCount(op, "params", params, total)
      if (state.matrixLeaves.length > 0) {
        matrixChain.update(
          pick(gs, state.matrixLeaves),
          state.matrix,
          ps === undefined ? undefined : pick(ps, state.matrixLeaves),
          extras
        )
      }
      if (state.otherLeaves.length > 0) {
        const r = fallback.update(
          pick(gs, state.otherLeaves),
          state.fallback,
          ps === undefined ? undefined : pick(ps, state.otherLeaves),
          extras
        )
        // The fallback writes in place; copy in case it returned other buffers.
        const out = Tree.leaves(r.updates)
        state.otherLeaves.forEach((k, j) => {
          if (out[j] !== gs[k]) Blas1.copy(out[j]!, gs[k]!)
        })
        state.fallback = r.state
      }
      return { updates, state }
    }
  }
}
