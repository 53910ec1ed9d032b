/**
 * Number and text formatting shared by the plain-text summary and the HTML
 * report, so both show the same digits.
 */
import type { CellStatus } from "../Records.ts"

/** The spelling of a missing value (NaN, no cell reported the metric). */
export const MISSING = "—"

/**
 * A number in at most `digits` significant digits: integers as they are
 * (below 1e9), magnitudes in [1e-3, 1e4) in fixed notation without trailing
 * zeros, others in exponent notation (`1.235e-7`); `inf`, `-inf`, and
 * `MISSING` for NaN.
 */
export const formatNumber = (x: number, digits = 4): string => {
  if (Number.isNaN(x)) return MISSING
  if (x === Infinity) return "inf"
  if (x === -Infinity) return "-inf"
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x)
  const a = Math.abs(x)
  if (a >= 1e-3 && a < 1e4) {
    const fixed = x.toPrecision(digits)
    return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed
  }
  return x.toExponential(digits - 1).replace(/\.?0+e/, "e")
}

/** A duration given in milliseconds: `850 ms`, `12.5 s`, `4.2 min`. */
export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms)) return formatNumber(ms)
  if (Math.abs(ms) < 1000) return `${formatNumber(ms, 3)} ms`
  if (Math.abs(ms) < 120_000) return `${formatNumber(ms / 1000, 3)} s`
  return `${formatNumber(ms / 60_000, 3)} min`
}

/** The order in which status counts are listed (the order of `CellStatus`). */
export const STATUS_ORDER: ReadonlyArray<CellStatus> = [
  "converged",
  "maxIterations",
  "diverged",
  "stalled",
  "interrupted",
  "timeout",
  "failed"
]

/** `3 converged, 1 diverged`. */
export const formatStatusCounts = (
  counts: ReadonlyArray<{ readonly status: CellStatus; readonly count: number }>
) => counts.map((c) => `${c.count} ${c.status}`).join(", ")

/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (text: string): string =>
  text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;")
