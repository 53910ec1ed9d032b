/**
 * The alternating direction method of multipliers (ADMM) for two-block
 * problems
 *
 *   min f(x) + g(z)  subject to  A·x + B·z = c,
 *
 * x ∈ ℝⁿ, z ∈ ℝᵐ, c ∈ ℝᵖ, in the scaled form of Boyd, Parikh, Chu, Peleato &
 * Eckstein, "Distributed Optimization and Statistical Learning via the
 * Alternating Direction Method of Multipliers", Found. Trends Mach. Learn.
 * 3(1), 2011, §3.1.1 (u = y/ρ, the scaled dual variable):
 *
 *   xᵏ⁺¹ = argmin_x f(x) + (ρ/2)‖A·x + B·zᵏ − c + uᵏ‖²
 *   zᵏ⁺¹ = argmin_z g(z) + (ρ/2)‖A·xᵏ⁺¹ + B·z − c + uᵏ‖²
 *   uᵏ⁺¹ = uᵏ + A·xᵏ⁺¹ + B·zᵏ⁺¹ − c.
 *
 * The two minimizations are the user's oracles (`minimizeX`, `minimizeZ`:
 * proximal operators when A or B is ±I). The run stops when the primal
 * residual r = A·x + B·z − c and the dual residual s = ρ·Aᵀ·B·(zᵏ⁺¹ − zᵏ)
 * satisfy Boyd's §3.3.1 test,
 *
 *   ‖r‖₂ ≤ √p·ε_abs + ε_rel·max(‖A·x‖₂, ‖B·z‖₂, ‖c‖₂),
 *   ‖s‖₂ ≤ √n·ε_abs + ε_rel·‖ρ·Aᵀ·u‖₂,
 *
 * and, with residual balancing (§3.4.1), ρ is multiplied by τ when
 * ‖r‖ > μ‖s‖ and divided by τ when ‖s‖ > μ‖r‖ (μ = 10, τ = 2 by default);
 * the scaled dual u = y/ρ is divided (multiplied) by τ with it, so the dual
 * y is unchanged.
 *
 * Ready-made problems: least squares plus any `Prox` regularizer (the lasso,
 * §6.4: the x-update solves (AᵀA + ρI)·x = Aᵀb + ρ·v with a Cholesky factor
 * cached for the current ρ, the z-update is soft-thresholding), and global
 * consensus (§7.1) of N local objectives with their own proximal oracles
 * and an optional regularizer on the consensus variable.
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Blas3, Errors, Matrix, Memory, Objective, type Solver, Vector } from "@descent/core"
import { Cholesky } from "@descent/linalg"
import { allFinite } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositive } from "./internal/validate.ts"
import {
  defaultMinimizeOptions,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"
import * as Prox from "./Prox.ts"

// ---------------------------------------------------------------------------
// Problems

/**
 * A minimization oracle: writes into `out` a minimizer of
 * h(w) + (ρ/2)‖M·w − v‖² for the block's function h and matrix M. On entry
 * `out` holds the current value of the block (a warm start for iterative
 * inner solvers). With M = I this is the proximal operator prox_{h/ρ}(v).
 *
 * @category models
 * @since 0.1.0
 */
export type MinimizationOracle = (v: Float64Array, rho: number, out: Float64Array) => void

/**
 * A two-block problem min f(x) + g(z) s.t. A·x + B·z = c. A (p × n) and B
 * (p × m) are dense matrices or linear operators with `applyTranspose`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Problem {
  readonly A: Matrix.Matrix | Objective.LinearOperator
  readonly B: Matrix.Matrix | Objective.LinearOperator
  /** Length p. */
  readonly c: Float64Array
  /** out ← argmin_x f(x) + (ρ/2)‖A·x − v‖² (v = c − B·z − u). */
  readonly minimizeX: MinimizationOracle
  /** out ← argmin_z g(z) + (ρ/2)‖B·z − v‖² (v = c − A·x − u). */
  readonly minimizeZ: MinimizationOracle
  /** f(x). */
  readonly valueX: (x: Float64Array) => number
  /** g(z). */
  readonly valueZ: (z: Float64Array) => number
}

/**
 * Where ADMM starts: z⁰ (required, as in Boyd's iteration), the scaled dual
 * u⁰ (default 0) and x⁰ (default 0; only the warm start of the first
 * x-update).
 *
 * @category models
 * @since 0.1.0
 */
export interface Start {
  readonly z: Float64Array
  readonly x?: Float64Array
  readonly u?: Float64Array
}

/**
 * Options of `minimize` and the ready-made problems.
 *
 * @category models
 * @since 0.1.0
 */
export interface AdmmOptions extends MinimizeOptions {
  /** Iterations allowed. Default 10 000. */
  readonly maxIterations?: number
  /** The initial penalty ρ > 0. Default 1. */
  readonly rho?: number
  /** ε_abs ≥ 0 of the stopping test. Default 1e-6. */
  readonly absoluteTolerance?: number
  /** ε_rel ≥ 0 of the stopping test. Default 1e-4. */
  readonly relativeTolerance?: number
  /** Adapt ρ by residual balancing (Boyd §3.4.1). Default true. */
  readonly residualBalancing?: boolean
  /** μ > 1: rebalance when one residual exceeds μ times the other. Default 10. */
  readonly balancingThreshold?: number
  /** τ > 1: the factor ρ is multiplied or divided by. Default 2. */
  readonly balancingFactor?: number
  /**
   * Adapt ρ only during this many iterations (an integer ≥ 0, or ∞); with ρ
   * fixed afterwards the usual convergence theory applies (Boyd §3.4.1).
   * Default 1000.
   */
  readonly balancingIterations?: number
}

/**
 * Defaults of `AdmmOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultAdmmOptions = {
  ...defaultMinimizeOptions,
  maxIterations: 10_000,
  rho: 1,
  absoluteTolerance: 1e-6,
  relativeTolerance: 1e-4,
  residualBalancing: true,
  balancingThreshold: 10,
  balancingFactor: 2,
  balancingIterations: 1000
} as const

/**
 * The result of ADMM. `fun` is f(x) + g(z); `gradient` is the dual residual
 * s = ρ·Aᵀ·B·(zᵏ − zᵏ⁻¹), the residual of the stationarity condition
 * 0 ∈ ∂f(x) + Aᵀy (Boyd §3.3), and `gradientNorm` its 2-norm (NaN before the
 * first iteration). `counts.matvec` counts products with A, B and their
 * transposes, `counts.value` evaluations of f + g.
 *
 * @category models
 * @since 0.1.0
 */
export interface AdmmResult extends MinimizeResult {
  /** The z block. */
  readonly z: Float64Array
  /** The scaled dual u = y/ρ. */
  readonly scaledDual: Float64Array
  /** The dual variable (Lagrange multiplier of A·x + B·z = c) y = ρ·u. */
  readonly dual: Float64Array
  /** The final penalty ρ. */
  readonly rho: number
  /** ‖A·x + B·z − c‖₂. */
  readonly primalResidual: number
  /** ‖s‖₂. */
  readonly dualResidual: number
  /** The primal tolerance √p·ε_abs + ε_rel·max(‖A·x‖, ‖B·z‖, ‖c‖). */
  readonly primalTolerance: number
  /** The dual tolerance √n·ε_abs + ε_rel·‖ρ·Aᵀ·u‖. */
  readonly dualTolerance: number
  /** How many times residual balancing changed ρ. */
  readonly rhoUpdates: number
}

// ---------------------------------------------------------------------------
// Solver

interface State {
  readonly problem: Problem
  readonly A: Objective.MeteredOperator
  readonly B: Objective.MeteredOperator
  readonly n: number
  readonly m: number
  readonly p: number
  readonly absoluteTolerance: number
  readonly relativeTolerance: number
  readonly residualBalancing: boolean
  readonly balancingThreshold: number
  readonly balancingFactor: number
  readonly balancingIterations: number
  x: Float64Array
  z: Float64Array
  u: Float64Array
  Ax: Float64Array
  Bz: Float64Array
  xTrial: Float64Array
  zTrial: Float64Array
  uTrial: Float64Array
  AxTrial: Float64Array
  BzTrial: Float64Array
  /** Scratch of length p (oracle arguments, B·Δz). */
  readonly v: Float64Array
  /** r = A·x + B·z − c. */
  readonly r: Float64Array
  /** s = ρ·Aᵀ·B·Δz. */
  readonly s: Float64Array
  /** Aᵀ·u. */
  readonly atu: Float64Array
  rho: number
  primalResidual: number
  dualResidual: number
  primalTolerance: number
  dualTolerance: number
  converged: boolean
  diverged: boolean
  iteration: number
  rhoUpdates: number
  valueCount: number
}

/**
 * The input of `solver` (the `IterativeSolver`): the problem and the start.
 *
 * @category models
 * @since 0.1.0
 */
export interface Input {
  readonly problem: Problem
  readonly start: Start
}

const OPERATION = "Admm.minimize"

const asOperator = (what: string, M: Matrix.Matrix | Objective.LinearOperator): Objective.MeteredOperator => {
  const op = "apply" in M ? M : Objective.operatorFromMatrix(M)
  if (op.applyTranspose === undefined)
    throw invalid(OPERATION, what, M, "a matrix or a linear operator with applyTranspose")
  return Objective.meterOperator(op)
}

const finiteCopy = (what: string, x: Float64Array | undefined, length: number): Float64Array => {
  if (x === undefined) return Vector.zeros(length)
  Vector.assertLength(OPERATION, what, x, length)
  Vector.assertFinite(OPERATION, what, x)
  return Vector.clone(x)
}

const requireFactor = (field: string, value: number): number => {
  if (typeof value !== "number" || !(value > 1) || !Number.isFinite(value))
    throw invalid(OPERATION, field, value, "a finite number > 1")
  return value
}

const init = (input: Input, options: AdmmOptions): State => {
  const d = defaultAdmmOptions
  const { problem, start } = input
  const rho = requirePositive(OPERATION, "rho", options.rho ?? d.rho)
  const absoluteTolerance = requireNonNegative(
    OPERATION,
    "absoluteTolerance",
    options.absoluteTolerance ?? d.absoluteTolerance
  )
  const relativeTolerance = requireNonNegative(
    OPERATION,
    "relativeTolerance",
    options.relativeTolerance ?? d.relativeTolerance
  )
  const residualBalancing = options.residualBalancing ?? d.residualBalancing
  if (typeof residualBalancing !== "boolean")
    throw invalid(OPERATION, "residualBalancing", residualBalancing, "a boolean")
  const balancingThreshold = requireFactor(
    "balancingThreshold",
    options.balancingThreshold ?? d.balancingThreshold
  )
  const balancingFactor = requireFactor("balancingFactor", options.balancingFactor ?? d.balancingFactor)
  const balancingIterations = options.balancingIterations ?? d.balancingIterations
  if (
    typeof balancingIterations !== "number" ||
    !(balancingIterations >= 0) ||
    !(Number.isInteger(balancingIterations) || balancingIterations === Number.POSITIVE_INFINITY)
  )
    throw invalid(OPERATION, "balancingIterations", balancingIterations, "an integer ≥ 0 or ∞")
  const A = asOperator("A", problem.A)
  const B = asOperator("B", problem.B)
  const p = problem.c.length
  if (A.rows !== p)
    throw new Errors.DimensionMismatch({
      operation: OPERATION,
      what: "A",
      expected: [p, A.cols],
      actual: [A.rows, A.cols]
    })
  if (B.rows !== p)
    throw new Errors.DimensionMismatch({
      operation: OPERATION,
      what: "B",
      expected: [p, B.cols],
      actual: [B.rows, B.cols]
    })
  Vector.assertFinite(OPERATION, "c", problem.c)
  const n = A.cols
  const m = B.cols
  if (start.z === undefined) throw invalid(OPERATION, "start.z", start.z, "the starting z (length m)")
  const x = finiteCopy("x0", start.x, n)
  const z = finiteCopy("z0", start.z, m)
  const u = finiteCopy("u0", start.u, p)
  const Ax = Vector.zeros(p)
  const Bz = Vector.zeros(p)
  A.apply(x, Ax)
  B.apply(z, Bz)
  const r = Vector.zeros(p)
  Blas1.copy(Ax, r)
  Blas1.axpy(1, Bz, r)
  Blas1.axpy(-1, problem.c, r)
  return {
    problem,
    A,
    B,
    n,
    m,
    p,
    absoluteTolerance,
    relativeTolerance,
    residualBalancing,
    balancingThreshold,
    balancingFactor,
    balancingIterations,
    x,
    z,
    u,
    Ax,
    Bz,
    xTrial: Vector.zeros(n),
    zTrial: Vector.zeros(m),
    uTrial: Vector.zeros(p),
    AxTrial: Vector.zeros(p),
    BzTrial: Vector.zeros(p),
    v: Vector.zeros(p),
    r,
    s: Vector.zeros(n),
    atu: Vector.zeros(n),
    rho,
    primalResidual: Blas1.nrm2(r),
    dualResidual: Number.NaN,
    primalTolerance: Number.NaN,
    dualTolerance: Number.NaN,
    converged: false,
    diverged: false,
    iteration: 0,
    rhoUpdates: 0,
    valueCount: 0
  }
}

const step = (st: State): State => {
  if (st.diverged || st.converged) return st
  const { problem, A, B, v, r, s } = st
  const c = problem.c
  // x-update: v = c − B·z − u.
  Blas1.copy(c, v)
  Blas1.axpy(-1, st.Bz, v)
  Blas1.axpy(-1, st.u, v)
  Blas1.copy(st.x, st.xTrial)
  problem.minimizeX(v, st.rho, st.xTrial)
  if (!allFinite(st.xTrial)) {
    st.diverged = true
    return st
  }
  A.apply(st.xTrial, st.AxTrial)
  // z-update: v = c − A·x⁺ − u.
  Blas1.copy(c, v)
  Blas1.axpy(-1, st.AxTrial, v)
  Blas1.axpy(-1, st.u, v)
  Blas1.copy(st.z, st.zTrial)
  problem.minimizeZ(v, st.rho, st.zTrial)
  if (!allFinite(st.zTrial)) {
    st.diverged = true
    return st
  }
  B.apply(st.zTrial, st.BzTrial)
  // r = A·x⁺ + B·z⁺ − c; u⁺ = u + r.
  Blas1.copy(st.AxTrial, r)
  Blas1.axpy(1, st.BzTrial, r)
  Blas1.axpy(-1, c, r)
  Blas1.copy(st.u, st.uTrial)
  Blas1.axpy(1, r, st.uTrial)
  // s = ρ·Aᵀ·(B·z⁺ − B·z).
  Blas1.copy(st.BzTrial, v)
  Blas1.axpy(-1, st.Bz, v)
  A.applyTranspose!(v, s)
  Blas1.scal(st.rho, s)
  const primal = Blas1.nrm2(r)
  const dual = Blas1.nrm2(s)
  if (!allFinite(st.uTrial) || !Number.isFinite(primal) || !Number.isFinite(dual)) {
    st.diverged = true
    return st
  }
  // Commit: the trial buffers become the iterate, the old ones the next trial's.
  ;[st.x, st.xTrial] = [st.xTrial, st.x]
  ;[st.z, st.zTrial] = [st.zTrial, st.z]
  ;[st.u, st.uTrial] = [st.uTrial, st.u]
  ;[st.Ax, st.AxTrial] = [st.AxTrial, st.Ax]
  ;[st.Bz, st.BzTrial] = [st.BzTrial, st.Bz]
  st.iteration++
  st.primalResidual = primal
  st.dualResidual = dual
  A.applyTranspose!(st.u, st.atu)
  st.primalTolerance =
    Math.sqrt(st.p) * st.absoluteTolerance +
    st.relativeTolerance * Math.max(Blas1.nrm2(st.Ax), Blas1.nrm2(st.Bz), Blas1.nrm2(c))
  st.dualTolerance =
    Math.sqrt(st.n) * st.absoluteTolerance + st.relativeTolerance * st.rho * Blas1.nrm2(st.atu)
  st.converged = primal <= st.primalTolerance && dual <= st.dualTolerance
  if (!st.converged && st.residualBalancing && st.iteration <= st.balancingIterations) {
    const tau = st.balancingFactor
    if (primal > st.balancingThreshold * dual) {
      st.rho *= tau
      Blas1.scal(1 / tau, st.u)
      st.rhoUpdates++
    } else if (dual > st.balancingThreshold * primal) {
      st.rho /= tau
      Blas1.scal(tau, st.u)
      st.rhoUpdates++
    }
  }
  return st
}

const value = (st: State): number => {
  st.valueCount++
  return st.problem.valueX(st.x) + st.problem.valueZ(st.z)
}

const output = (st: State): SolverOutput & Omit<AdmmResult, keyof MinimizeResult> => {
  const dual = Vector.clone(st.u)
  Blas1.scal(st.rho, dual)
  const fun = value(st)
  const message = st.diverged
    ? "an oracle returned NaN or ±∞ (or the iterates overflowed); x, z, u are the last finite iterate"
    : st.converged
      ? `converged after ${st.iteration} iterations (primal residual ${st.primalResidual.toExponential(2)} ≤ ${st.primalTolerance.toExponential(2)}, dual residual ${st.dualResidual.toExponential(2)} ≤ ${st.dualTolerance.toExponential(2)})`
      : undefined
  return {
    x: Vector.clone(st.x),
    z: Vector.clone(st.z),
    scaledDual: Vector.clone(st.u),
    dual,
    fun,
    gradient: Vector.clone(st.s),
    gradientNorm: st.dualResidual,
    counts: {
      value: st.valueCount,
      gradient: 0,
      hessianVector: 0,
      matvec: st.A.counts.matvec + st.B.counts.matvec
    },
    rho: st.rho,
    primalResidual: st.primalResidual,
    dualResidual: st.dualResidual,
    primalTolerance: st.primalTolerance,
    dualTolerance: st.dualTolerance,
    rhoUpdates: st.rhoUpdates,
    ...(message === undefined ? {} : { message })
  }
}

/**
 * Scaled-form ADMM as a `Solver.IterativeSolver` over `{ problem, start }`.
 * `residual` is max(‖r‖, ‖s‖) (‖r‖ before the first iteration).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  Input,
  AdmmOptions,
  State,
  SolverOutput & Omit<AdmmResult, keyof MinimizeResult>
> = {
  name: "Admm",
  init,
  step,
  status: (st) => (st.diverged ? "diverged" : st.converged ? "converged" : undefined),
  residual: (st) =>
    st.diverged
      ? Number.NaN
      : st.iteration === 0
        ? st.primalResidual
        : Math.max(st.primalResidual, st.dualResidual),
  metrics: (st) => ({
    objective: value(st),
    primalResidual: st.primalResidual,
    dualResidual: st.dualResidual,
    rho: st.rho
  }),
  output
}

/**
 * Minimizes f(x) + g(z) subject to A·x + B·z = c by scaled-form ADMM from
 * `start` (see the module documentation).
 *
 * @throws DimensionMismatch when A, B, c or a start vector do not fit.
 * @throws NonFiniteInput when c or a start vector has a NaN or ±∞.
 * @throws InvalidOptions for an out-of-range option or an operator without `applyTranspose`.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (problem: Problem, start: Start, options: AdmmOptions = {}): AdmmResult =>
  runSolver(
    solver,
    { problem, start },
    {
      ...options,
      maxIterations: options.maxIterations ?? defaultAdmmOptions.maxIterations
    }
  ) as AdmmResult

// ---------------------------------------------------------------------------
// Ready-made problems

/**
 * A function given by its proximal oracle, for consensus problems and
 * x-updates: `prox(v, ρ, out)` writes argmin_x h(x) + (ρ/2)‖x − v‖² =
 * prox_{h/ρ}(v) into `out`; `value(x)` is h(x).
 *
 * @category models
 * @since 0.1.0
 */
export interface ProximableFunction {
  readonly dimension: number
  readonly prox: MinimizationOracle
  readonly value: (x: Float64Array) => number
}

/**
 * h(x) = ½‖A·x − b‖² with its proximal oracle: the minimizer of
 * ½‖A·x − b‖² + (ρ/2)‖x − v‖² solves (AᵀA + ρI)·x = Aᵀb + ρ·v. For m ≥ n the
 * Cholesky factor of AᵀA + ρI (n × n) is kept; for m < n, the factor of
 * ρI + AAᵀ (m × m) and the matrix inversion lemma
 * (AᵀA + ρI)⁻¹·q = (q − Aᵀ·(ρI + AAᵀ)⁻¹·A·q)/ρ (Boyd §4.2). The factor is
 * recomputed only when ρ changes; the Gram matrix is formed once.
 *
 * @throws NonFiniteInput when A or b has a NaN or ±∞.
 * @throws DimensionMismatch when b does not have A.rows entries.
 * @category constructors
 * @since 0.1.0
 */
export const leastSquares = (A: Matrix.Matrix, b: Float64Array): ProximableFunction => {
  const operation = "Admm.leastSquares"
  const { rows: m, cols: n } = A
  Vector.assertLength(operation, "b", b, m)
  Vector.assertFinite(operation, "A", A.data)
  Vector.assertFinite(operation, "b", b)
  const tall = m >= n
  const k = tall ? n : m
  const gram = Matrix.zeros(k, k)
  Blas3.gemm(tall, !tall, 1, A, A, 0, gram)
  const shifted = Matrix.zeros(k, k)
  const atb = Vector.zeros(n)
  Blas2.gemvT(1, A, b, 0, atb)
  const q = Vector.zeros(n)
  const t = Vector.zeros(m)
  const residual = Vector.zeros(m)
  let factorRho = Number.NaN
  let factor: Cholesky.CholeskyFactorization | undefined
  const refactor = (rho: number): void => {
    Blas1.copy(gram.data, shifted.data)
    for (let i = 0; i < k; i++) shifted.data[i * k + i] = shifted.data[i * k + i]! + rho
    if (factor !== undefined) Memory.free(factor.L.data)
    factor = Cholesky.factor(shifted)
    factorRho = rho
  }
  return {
    dimension: n,
    prox: (v, rho, out) => {
      Vector.assertLength(operation, "v", v, n)
      Vector.assertLength(operation, "out", out, n)
      if (rho !== factorRho) refactor(requirePositive(operation, "rho", rho))
      const L = factor!.L
      Blas1.copy(atb, q)
      Blas1.axpy(rho, v, q)
      if (tall) {
        Blas1.copy(q, out)
        Blas2.trsv(L, out, { lower: true })
        Blas2.trsv(L, out, { lower: true, transpose: true })
      } else {
        Blas2.gemv(1, A, q, 0, t)
        Blas2.trsv(L, t, { lower: true })
        Blas2.trsv(L, t, { lower: true, transpose: true })
        Blas1.copy(q, out)
        Blas2.gemvT(-1, A, t, 1, out)
        Blas1.scal(1 / rho, out)
      }
    },
    value: (x) => {
      Blas2.gemv(1, A, x, 0, residual)
      Blas1.axpy(-1, b, residual)
      return 0.5 * Blas1.dot(residual, residual)
    }
  }
}

/** ±I on ℝⁿ as an operator. */
const scaledIdentity = (n: number, sign: 1 | -1): Objective.LinearOperator => {
  const apply = (x: Float64Array, out: Float64Array): void => {
    Blas1.copy(x, out)
    if (sign < 0) Blas1.scal(-1, out)
  }
  return { rows: n, cols: n, apply, applyTranspose: apply }
}

/**
 * The problem min ½‖A·x − b‖² + g(x), split as f(x) = ½‖A·x − b‖², g(z),
 * x − z = 0 (Boyd §6): the x-update is the cached-factorization oracle of
 * `leastSquares`, the z-update prox_{g/ρ}(x + u). With g = `Prox.l1(λ)` it
 * is the lasso (§6.4); `Prox.elasticNet`, `Prox.nonNegative`, … work the same.
 *
 * @category constructors
 * @since 0.1.0
 */
export const regularizedLeastSquares = (
  A: Matrix.Matrix,
  b: Float64Array,
  regularizer: Prox.Prox
): Problem => {
  const f = leastSquares(A, b)
  const n = A.cols
  return {
    A: scaledIdentity(n, 1),
    B: scaledIdentity(n, -1),
    c: Vector.zeros(n),
    minimizeX: f.prox,
    // argmin g(z) + (ρ/2)‖−z − v‖² = prox_{g/ρ}(−v).
    minimizeZ: (v, rho, out) => {
      Blas1.copy(v, out)
      Blas1.scal(-1, out)
      regularizer.prox(out, 1 / rho, out)
    },
    valueX: f.value,
    valueZ: (z) => regularizer.value(z)
  }
}

/**
 * The lasso min ½‖A·x − b‖² + λ‖x‖₁ by ADMM from x = z = u = 0 (Boyd §6.4).
 * The result's `x` is the x block; `z` (the soft-thresholded copy) is
 * exactly sparse.
 *
 * @example
 * const result = Admm.lasso(A, b, 0.1, { absoluteTolerance: 1e-10, relativeTolerance: 1e-10 })
 * @throws InvalidOptions when λ is not a finite number ≥ 0 or an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const lasso = (
  A: Matrix.Matrix,
  b: Float64Array,
  lambda: number,
  options: AdmmOptions = {}
): AdmmResult =>
  minimize(regularizedLeastSquares(A, b, Prox.l1(lambda)), { z: Vector.zeros(A.cols) }, options)

/**
 * A global consensus problem min Σᵢ fᵢ(x) + g(x) (Boyd §7.1): N local
 * functions on ℝⁿ with their own proximal oracles, and an optional
 * regularizer on the consensus variable.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConsensusProblem {
  readonly locals: ReadonlyArray<ProximableFunction>
  readonly regularizer?: Prox.Prox
}

/**
 * The two-block form of a consensus problem: x = (x₁, …, x_N) ∈ ℝᴺⁿ, z ∈ ℝⁿ,
 * xᵢ − z = 0 (A = I, B = −[I; …; I], c = 0). The x-update runs the N local
 * oracles xᵢ = prox_{fᵢ/ρ}(z − uᵢ) (independent: each could run elsewhere);
 * the z-update averages, z = prox_{g/(Nρ)}(mean(xᵢ + uᵢ)). The primal
 * residual is ‖(xᵢ − z)ᵢ‖ and the dual residual √N·ρ‖zᵏ⁺¹ − zᵏ‖, as in
 * Boyd §7.1.
 *
 * @throws EmptyInput when there are no local functions.
 * @throws DimensionMismatch when the local functions differ in dimension.
 * @category constructors
 * @since 0.1.0
 */
export const consensusProblem = (problem: ConsensusProblem): Problem => {
  const operation = "Admm.consensusProblem"
  const { locals, regularizer } = problem
  if (locals.length === 0) throw new Errors.EmptyInput({ operation, what: "locals" })
  const n = locals[0]!.dimension
  for (let i = 1; i < locals.length; i++) {
    if (locals[i]!.dimension !== n) {
      throw new Errors.DimensionMismatch({
        operation,
        what: `locals[${i}].dimension`,
        expected: [n],
        actual: [locals[i]!.dimension]
      })
    }
  }
  const N = locals.length
  // Views of the stacked vectors the solver passes in (a handful of buffers, reused every iteration).
  const views = new Map<Float64Array, Float64Array[]>()
  const split = (x: Float64Array): Float64Array[] => {
    let parts = views.get(x)
    if (parts === undefined) {
      parts = []
      for (let i = 0; i < N; i++) parts.push(x.subarray(i * n, (i + 1) * n))
      views.set(x, parts)
    }
    return parts
  }
  const stacked: Objective.LinearOperator = {
    rows: N * n,
    cols: n,
    apply: (z, out) => {
      for (const part of split(out)) {
        Blas1.copy(z, part)
        Blas1.scal(-1, part)
      }
    },
    applyTranspose: (w, out) => {
      out.fill(0)
      for (const part of split(w)) Blas1.axpy(-1, part, out)
    }
  }
  return {
    A: scaledIdentity(N * n, 1),
    B: stacked,
    c: Vector.zeros(N * n),
    minimizeX: (v, rho, out) => {
      const vs = split(v)
      const xs = split(out)
      for (let i = 0; i < N; i++) locals[i]!.prox(vs[i]!, rho, xs[i]!)
    },
    // v = −(x + u): z = prox_{g/(Nρ)}(−mean(vᵢ)).
    minimizeZ: (v, rho, out) => {
      out.fill(0)
      for (const part of split(v)) Blas1.axpy(-1 / N, part, out)
      if (regularizer !== undefined) regularizer.prox(out, 1 / (N * rho), out)
    },
    valueX: (x) => {
      let total = 0
      const xs = split(x)
      for (let i = 0; i < N; i++) total += locals[i]!.value(xs[i]!)
      return total
    },
    valueZ: (z) => (regularizer === undefined ? 0 : regularizer.value(z))
  }
}

/**
 * The result of `consensus`: `x` is the consensus variable z (also in `z`),
 * `fun` is Σᵢ fᵢ(z) + g(z), `locals` are the local variables xᵢ.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConsensusResult extends AdmmResult {
  readonly locals: ReadonlyArray<Float64Array>
}

/**
 * Solves a global consensus problem by ADMM from x = z = u = 0 (see
 * `consensusProblem`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const consensus = (problem: ConsensusProblem, options: AdmmOptions = {}): ConsensusResult => {
  const two = consensusProblem(problem)
  const n = problem.locals[0]!.dimension
  const result = minimize(two, { z: Vector.zeros(n) }, options)
  const locals: Float64Array[] = []
  for (let i = 0; i < problem.locals.length; i++) locals.push(result.x.slice(i * n, (i + 1) * n))
  let fun = problem.regularizer === undefined ? 0 : problem.regularizer.value(result.z)
  for (const local of problem.locals) fun += local.value(result.z)
  return { ...result, x: Vector.clone(result.z), fun, locals }
}
