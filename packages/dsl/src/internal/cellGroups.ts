/**
 * Grouping of cell records for the reports: cells with the same problem
 * instance (name + parameters) and the same solver (name + options) are the
 * repetitions of one (problem, solver) pair. Each instance and each solver
 * gets a short readable label: its name, and — when several variants share
 * that name — the top-level parameters/options in which they differ, e.g.
 * `adam(learningRate=0.01)`. Orders are by label (natural order), so the
 * output never depends on the order in which a store returns the cells.
 */
import type { CellRecord } from "../Records.ts"

/**
 * JSON text with object keys sorted recursively, so equal values give equal
 * text; non-finite numbers are spelled `"NaN"`, `"Infinity"`, `"-Infinity"`
 * (JSON would turn them all into `null`).
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(canonicalize(value))

const canonicalize = (value: unknown): unknown => {
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value)
  if (Array.isArray(value)) return value.map(canonicalize)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key]
      if (field !== undefined) out[key] = canonicalize(field)
    }
    return out
  }
  return value
}

/** Natural order of labels (`n=10` before `n=100`), independent of the locale. */
export const compareLabels = (a: string, b: string): number =>
  a.localeCompare(b, "en", { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0)

const formatField = (value: unknown): string => {
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  if (typeof value === "string") return value
  return canonicalJson(value)
}

interface Variant {
  readonly key: string
  readonly name: string
  readonly fields: unknown
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** Labels for variants: the name alone when unique, else the name and the differing fields. */
const labelVariants = (variants: ReadonlyArray<Variant>): Map<string, string> => {
  const byName = new Map<string, Array<Variant>>()
  for (const v of variants) {
    const list = byName.get(v.name)
    if (list === undefined) byName.set(v.name, [v])
    else list.push(v)
  }
  const labels = new Map<string, string>()
  for (const [name, list] of byName) {
    if (list.length === 1) {
      labels.set(list[0].key, name)
      continue
    }
    if (!list.every((v) => isRecord(v.fields))) {
      for (const v of list) labels.set(v.key, `${name}(${formatField(v.fields)})`)
      continue
    }
    const records = list.map((v) => v.fields as Record<string, unknown>)
    const keys = [...new Set(records.flatMap((r) => Object.keys(r)))].sort()
    const differing = keys.filter((k) => new Set(records.map((r) => canonicalJson(r[k]))).size > 1)
    for (const v of list) {
      const r = v.fields as Record<string, unknown>
      const parts = differing.filter((k) => r[k] !== undefined).map((k) => `${k}=${formatField(r[k])}`)
      labels.set(v.key, `${name}(${parts.join(", ")})`)
    }
  }
  // Distinct variants always differ in some field, but make the labels unique regardless.
  const seen = new Map<string, number>()
  for (const [key, label] of [...labels].sort((a, b) => compareLabels(a[0], b[0]))) {
    const n = seen.get(label) ?? 0
    seen.set(label, n + 1)
    if (n > 0) labels.set(key, `${label} #${n + 1}`)
  }
  return labels
}

/** The repetitions of one (problem instance, solver) pair. */
export interface CellGroup {
  readonly problemKey: string
  readonly problem: string
  readonly solverKey: string
  readonly solver: string
  /** Sorted by repetition, then cellId. */
  readonly cells: ReadonlyArray<CellRecord>
}

/** The cells grouped by (problem instance, solver), with the label orders. */
export interface CellGroups {
  /** Problem labels, in natural order. */
  readonly problems: ReadonlyArray<string>
  /** Solver labels, in natural order. */
  readonly solvers: ReadonlyArray<string>
  /** Groups ordered by problem, then solver. */
  readonly groups: ReadonlyArray<CellGroup>
}

const problemKeyOf = (cell: CellRecord): string =>
  canonicalJson({ name: cell.problem.name, parameters: cell.problem.parameters })

const solverKeyOf = (cell: CellRecord): string =>
  canonicalJson({ name: cell.solver.name, options: cell.solver.options })

/** Groups cells by (problem instance, solver); the result does not depend on the order of `cells`. */
export const groupCells = (cells: ReadonlyArray<CellRecord>): CellGroups => {
  const problemVariants = new Map<string, Variant>()
  const solverVariants = new Map<string, Variant>()
  const byPair = new Map<string, Array<CellRecord>>()
  for (const cell of cells) {
    const pk = problemKeyOf(cell)
    const sk = solverKeyOf(cell)
    problemVariants.set(pk, { key: pk, name: cell.problem.name, fields: cell.problem.parameters })
    solverVariants.set(sk, { key: sk, name: cell.solver.name, fields: cell.solver.options })
    const pair = JSON.stringify([pk, sk])
    const list = byPair.get(pair)
    if (list === undefined) byPair.set(pair, [cell])
    else list.push(cell)
  }
  const problemLabels = labelVariants([...problemVariants.values()])
  const solverLabels = labelVariants([...solverVariants.values()])
  const groups: Array<CellGroup> = []
  for (const [pair, list] of byPair) {
    const [pk, sk] = JSON.parse(pair) as [string, string]
    groups.push({
      problemKey: pk,
      problem: problemLabels.get(pk)!,
      solverKey: sk,
      solver: solverLabels.get(sk)!,
      cells: [...list].sort(
        (a, b) => a.repetition - b.repetition || (a.cellId < b.cellId ? -1 : a.cellId > b.cellId ? 1 : 0)
      )
    })
  }
  groups.sort((a, b) => compareLabels(a.problem, b.problem) || compareLabels(a.solver, b.solver))
  return {
    problems: [...problemLabels.values()].sort(compareLabels),
    solvers: [...solverLabels.values()].sort(compareLabels),
    groups
  }
}
