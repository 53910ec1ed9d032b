/**
 * Hand-made run records for the report tests: `cell` builds one CellRecord
 * from the few fields a test cares about, and `syntheticRun` a whole small
 * run (2 problem instances × 3 solvers × 3 repetitions) whose traces decay
 * geometrically, sampled at log-spaced iterations like the runner's.
 */
import type { CellRecord, CellStatus, RunRecord, Trace } from "../src/Records.ts"

export interface CellInput {
  readonly problem?: string
  readonly parameters?: Record<string, unknown>
  readonly solver?: string
  readonly options?: unknown
  readonly repetition?: number
  readonly status?: CellStatus
  readonly iterations?: number
  readonly metrics?: Record<string, number>
  readonly trace?: Trace
  readonly wallTimeMs?: number
}

export const cell = (input: CellInput): CellRecord => {
  const problem = { name: input.problem ?? "quadratic", parameters: input.parameters ?? {} }
  const solver = { name: input.solver ?? "gd", options: input.options ?? {} }
  const repetition = input.repetition ?? 0
  return {
    runId: "run-test",
    cellId: `${JSON.stringify(problem)}|${JSON.stringify(solver)}|${repetition}`,
    problem,
    solver,
    repetition,
    key: [0, repetition],
    status: input.status ?? "converged",
    message: "",
    iterations: input.iterations ?? 0,
    metrics: input.metrics ?? {},
    trace: input.trace ?? { iteration: [], values: {} },
    startedAt: "2026-11-22T10:00:00.000Z",
    finishedAt: "2026-11-22T10:00:01.000Z",
    wallTimeMs: input.wallTimeMs ?? 0
  }
}

/** 0, 1, 2, 4, …, below `last`, then `last`: the runner's log-spaced sampling. */
export const logSpaced = (last: number): Array<number> => {
  const its = [0]
  for (let k = 1; k < last; k *= 2) its.push(k)
  its.push(last)
  return its
}

interface SolverModel {
  readonly name: string
  readonly options: Record<string, unknown>
  /** Linear rate of the suboptimality per iteration. */
  readonly rate: number
  /** Oracle calls per iteration (value, gradient). */
  readonly calls: readonly [number, number]
  /** Milliseconds per iteration. */
  readonly msPerIteration: number
}

const SOLVERS: ReadonlyArray<SolverModel> = [
  { name: "gd", options: { stepSize: 0.1 }, rate: 0.9, calls: [1, 1], msPerIteration: 0.05 },
  { name: "adam", options: { learningRate: 0.01 }, rate: 0.8, calls: [0, 1], msPerIteration: 0.08 },
  { name: "lbfgs", options: { memory: 10 }, rate: 0.5, calls: [1.5, 1.5], msPerIteration: 0.3 }
]

const PROBLEMS = [
  { name: "rosenbrock", parameters: { dimension: 10 }, optimum: 0, start: 100 },
  { name: "logistic", parameters: { n: 200, d: 20, condition: 100 }, optimum: 0.3, start: 5 }
] as const

/** A run of 2 problems × 3 solvers × 3 repetitions; the repetitions differ by a few percent in rate. */
export const syntheticRun = (): { readonly run: RunRecord; readonly cells: ReadonlyArray<CellRecord> } => {
  const cells: Array<CellRecord> = []
  for (const p of PROBLEMS)
    for (const s of SOLVERS)
      for (let r = 0; r < 3; r++) {
        const rate = s.rate * (1 + 0.03 * (r - 1))
        // Converged when suboptimality ≤ 1e-8, else stopped at 200 iterations.
        const needed = Math.ceil(Math.log(1e-8 / p.start) / Math.log(rate))
        const last = Math.min(200, needed)
        const status: CellStatus = needed <= 200 ? "converged" : "maxIterations"
        const iteration = logSpaced(last)
        const sub = iteration.map((k) => p.start * rate ** k)
        const trace: Trace = {
          iteration,
          values: {
            objective: sub.map((v) => p.optimum + v),
            suboptimality: sub,
            gradientNorm: sub.map((v) => 2 * Math.sqrt(v)),
            wallTimeMs: iteration.map((k) => k * s.msPerIteration * (1 + 0.1 * r)),
            valueCalls: iteration.map((k) => Math.round(k * s.calls[0])),
            gradientCalls: iteration.map((k) => Math.round(k * s.calls[1]))
          }
        }
        const at = (name: string): number => {
          const column = trace.values[name]
          return column[column.length - 1]
        }
        cells.push(
          cell({
            problem: p.name,
            parameters: p.parameters,
            solver: s.name,
            options: s.options,
            repetition: r,
            status,
            iterations: last,
            metrics: {
              objective: at("objective"),
              suboptimality: at("suboptimality"),
              gradientNorm: at("gradientNorm"),
              valueCalls: at("valueCalls"),
              gradientCalls: at("gradientCalls")
            },
            trace,
            wallTimeMs: at("wallTimeMs") + 1
          })
        )
      }
  const spec = { name: "optimizers", problems: PROBLEMS, solvers: SOLVERS.map((s) => s.name), repetitions: 3 }
  const run: RunRecord = {
    runId: "run-test",
    name: "optimizers <smoke> & co",
    specHash: "hash-0123",
    spec: JSON.stringify(spec),
    cellCount: cells.length,
    provenance: {
      packages: { "@descent/core": "0.1.0", "@descent/dsl": "0.1.0" },
      runtime: "v24.21.0",
      platform: "linux-x64",
      backend: "wasm-simd",
      gitCommit: "abc123"
    },
    createdAt: "2026-11-22T10:00:00.000Z"
  }
  return { run, cells }
}
