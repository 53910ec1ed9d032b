/**
 * Loads JSON fixtures produced by the committed, seeded generator scripts.
 *
 * Fixtures store arrays as plain JSON numbers; non-finite values as the strings
 * "NaN", "Infinity" and "-Infinity" (JSON has no literals for them).
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const revive = (_key: string, value: unknown): unknown => {
  if (value === "NaN") return Number.NaN
  if (value === "Infinity") return Number.POSITIVE_INFINITY
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY
  return value
}

/**
 * Reads `name` (a path relative to `base`, usually `import.meta.url` of the test)
 * and parses it with non-finite numbers restored.
 */
export const loadFixture = <A = unknown>(base: string | URL, name: string): A => {
  const url = new URL(name, base)
  return JSON.parse(readFileSync(fileURLToPath(url), "utf8"), revive) as A
}

/** A fixture's matrix `{ rows, cols, data }` from nested rows. */
export const matrixFromRows = (rows: ReadonlyArray<ReadonlyArray<number>>, cols?: number) => {
  const m = rows.length
  const n = cols ?? (m > 0 ? rows[0]!.length : 0)
  const data = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) data[i * n + j] = rows[i]![j]!
  return { rows: m, cols: n, data }
}
