/**
 * Monotone operators and the shared plumbing of the monotone-inclusion
 * solvers (`Halpern`, `Extragradient`, `VarianceReducedHalpern`).
 *
 * A monotone inclusion asks for x with 0 = F(x) (or 0 ∈ F(x) + N_C(x) for a
 * box C) where F: ℝⁿ → ℝⁿ is monotone, ⟨F(x) − F(y), x − y⟩ ≥ 0, and
 * L-Lipschitz. Convex-concave saddle problems min_x max_y Φ(x, y) are the
 * standard instance, with F(x, y) = (∇ₓΦ, −∇ᵧΦ); minimization is the case
 * F = ∇f. Gradient descent–ascent x ← x − ηF(x) diverges on the simplest of
 * them (bilinear Φ = xᵀAy: F is skew, and I − ηF expands every vector by
 * √(1 + η²σ²)), which is why these problems get their own solvers.
 *
 * This module provides the operator interfaces (`Operator`, and
 * `FiniteSumOperator` for F = (1/n)·Σᵢ Fᵢ), constructors (`affine`,
 * `bilinearSaddle`, `affineFiniteSum`), meters, the result record
 * (`InclusionResult`) and `runInclusion`, the analogue of `Minimize.runSolver`
 * for these solvers. Residuals are Euclidean norms: the operator residual
 * ‖F(x)‖₂ (with a box, the natural residual ‖x − P_C(x − F(x))‖₂, zero
 * exactly at solutions) or a map's fixed-point residual ‖x − T(x)‖₂.
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Errors, Matrix, Solver, Vector } from "@descent/core"
import { Norms } from "@descent/linalg"
import { invalid } from "./internal/validate.ts"
import { type Bounds, projectOntoBounds } from "./Minimize.ts"

/**
 * An operator F: ℝⁿ → ℝⁿ, meant monotone and Lipschitz.
 *
 * @category models
 * @since 0.1.0
 */
export interface Operator {
  /** n. */
  readonly dimension: number
  /** Writes F(x) into `out` (which does not alias x). */
  apply(x: Float64Array, out: Float64Array): void
  /** L, a Lipschitz constant of F, when known (solvers derive default step sizes from it). */
  readonly lipschitz?: number
}

/**
 * F = (1/n)·Σᵢ Fᵢ with component oracles; `apply` evaluates the mean.
 *
 * @category models
 * @since 0.1.0
 */
export interface FiniteSumOperator extends Operator {
  /** n ≥ 1, the number of components. */
  readonly count: number
  /** Writes Fᵢ(x) into `out`, 0 ≤ i < n. */
  component(i: number, x: Float64Array, out: Float64Array): void
  /**
   * L_Q with (1/n)·Σᵢ ‖Fᵢ(u) − Fᵢ(v)‖² ≤ L_Q²‖u − v‖² (Lipschitz "on average",
   * the constant of variance-reduced methods), when known.
   */
  readonly meanSquareLipschitz?: number
}

/**
 * Oracle counts of an inclusion solver: `operator` counts full evaluations
 * of F (or of the fixed-point map T for `Halpern`), `component` evaluations
 * of single components Fᵢ. A full evaluation of a finite-sum operator is
 * counted once in `operator`, never as n components.
 *
 * @category models
 * @since 0.1.0
 */
export interface InclusionCounts {
  operator: number
  component: number
}

/**
 * Options every inclusion solver accepts.
 *
 * @category models
 * @since 0.1.0
 */
export interface InclusionOptions {
  /** Iteration budget (an integer ≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Record metrics every this many iterations; 0 (default) records nothing. */
  readonly traceEvery?: number
  /** Aborting the signal ends the run as `interrupted` at the next iteration. */
  readonly signal?: AbortSignal
  /** Stop as `converged` once the residual ≤ tolerance (≥ 0). Default 1e-8. */
  readonly tolerance?: number
}

/**
 * Defaults of `InclusionOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const inclusionDefaults = { maxIterations: 1000, traceEvery: 0, tolerance: 1e-8 } as const

/**
 * The result of an inclusion solver.
 *
 * @category models
 * @since 0.1.0
 */
export interface InclusionResult {
  /** How the run ended (`diverged`: F or T became NaN/±∞; x is then the last finite iterate). */
  readonly status: Solver.Status
  /** Why, in words. */
  readonly message: string
  /** Iterations performed. */
  readonly iterations: number
  /** The solution estimate. */
  readonly x: Float64Array
  /** The solver's residual at x (see each solver: ‖F(x)‖₂, natural or fixed-point residual). */
  readonly residual: number
  /** Operator and component evaluations. */
  readonly counts: InclusionCounts
  /** Per-iteration metrics when `traceEvery` > 0 (else empty). */
  readonly trace: Solver.Trace
}

/**
 * The part of an inclusion solver's output that `runInclusion` completes.
 *
 * @category models
 * @since 0.1.0
 */
export type InclusionOutput = Omit<InclusionResult, "status" | "iterations" | "trace" | "message"> & {
  readonly message?: string
}

const checkLoopInteger = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw invalid(operation, field, value, "an integer ≥ 0")
  }
  return value
}

/**
 * Runs an inclusion solver with core's generic loop (budget, divergence on a
 * non-finite residual, abort signal, trace) and returns its result with `Output`'s
 * extra fields.
 *
 * @category combinators
 * @since 0.1.0
 */
export const runInclusion = <
  Problem,
  Options extends InclusionOptions,
  State,
  Output extends InclusionOutput
>(
  solver: Solver.IterativeSolver<Problem, Options, State, Output>,
  problem: Problem,
  options: Options
): InclusionResult & Omit<Output, keyof InclusionOutput> => {
  const maxIterations = checkLoopInteger(
    solver.name,
    "maxIterations",
    options.maxIterations ?? inclusionDefaults.maxIterations
  )
  const traceEvery = checkLoopInteger(
    solver.name,
    "traceEvery",
    options.traceEvery ?? inclusionDefaults.traceEvery
  )
  const run = Solver.run(solver, problem, options, {
    maxIterations,
    traceEvery,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  const { message, ...output } = run.output
  return {
    ...output,
    status: run.status,
    iterations: run.iterations,
    trace: run.trace,
    message: message ?? defaultMessage(run.status, run.iterations, output.residual)
  } as unknown as InclusionResult & Omit<Output, keyof InclusionOutput>
}

const defaultMessage = (status: Solver.Status, iterations: number, residual: number): string => {
  switch (status) {
    case "converged":
      return `converged after ${iterations} iterations (residual ${residual.toExponential(2)})`
    case "maxIterations":
      return `iteration budget of ${iterations} reached (residual ${residual.toExponential(2)})`
    case "diverged":
      return "the operator became NaN or infinite; x is the last finite iterate"
    case "stalled":
      return "no further progress possible"
    case "interrupted":
      return "interrupted"
  }
}

/**
 * Checks a start against the dimension and for NaN/±∞; returns a fresh copy.
 *
 * @throws DimensionMismatch when `x0.length` ≠ `dimension`.
 * @throws NonFiniteInput when `x0` has a NaN or ±∞ entry.
 * @category constructors
 * @since 0.1.0
 */
export const checkStart = (operation: string, dimension: number, x0: Float64Array): Float64Array => {
  Vector.assertLength(operation, "x0", x0, dimension)
  Vector.assertFinite(operation, "x0", x0)
  return Vector.clone(x0)
}

/**
 * Throws `InvalidOptions` naming `problem` unless `op` looks like an operator.
 *
 * @category guards
 * @since 0.1.0
 */
export const assertOperator = (operation: string, op: Operator): void => {
  if (
    op === null ||
    typeof op !== "object" ||
    !Number.isInteger(op.dimension) ||
    op.dimension < 0 ||
    typeof op.apply !== "function"
  ) {
    throw invalid(operation, "operator", op, "an Operator: dimension and apply(x, out)")
  }
}

/**
 * The natural residual ‖x − P_C(x − F(x))‖₂, ‖F(x)‖₂ without bounds; zero
 * exactly at the solutions of 0 ∈ F(x) + N_C(x). `work` is scratch.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const naturalResidual = (
  x: Float64Array,
  fx: Float64Array,
  bounds: Bounds | undefined,
  work: Float64Array
): number => {
  if (bounds === undefined) return Blas1.nrm2(fx)
  Blas1.copy(x, work)
  Blas1.axpy(-1, fx, work)
  projectOntoBounds(work, bounds)
  Blas1.axpby(1, x, -1, work)
  return Blas1.nrm2(work)
}

/**
 * The affine operator F(x) = A·x − b (A square n × n), monotone when
 * A + Aᵀ ⪰ 0 and strongly monotone when A + Aᵀ ≻ 0; its zero solves
 * A·x = b. `lipschitz` = ‖A‖₂ (`Norms.norm(A, 2)`). A and b are referenced.
 *
 * @throws DimensionMismatch when A is not square or b has the wrong length.
 * @throws NonFiniteInput when A or b has a NaN or ±∞ entry.
 * @category constructors
 * @since 0.1.0
 */
export const affine = (A: Matrix.Matrix, b: Float64Array): Operator => {
  const op = "MonotoneOperator.affine"
  Matrix.assertSquare(op, "A", A)
  Vector.assertFinite(op, "A", A.data)
  Vector.assertLength(op, "b", b, A.rows)
  Vector.assertFinite(op, "b", b)
  return {
    dimension: A.rows,
    lipschitz: Norms.norm(A, 2),
    apply: (x, out) => {
      Blas1.copy(b, out)
      Blas2.gemv(1, A, x, -1, out)
    }
  }
}

/**
 * The operator of the bilinear saddle problem
 *
 *   min_x max_y  xᵀAy + pᵀx − qᵀy,   A m × k,
 *
 * on z = (x, y) ∈ ℝ^(m+k): F(z) = (Ay + p, −Aᵀx + q). It is monotone (its
 * linear part is skew-symmetric), ‖A‖₂-Lipschitz and not strongly monotone;
 * its zeros are the saddle points Ay = −p, Aᵀx = q. `p` and `q` default to 0.
 *
 * @throws DimensionMismatch when p or q has the wrong length.
 * @throws NonFiniteInput when A, p or q has a NaN or ±∞ entry.
 * @category constructors
 * @since 0.1.0
 */
export const bilinearSaddle = (A: Matrix.Matrix, p?: Float64Array, q?: Float64Array): Operator => {
  const op = "MonotoneOperator.bilinearSaddle"
  const m = A.rows
  const k = A.cols
  const pp = p ?? Vector.zeros(m)
  const qq = q ?? Vector.zeros(k)
  Vector.assertFinite(op, "A", A.data)
  Vector.assertLength(op, "p", pp, m)
  Vector.assertLength(op, "q", qq, k)
  Vector.assertFinite(op, "p", pp)
  Vector.assertFinite(op, "q", qq)
  return {
    dimension: m + k,
    lipschitz: Norms.norm(A, 2),
    apply: (z, out) => {
      const x = z.subarray(0, m)
      const y = z.subarray(m, m + k)
      const ox = out.subarray(0, m)
      const oy = out.subarray(m, m + k)
      Blas1.copy(pp, ox)
      Blas2.gemv(1, A, y, 1, ox)
      Blas1.copy(qq, oy)
      Blas2.gemvT(-1, A, x, 1, oy)
    }
  }
}

/**
 * F = (1/n)·Σᵢ Fᵢ with affine components Fᵢ(x) = Aᵢ·x − bᵢ (each Aᵢ d × d).
 * `apply` evaluates the mean operator with the averaged matrix and vector
 * (formed once here), `component(i, …)` one term. `lipschitz` = ‖Ā‖₂ and
 * `meanSquareLipschitz` = √((1/n)·Σᵢ ‖Aᵢ‖₂²). Matrices are referenced.
 *
 * @throws EmptyInput when there are no components.
 * @throws DimensionMismatch when the components' shapes differ.
 * @throws NonFiniteInput when a component has a NaN or ±∞ entry.
 * @category constructors
 * @since 0.1.0
 */
export const affineFiniteSum = (
  components: ReadonlyArray<{ readonly A: Matrix.Matrix; readonly b: Float64Array }>
): FiniteSumOperator => {
  const op = "MonotoneOperator.affineFiniteSum"
  const n = components.length
  if (n === 0) throw new Errors.EmptyInput({ operation: op, what: "components" })
  const d = components[0]!.A.rows
  const meanA = Matrix.zeros(d, d)
  const meanB = Vector.zeros(d)
  let squares = 0
  for (let i = 0; i < n; i++) {
    const { A, b } = components[i]!
    Matrix.assertShape(op, `components[${i}].A`, A, d, d)
    Vector.assertFinite(op, `components[${i}].A`, A.data)
    Vector.assertLength(op, `components[${i}].b`, b, d)
    Vector.assertFinite(op, `components[${i}].b`, b)
    const norm = Norms.norm(A, 2)
    squares += norm * norm
    Blas1.axpy(1 / n, A.data, meanA.data)
    Blas1.axpy(1 / n, b, meanB)
  }
  return {
    dimension: d,
    count: n,
    lipschitz: Norms.norm(meanA, 2),
    meanSquareLipschitz: Math.sqrt(squares / n),
    apply: (x, out) => {
      Blas1.copy(meanB, out)
      Blas2.gemv(1, meanA, x, -1, out)
    },
    component: (i, x, out) => {
      const c = components[i]!
      Blas1.copy(c.b, out)
      Blas2.gemv(1, c.A, x, -1, out)
    }
  }
}

/**
 * An operator with its counts (`operator` full evaluations, `component` Fᵢ).
 *
 * @category models
 * @since 0.1.0
 */
export interface MeteredFiniteSumOperator extends FiniteSumOperator {
  readonly counts: Readonly<InclusionCounts>
}

/**
 * An operator with its count of evaluations.
 *
 * @category models
 * @since 0.1.0
 */
export interface MeteredOperator extends Operator {
  readonly counts: Readonly<InclusionCounts>
}

/**
 * Wraps `F` so that each `apply` adds 1 to `counts.operator`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const meter = (F: Operator): MeteredOperator => {
  const counts: InclusionCounts = { operator: 0, component: 0 }
  return {
    dimension: F.dimension,
    counts,
    ...(F.lipschitz === undefined ? {} : { lipschitz: F.lipschitz }),
    apply: (x, out) => {
      counts.operator++
      F.apply(x, out)
    }
  }
}

/**
 * Wraps a finite-sum operator: `apply` adds 1 to `counts.operator`,
 * `component` 1 to `counts.component`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const meterFiniteSum = (F: FiniteSumOperator): MeteredFiniteSumOperator => {
  const counts: InclusionCounts = { operator: 0, component: 0 }
  return {
    dimension: F.dimension,
    count: F.count,
    counts,
    ...(F.lipschitz === undefined ? {} : { lipschitz: F.lipschitz }),
    ...(F.meanSquareLipschitz === undefined ? {} : { meanSquareLipschitz: F.meanSquareLipschitz }),
    apply: (x, out) => {
      counts.operator++
      F.apply(x, out)
    },
    component: (i, x, out) => {
      counts.component++
      F.component(i, x, out)
    }
  }
}
