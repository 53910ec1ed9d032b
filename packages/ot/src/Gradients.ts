/**
 * Gradients of the entropic OT cost, and differentiable versions of it for
 * core's `Autodiff` (so `Autodiff.grad` of a loss that calls `sinkhornCost`
 * works, and later bilevel code can differentiate through Sinkhorn).
 *
 * The value is the regularized cost
 *
 *   OT_ε(C) = min_{P ∈ U(a, b)} ⟨C, P⟩ + ε·KL(P | a⊗b)
 *           = ⟨f, a⟩ + ⟨g, b⟩ − ε(ΣP − ΣaΣb)    (the dual value at the optimum),
 *
 * computed by log-domain Sinkhorn (potentials f, g, P = a⊗b·exp((f ⊕ g − C)/ε)).
 * By the envelope theorem (Danskin; Peyré & Cuturi, "Computational Optimal
 * Transport", 2019, Prop. 9.2) its gradient with respect to the cost matrix
 * is the optimal plan, ∂OT_ε/∂C = P*, with no differentiation through the
 * iterations. Through a ground cost C_ij = c(x_i, y_j)/scale, by the chain rule:
 *
 *   squared Euclidean: ∇_{x_i} = (2/scale)·Σ_j P_ij (x_i − y_j),
 *                      ∇_{y_j} = (2/scale)·Σ_i P_ij (y_j − x_i);
 *   Euclidean:         the same with 2·P_ij replaced by P_ij/‖x_i − y_j‖
 *                      (0 for coincident points, where ‖·‖ has no gradient).
 *
 * The differentiable functions are `Autodiff.customVjp` primitives: the
 * forward pass runs Sinkhorn to `tolerance` (it throws `SinkhornNotConverged`
 * rather than return a wrong derivative), the rule applies the formulas above
 * with P held fixed. First derivatives are exact at convergence; second
 * derivatives (`hvp`) would miss the plan's own dependence on x, y or C and
 * are not supported.
 *
 * (The gradient of the linear cost ⟨C, P_ε⟩ alone is not P_ε: the plan moves
 * with C. Use OT_ε, as here and in the Sinkhorn divergence.)
 *
 * @since 0.1.0
 */
import { Autodiff, Errors, Matrix, Tensor as T, Vector } from "@descent/core"
import { Data } from "effect"
import * as Geometry from "./Geometry.ts"
import {
  checkBalanced,
  checkMatrix,
  checkSupport,
  initScaling,
  integerAtLeast,
  linearCost,
  nonNegative,
  planInto,
  positiveFinite,
  readWeights,
  runScaling
} from "./internal/logScaling.ts"

/**
 * The Sinkhorn iterations behind a differentiable cost did not reach their
 * tolerance: its value and gradient would be those of an infeasible plan.
 * Raise `maxIterations` or ε.
 *
 * @category errors
 * @since 0.1.0
 */
export class SinkhornNotConverged extends Data.TaggedError("SinkhornNotConverged")<{
  readonly operation: string
  readonly epsilon: number
  readonly iterations: number
  readonly marginalError: number
  readonly tolerance: number
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly epsilon: number
    readonly iterations: number
    readonly marginalError: number
    readonly tolerance: number
  }) {
    super({
      ...args,
      message:
        `${args.operation}: Sinkhorn at ε = ${args.epsilon} reached a marginal error of ${args.marginalError} ` +
        `after ${args.iterations} iterations, above the tolerance ${args.tolerance}; raise maxIterations or ε`
    })
  }
}

/**
 * Options of the entropic cost and its gradients.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornCostOptions {
  /** ε > 0, in cost units (after `scale`). Default 0.05. */
  readonly epsilon?: number
  /** Weights of x (or of the rows of C); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Weights of y (or of the columns of C); default uniform 1/m. Masses must agree (relative 1e-9). */
  readonly b?: ArrayLike<number>
  /** Ground cost of point clouds. Default `"sqeuclidean"`. */
  readonly cost?: Geometry.PointCost
  /** Point-cloud costs are divided by this fixed factor (> 0). Default 1. */
  readonly scale?: number
  /** Sinkhorn stops at marginal error ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-10. */
  readonly tolerance?: number
  /** Sinkhorn iteration budget (≥ 0); not converging throws `SinkhornNotConverged`. Default 10000. */
  readonly maxIterations?: number
}

/**
 * Defaults of `SinkhornCostOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornCostOptions = {
  epsilon: 0.05,
  cost: "sqeuclidean",
  scale: 1,
  tolerance: 1e-10,
  maxIterations: 10_000
} as const

/**
 * OT_ε and its gradient with respect to the cost matrix.
 *
 * @category models
 * @since 0.1.0
 */
export interface CostMatrixGradient {
  /** OT_ε(C). */
  readonly value: number
  /** ∂OT_ε/∂C = P (n × m). */
  readonly gradient: Matrix.Matrix
  /** ⟨C, P⟩. */
  readonly linearCost: number
  readonly f: Float64Array
  readonly g: Float64Array
  readonly iterations: number
  readonly marginalError: number
}

/**
 * OT_ε of two point clouds and its gradients with respect to the points.
 *
 * @category models
 * @since 0.1.0
 */
export interface PointGradients extends CostMatrixGradient {
  /** ∂OT_ε/∂x (n × d). */
  readonly gradientX: Matrix.Matrix
  /** ∂OT_ε/∂y (m × d). */
  readonly gradientY: Matrix.Matrix
}

interface Settings {
  readonly epsilon: number
  readonly tolerance: number
  readonly maxIterations: number
}

const settings = (operation: string, options: SinkhornCostOptions): Settings => ({
  epsilon: positiveFinite(operation, "epsilon", options.epsilon ?? defaultSinkhornCostOptions.epsilon),
  tolerance: nonNegative(operation, "tolerance", options.tolerance ?? defaultSinkhornCostOptions.tolerance),
  maxIterations: integerAtLeast(
    operation,
    "maxIterations",
    options.maxIterations ?? defaultSinkhornCostOptions.maxIterations,
    0
  )
})

/** Entropic OT on an explicit cost: value, plan, potentials; throws when not converged. */
const entropic = (
  operation: string,
  C: Matrix.Matrix,
  options: SinkhornCostOptions,
  s: Settings
): CostMatrixGradient => {
  const n = C.rows
  const m = C.cols
  const { w: a, mass: massA } = readWeights(operation, "a", options.a, n)
  const { w: b, mass: massB } = readWeights(operation, "b", options.b, m)
  checkBalanced(operation, massA, massB, 1e-9)
  checkSupport(operation, C, a, b)
  const inf = Number.POSITIVE_INFINITY
  const state = initScaling(C, a, b, s.epsilon, inf, inf)
  const iterations = runScaling(state, s.tolerance, s.maxIterations)
  if (!(state.error <= s.tolerance))
    throw new SinkhornNotConverged({
      operation,
      epsilon: s.epsilon,
      iterations,
      marginalError: state.error,
      tolerance: s.tolerance
    })
  const { cost, mass } = linearCost(C, state.f, state.g, state.logA, state.logB, s.epsilon)
  let value = -s.epsilon * (mass - massA * massB)
  for (let i = 0; i < n; i++) if (a[i]! > 0) value += a[i]! * state.f[i]!
  for (let j = 0; j < m; j++) if (b[j]! > 0) value += b[j]! * state.g[j]!
  return {
    value,
    gradient: planInto(C, state.f, state.g, state.logA, state.logB, s.epsilon, Matrix.zeros(n, m)),
    linearCost: cost,
    f: Vector.clone(state.f),
    g: Vector.clone(state.g),
    iterations,
    marginalError: state.error
  }
}

/**
 * OT_ε(C) and ∂OT_ε/∂C = P for an explicit cost matrix (+∞ marks forbidden pairs).
 *
 * @throws InvalidOptions, DimensionMismatch, NonFiniteInput, NegativeMass,
 *   UnbalancedMarginals for bad inputs; SinkhornNotConverged.
 * @category evaluators
 * @since 0.1.0
 */
export const costMatrixGradient = (
  C: Matrix.Matrix,
  options: SinkhornCostOptions = {}
): CostMatrixGradient => {
  const operation = "Gradients.costMatrixGradient"
  const s = settings(operation, options)
  checkMatrix(operation, "C", C, C.rows, C.cols, true)
  return entropic(operation, C, options, s)
}

/** The point-cloud cost matrix c(x_i, y_j)/scale. */
const pointCost = (operation: string, x: Matrix.Matrix, y: Matrix.Matrix, options: SinkhornCostOptions) => {
  const scale = positiveFinite(operation, "scale", options.scale ?? defaultSinkhornCostOptions.scale)
  const kind = options.cost ?? defaultSinkhornCostOptions.cost
  const geometry = { ...Geometry.pointCloud(x, y, { cost: kind }), scale }
  return { C: Geometry.materialize(geometry), scale, kind }
}

/**
 * A = (2/scale)·P (squared Euclidean) or P_ij/(scale·‖x_i − y_j‖)
 * (Euclidean, 0 where the points coincide): the weights of the chain rule.
 */
const chainWeights = (
  P: Matrix.Matrix,
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  kind: Geometry.PointCost,
  scale: number
): Matrix.Matrix => {
  const A = Matrix.clone(P)
  if (kind === "sqeuclidean") {
    for (let k = 0; k < A.data.length; k++) A.data[k] = (2 / scale) * A.data[k]!
    return A
  }
  const d = x.cols
  for (let i = 0; i < P.rows; i++)
    for (let j = 0; j < P.cols; j++) {
      let s = 0
      for (let k = 0; k < d; k++) s += (x.data[i * d + k]! - y.data[j * d + k]!) ** 2
      const o = i * P.cols + j
      A.data[o] = s > 0 ? A.data[o]! / (scale * Math.sqrt(s)) : 0
    }
  return A
}

/** (A1 ⊙ x − A·y) and (Aᵀ1 ⊙ y − Aᵀ·x), plainly. */
const pointGradientsFrom = (A: Matrix.Matrix, x: Matrix.Matrix, y: Matrix.Matrix) => {
  const n = x.rows
  const m = y.rows
  const d = x.cols
  const gx = Matrix.zeros(n, d)
  const gy = Matrix.zeros(m, d)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const w = A.data[i * m + j]!
      if (w === 0) continue
      for (let k = 0; k < d; k++) {
        const diff = x.data[i * d + k]! - y.data[j * d + k]!
        gx.data[i * d + k] = gx.data[i * d + k]! + w * diff
        gy.data[j * d + k] = gy.data[j * d + k]! - w * diff
      }
    }
  return { gx, gy }
}

/**
 * OT_ε between the point clouds x (n × d) and y (m × d) with the ground cost
 * c(x, y)/scale, and its gradients with respect to the points.
 *
 * @throws the errors of `Geometry.pointCloud`; InvalidOptions,
 *   NegativeMass, UnbalancedMarginals for bad options; SinkhornNotConverged.
 * @category evaluators
 * @since 0.1.0
 */
export const pointGradients = (
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  options: SinkhornCostOptions = {}
): PointGradients => {
  const operation = "Gradients.pointGradients"
  const s = settings(operation, options)
  const { C, scale, kind } = pointCost(operation, x, y, options)
  const result = entropic(operation, C, options, s)
  const { gx, gy } = pointGradientsFrom(chainWeights(result.gradient, x, y, kind, scale), x, y)
  return { ...result, gradientX: gx, gradientY: gy }
}

const asMatrix = (t: T.Tensor, operation: string, what: string): Matrix.Matrix => {
  if (t.shape.length !== 2)
    throw new Errors.DimensionMismatch({
      operation,
      what: `${what} (a matrix)`,
      expected: [t.size, 1],
      actual: [...t.shape]
    })
  return { rows: t.shape[0]!, cols: t.shape[1]!, data: t.data }
}

/**
 * OT_ε(x, y) as a differentiable scalar tensor: use it inside functions given
 * to `Autodiff.grad`, `valueAndGrad` or `vjp` (x and y are n × d and m × d;
 * both receive gradients). Options are fixed (not differentiated).
 *
 * @example
 * const loss = (x: Tensor.Tensor) => Gradients.sinkhornCost(x, y, { epsilon: 0.1 })
 * const gradient = Autodiff.grad(loss)(x0)
 * @throws as `pointGradients`, when the function is evaluated.
 * @category differentiable
 * @since 0.1.0
 */
export const sinkhornCost = (
  x: T.TensorLike,
  y: T.TensorLike,
  options: SinkhornCostOptions = {}
): T.Tensor => {
  const operation = "Gradients.sinkhornCost"
  const s = settings(operation, options)
  let weights: Matrix.Matrix | undefined
  const primitive = Autodiff.customVjp(
    ([tx, ty]) => {
      const X = asMatrix(tx!, operation, "x")
      const Y = asMatrix(ty!, operation, "y")
      const { C, scale, kind } = pointCost(operation, X, Y, options)
      const result = entropic(operation, C, options, s)
      weights = chainWeights(result.gradient, X, Y, kind, scale)
      return T.scalar(result.value)
    },
    (g, _output, [tx, ty]) => {
      // A is a constant of the rule: gradients are exact, Hessians are not (see the module comment).
      const A = T.from(weights!)
      const rowWeights = T.sum(A, 1)
      const colWeights = T.sum(A, 0)
      const n = tx!.shape[0]!
      const m = ty!.shape[0]!
      const gx = T.sub(T.mul(T.reshape(rowWeights, [n, 1]), tx!), T.matmul(A, ty!))
      const gy = T.sub(T.mul(T.reshape(colWeights, [m, 1]), ty!), T.matmul(T.transpose(A), tx!))
      return [T.mul(g, gx), T.mul(g, gy)]
    }
  )
  return primitive(x, y)
}

/**
 * OT_ε(C) as a differentiable scalar tensor of the cost matrix C (n × m):
 * its cotangent is g·P.
 *
 * @throws as `costMatrixGradient`, when the function is evaluated.
 * @category differentiable
 * @since 0.1.0
 */
export const sinkhornCostMatrix = (C: T.TensorLike, options: SinkhornCostOptions = {}): T.Tensor => {
  const operation = "Gradients.sinkhornCostMatrix"
  const s = settings(operation, options)
  let plan: Matrix.Matrix | undefined
  const primitive = Autodiff.customVjp(
    ([tc]) => {
      const M = asMatrix(tc!, operation, "C")
      checkMatrix(operation, "C", M, M.rows, M.cols, true)
      const result = entropic(operation, M, options, s)
      plan = result.gradient
      return T.scalar(result.value)
    },
    (g) => [T.mul(g, T.from(plan!))]
  )
  return primitive(C)
}
