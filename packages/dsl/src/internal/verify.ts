/**
 * `descent verify`'s comparison: a stored cell against its recomputation
 * (`Runner.runCell` on the run's stored experiment), field by field, with
 * `Object.is` on every number — bit-identical, NaN equal to NaN, −0 not equal
 * to 0. Wall times are excluded: `startedAt`, `finishedAt`, `wallTimeMs` and
 * the `wallTimeMs` metric (in `metrics` and in the trace). The identity
 * (problem, solver, repetition) is checked against the experiment's cell
 * with that `cellId`.
 */
import type { Cell, CellSolver } from "../Experiment.ts"
import type { CellRecord } from "../Records.ts"
import type { CellOutcome } from "../Runner.ts"
import { canonicalJson } from "./cellGroups.ts"

/** One field that differs. */
export interface Difference {
  /** Where, e.g. `metrics.objective`, `trace.values.objective[12]`, `key[0]`. */
  readonly field: string
  readonly stored: string
  readonly recomputed: string
}

/** Metrics that measure time, excluded from the comparison. */
export const WALL_TIME_METRICS: ReadonlySet<string> = new Set(["wallTimeMs"])

/** A number exactly: shortest round-trip digits, `-0` kept. */
export const exact = (x: number): string => (Object.is(x, -0) ? "-0" : String(x))

const ABSENT = "absent"

const compareArrays = (
  field: string,
  stored: ReadonlyArray<number>,
  recomputed: ReadonlyArray<number>,
  out: Array<Difference>
): void => {
  if (stored.length !== recomputed.length) {
    out.push({
      field: `${field}.length`,
      stored: String(stored.length),
      recomputed: String(recomputed.length)
    })
  }
  const n = Math.min(stored.length, recomputed.length)
  let first = -1
  let count = 0
  for (let i = 0; i < n; i++) {
    if (!Object.is(stored[i], recomputed[i])) {
      if (first < 0) first = i
      count++
    }
  }
  if (first >= 0) {
    out.push({
      field: `${field}[${first}]${count > 1 ? ` (and ${count - 1} more)` : ""}`,
      stored: exact(stored[first]!),
      recomputed: exact(recomputed[first]!)
    })
  }
}

const sortedKeys = (a: object, b: object): ReadonlyArray<string> =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !WALL_TIME_METRICS.has(k)).sort()

/** The solver of a cell as the runner records it (a pipeline's stages under `options.stages`). */
export const recordedSolver = (solver: CellSolver): CellRecord["solver"] =>
  solver._tag === "Solver"
    ? { name: solver.name, options: solver.options }
    : { name: solver.name, options: { stages: solver.stages } }

/** The identity fields of `stored` that differ from the experiment's `cell`. */
export const identityDifferences = (stored: CellRecord, cell: Cell): ReadonlyArray<Difference> => {
  const out: Array<Difference> = []
  const check = (field: string, a: unknown, b: unknown): void => {
    const sa = canonicalJson(a)
    const sb = canonicalJson(b)
    if (sa !== sb) out.push({ field, stored: sa, recomputed: sb })
  }
  check("problem", stored.problem, cell.problem)
  check("solver", stored.solver, recordedSolver(cell.solver))
  if (!Object.is(stored.repetition, cell.repetition)) {
    out.push({ field: "repetition", stored: exact(stored.repetition), recomputed: exact(cell.repetition) })
  }
  return out
}

/** The fields of `stored` that differ from the recomputed `outcome` (wall times excluded). */
export const outcomeDifferences = (stored: CellRecord, outcome: CellOutcome): ReadonlyArray<Difference> => {
  const out: Array<Difference> = []
  if (stored.status !== outcome.status)
    out.push({ field: "status", stored: stored.status, recomputed: outcome.status })
  if (stored.message !== outcome.message) {
    out.push({
      field: "message",
      stored: JSON.stringify(stored.message),
      recomputed: JSON.stringify(outcome.message)
    })
  }
  if (!Object.is(stored.iterations, outcome.iterations)) {
    out.push({ field: "iterations", stored: exact(stored.iterations), recomputed: exact(outcome.iterations) })
  }
  for (let i = 0; i < 2; i++) {
    if (!Object.is(stored.key[i], outcome.key[i])) {
      out.push({ field: `key[${i}]`, stored: exact(stored.key[i]!), recomputed: exact(outcome.key[i]!) })
    }
  }
  for (const name of sortedKeys(stored.metrics, outcome.metrics)) {
    const a = stored.metrics[name]
    const b = outcome.metrics[name]
    if (a === undefined || b === undefined || !Object.is(a, b)) {
      out.push({
        field: `metrics.${name}`,
        stored: a === undefined ? ABSENT : exact(a),
        recomputed: b === undefined ? ABSENT : exact(b)
      })
    }
  }
  compareArrays("trace.iteration", stored.trace.iteration, outcome.trace.iteration, out)
  for (const name of sortedKeys(stored.trace.values, outcome.trace.values)) {
    const a = stored.trace.values[name]
    const b = outcome.trace.values[name]
    if (a === undefined || b === undefined) {
      out.push({
        field: `trace.values.${name}`,
        stored: a === undefined ? ABSENT : `${a.length} samples`,
        recomputed: b === undefined ? ABSENT : `${b.length} samples`
      })
      continue
    }
    compareArrays(`trace.values.${name}`, a, b, out)
  }
  return out
}
