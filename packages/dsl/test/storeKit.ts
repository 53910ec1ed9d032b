/**
 * Shared by the store tests: fast-check arbitraries for RunRecords and
 * CellRecords that are full of the numbers JSON cannot spell (NaN, ±∞, −0),
 * unicode, tag-like keys ("$v", "$o", "__proto__") and `undefined`; an exact
 * structural comparison independent of the code under test; and temporary
 * directories under os.tmpdir().
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import type { CellRecord, CellStatus, RunRecord } from "../src/Records.ts"

/** Every property test here runs from this seed, so a failure reproduces exactly. */
export const PROPERTY_SEED = 20_261_122

/** Doubles biased towards the values plain JSON loses. */
export const number: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    0,
    Number.MIN_VALUE,
    -Number.MAX_VALUE
  )
)

/** Short strings over all of Unicode (well-formed), plus keys that look like ExactJson tags. */
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.constantFrom("$v", "$o", "__proto__", "", "NaN", '"quoted", with comma\nand newline')
)

/** Any value an `Unknown` field of a record may hold and the stores must keep exactly. */
export const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    number,
    text,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(text, tie("value"), { maxKeys: 4, noNullPrototype: true })
  )
})).value

const statuses: ReadonlyArray<CellStatus> = [
  "converged",
  "maxIterations",
  "diverged",
  "stalled",
  "interrupted",
  "timeout",
  "failed"
]

const isoDate = fc
  .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString())

/** A RunRecord with the given id. */
export const runRecord = (runId: string): fc.Arbitrary<RunRecord> =>
  fc.record({
    runId: fc.constant(runId),
    name: text,
    specHash: fc.string({ unit: "binary-ascii", maxLength: 16 }),
    spec: fc.string({ unit: "grapheme", maxLength: 40 }),
    cellCount: fc.nat(),
    provenance: fc.record({
      packages: fc.dictionary(text, text, { maxKeys: 3, noNullPrototype: true }),
      runtime: text,
      platform: text,
      backend: fc.constantFrom("wasm-simd", "typescript"),
      gitCommit: fc.option(fc.string({ unit: "binary-ascii", maxLength: 40 }), { nil: null })
    }),
    createdAt: isoDate
  })

const metricNames = fc.constantFrom(
  "objective",
  "suboptimality",
  "gradientNorm",
  "$v",
  "__proto__",
  "wall time"
)

/** A CellRecord of run `runId` (the cellId is arbitrary). */
export const cellRecord = (runId: string): fc.Arbitrary<CellRecord> =>
  fc.record({
    runId: fc.constant(runId),
    cellId: fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }),
    problem: fc.record({
      name: text,
      parameters: fc.dictionary(text, value, { maxKeys: 4, noNullPrototype: true })
    }),
    solver: fc.record({ name: text, options: value }),
    repetition: fc.oneof(fc.nat({ max: 9 }), number),
    key: fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })),
    status: fc.constantFrom(...statuses),
    message: text,
    iterations: fc.oneof(fc.nat(), number),
    metrics: fc.dictionary(fc.oneof(metricNames, text), number, { maxKeys: 5, noNullPrototype: true }),
    trace: fc.record({
      iteration: fc.array(number, { maxLength: 12 }),
      values: fc.dictionary(metricNames, fc.array(number, { maxLength: 12 }), {
        maxKeys: 3,
        noNullPrototype: true
      })
    }),
    startedAt: isoDate,
    finishedAt: isoDate,
    wallTimeMs: number
  })

/** Cells of one run with distinct cellIds. */
export const cellsOfRun = (runId: string, maxLength = 8): fc.Arbitrary<ReadonlyArray<CellRecord>> =>
  fc.uniqueArray(cellRecord(runId), { selector: (cell) => cell.cellId, maxLength })

/**
 * Exact structural identity: numbers by `Object.is` (NaN equals NaN, −0 is
 * not 0), `undefined` distinct from a missing key, own keys compared in
 * order. Returns the path of the first difference, or undefined. Written
 * without the codec under test, so it can judge it.
 */
export const firstDifference = (a: unknown, b: unknown, path = "$"): string | undefined => {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    return `${path}: keys [${ka.join(",")}] vs [${kb.join(",")}]`
  }
  for (const k of ka) {
    const d = firstDifference(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`
    )
    if (d !== undefined) return d
  }
  return undefined
}

/** A directory under os.tmpdir() and its removal. */
export const tempDir = (prefix: string): { readonly path: string; readonly remove: () => void } => {
  const path = mkdtempSync(join(tmpdir(), `descent-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** A plain run record for hand-written cases. */
export const sampleRun = (runId: string, createdAt = "2026-11-22T10:00:00.000Z"): RunRecord => ({
  runId,
  name: `experiment ${runId}`,
  specHash: `hash-${runId}`,
  spec: '{"name":"x"}',
  cellCount: 3,
  provenance: {
    packages: { "@descent/dsl": "0.1.0" },
    runtime: "v24.21.0",
    platform: "linux-x64",
    backend: "typescript",
    gitCommit: null
  },
  createdAt
})

/** A plain cell record for hand-written cases, with NaN, ±∞ and −0 in it. */
export const sampleCell = (
  runId: string,
  cellId: string,
  overrides: Partial<CellRecord> = {}
): CellRecord => ({
  runId,
  cellId,
  problem: { name: "rosenbrock", parameters: { dimension: 10, condition: Number.POSITIVE_INFINITY } },
  solver: { name: "adam", options: { learningRate: 0.001, schedule: { name: "cosine", floor: -0 } } },
  repetition: 0,
  key: [123456789, 4000000000],
  status: "diverged",
  message: "objective is NaN",
  iterations: 17,
  metrics: {
    objective: Number.NaN,
    gradientNorm: Number.POSITIVE_INFINITY,
    best: -0,
    lower: Number.NEGATIVE_INFINITY
  },
  trace: { iteration: [0, 1, 10, 17], values: { objective: [3, 2.5, 1e300, Number.NaN] } },
  startedAt: "2026-11-22T10:00:00.000Z",
  finishedAt: "2026-11-22T10:00:01.500Z",
  wallTimeMs: 1500.25,
  ...overrides
})
