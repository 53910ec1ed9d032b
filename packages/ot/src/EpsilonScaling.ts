/**
 * ε-scaling (annealing) for entropic OT (Kosowsky & Yuille 1994; Schmitzer
 * 2019, §3.2; POT's `sinkhorn_epsilon_scaling`): Sinkhorn's convergence
 * slows down as ε shrinks, but the potentials at a larger ε are a good start
 * for a smaller one. The run goes through stages k = 0, 1, …, with
 *
 *   ε_k = max(schedule(k), ε),
 *
 * the schedule being any of @descent/optim's serializable `Schedules`
 * (default: halving from the largest cost, `Schedules.exponential` with rate
 * 1/2), each stage warm-started from the previous stage's potentials and
 * iterated by the stabilized scaling iteration of `SinkhornStabilized` until
 * its marginal error is below `stageTolerance` or `iterationsPerStage` is
 * spent. Once ε_k reaches ε (or after `maxStages` stages), the last stage
 * runs at ε to `tolerance`. `iterations` counts inner iterations over all
 * stages; `marginalErrors` records them all.
 *
 * @since 0.1.0
 */
import type { Solver } from "@descent/core"
import { Schedules } from "@descent/optim"
import {
  count,
  type Dense,
  dense,
  type EntropicFields,
  invalid,
  nonNegative,
  positiveFinite,
  readCommon,
  runToResult
} from "./internal/entropic.ts"
import { makeStabilized, type Stabilized, setEpsilon, stabilizedIterate } from "./internal/stabilized.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import { stabilizedOutput } from "./SinkhornStabilized.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface EpsilonScalingOptions {
  /** The target ε > 0, in the geometry's (normalized) cost units. Default 1e-3. */
  readonly epsilon?: number
  /** Stop when the final stage's marginal error ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance. Default 1e-9. */
  readonly tolerance?: number
  /** Budget of inner iterations over all stages (≥ 0). Default 10000. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /**
   * ε_k before clipping at ε, for stage k (values must be > 0). Default: halving from
   * the largest |cost| (`Schedules.exponential({ initValue: max|C|, transitionSteps: 1, decayRate: 0.5 })`).
   */
  readonly schedule?: Schedules.Schedule
  /** Inner iterations per intermediate stage (≥ 1). Default 100 (POT's `numInnerItermax`). */
  readonly iterationsPerStage?: number
  /** An intermediate stage ends early at this marginal error (≥ 0). Default 1e-3. */
  readonly stageTolerance?: number
  /** Intermediate stages at most (≥ 0); then the final stage starts at ε. Default 60. */
  readonly maxStages?: number
  /** Absorption threshold τ > 1 of the stabilized iteration. Default 1e4. */
  readonly absorptionThreshold?: number
}

/**
 * Defaults of `EpsilonScalingOptions` (the schedule's default depends on the costs).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultEpsilonScalingOptions = {
  epsilon: 1e-3,
  tolerance: 1e-9,
  maxIterations: 10_000,
  checkEvery: 1,
  iterationsPerStage: 100,
  stageTolerance: 1e-3,
  maxStages: 60,
  absorptionThreshold: 1e4
} as const

/**
 * An ε-scaling result (`epsilon` is the target ε).
 *
 * @category models
 * @since 0.1.0
 */
export interface EpsilonScalingResult extends TransportResult, EntropicFields {
  readonly absorptions: number
  /** The ε of each stage, the last one the target. */
  readonly epsilons: ReadonlyArray<number>
}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface EpsilonScalingState {
  readonly problem: LinearProblem
  readonly d: Dense
  readonly core: Stabilized
  readonly epsilon: number
  readonly tolerance: number
  readonly checkEvery: number
  readonly schedule: Schedules.Schedule
  readonly perStage: number
  readonly stageTolerance: number
  readonly maxStages: number
  readonly epsilons: number[]
  readonly marginalErrors: number[]
  stage: number
  stageIterations: number
  final: boolean
  iteration: number
  error: number
}

type Output = Omit<EpsilonScalingResult, "status" | "iterations">

const NAME = "EpsilonScaling"

const stageEpsilon = (s: Pick<EpsilonScalingState, "schedule" | "epsilon">, k: number): number => {
  const value = Schedules.evaluate(s.schedule, k)
  if (!(value > 0) || !Number.isFinite(value))
    throw invalid(NAME, "schedule", value, `values > 0 (stage ${k} gives ${value})`)
  return Math.max(value, s.epsilon)
}

/**
 * ε-scaling as a `Solver.IterativeSolver` (one step = one inner iteration).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  LinearProblem,
  EpsilonScalingOptions,
  EpsilonScalingState,
  Output
> = {
  name: NAME,
  init: (problem, options) => {
    const defaults = defaultEpsilonScalingOptions
    const common = readCommon(NAME, options, defaults)
    const perStage = count(
      NAME,
      "iterationsPerStage",
      options.iterationsPerStage ?? defaults.iterationsPerStage,
      1
    )
    const stageTolerance = nonNegative(
      NAME,
      "stageTolerance",
      options.stageTolerance ?? defaults.stageTolerance
    )
    const maxStages = count(NAME, "maxStages", options.maxStages ?? defaults.maxStages, 0)
    const tau = positiveFinite(
      NAME,
      "absorptionThreshold",
      options.absorptionThreshold ?? defaults.absorptionThreshold
    )
    if (!(tau > 1)) throw invalid(NAME, "absorptionThreshold", tau, "a finite number > 1")
    if (options.schedule !== undefined && !Schedules.isSchedule(options.schedule))
      throw invalid(NAME, "schedule", options.schedule, "a Schedules.Schedule")
    const d = dense(NAME, problem)
    const schedule =
      options.schedule ??
      Schedules.exponential({
        initValue: Math.max(d.maxAbsCost, common.epsilon),
        transitionSteps: 1,
        decayRate: 0.5
      })
    const partial = { schedule, epsilon: common.epsilon }
    const first = maxStages === 0 ? common.epsilon : stageEpsilon(partial, 0)
    const core = makeStabilized(d, first, tau)
    return {
      problem,
      d,
      core,
      epsilon: common.epsilon,
      tolerance: common.tolerance,
      checkEvery: common.checkEvery,
      schedule,
      perStage,
      stageTolerance,
      maxStages,
      epsilons: [first],
      marginalErrors: [],
      stage: 0,
      stageIterations: 0,
      final: first === common.epsilon,
      iteration: 0,
      error: problem.massA + problem.massB
    }
  },
  step: (s) => {
    stabilizedIterate(s.core)
    s.iteration++
    s.stageIterations++
    s.error = s.core.rowError + s.core.colError
    if (s.iteration % s.checkEvery === 0) s.marginalErrors.push(s.error)
    if (!s.final && (s.stageIterations >= s.perStage || s.error <= s.stageTolerance)) {
      s.stage++
      const next = s.stage >= s.maxStages ? s.epsilon : stageEpsilon(s, s.stage)
      if (next !== s.core.epsilon) {
        setEpsilon(s.core, next)
        s.epsilons.push(next)
        // The last error was measured at the previous ε: not a convergence signal at this one.
        s.error = s.problem.massA + s.problem.massB
      }
      s.final = next === s.epsilon
      s.stageIterations = 0
    }
    return s
  },
  status: (s) => (s.final && s.error <= s.tolerance ? "converged" : undefined),
  residual: (s) => s.error,
  metrics: (s) => ({ marginalError: s.error, epsilon: s.core.epsilon, stage: s.stage }),
  output: (s) => ({
    ...stabilizedOutput(s.problem, s.core, s.marginalErrors, s.error),
    epsilons: s.epsilons.slice()
  })
}

/**
 * Solves the entropic problem at a small ε by ε-scaling.
 *
 * @example
 * const result = EpsilonScaling.solve(problem, { epsilon: 1e-4 })
 * console.log(result.epsilons.length, result.iterations)
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0, a schedule value ≤ 0) or a point of positive mass has no allowed pair.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: LinearProblem, options: EpsilonScalingOptions = {}): EpsilonScalingResult =>
  runToResult(solver, problem, options, {
    maxIterations: options.maxIterations ?? defaultEpsilonScalingOptions.maxIterations,
    checkEvery: options.checkEvery ?? defaultEpsilonScalingOptions.checkEvery
  })
