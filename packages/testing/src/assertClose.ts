/**
 * `assertClose(actual, expected, { rtol, atol })`: NumPy's `assert_allclose`
 * semantics, `|actual − expected| ≤ atol + rtol·|expected|` elementwise, with NaN
 * equal to NaN and infinities equal only to themselves. On failure the message
 * names the worst index (largest violation relative to its allowance).
 */

export interface Tolerance {
  /** Relative tolerance; NumPy's default for `assert_allclose` is 1e-7. */
  readonly rtol?: number
  /** Absolute tolerance; default 0 as in NumPy. */
  readonly atol?: number
  /** A label for the failure message. */
  readonly label?: string
}

type Numeric =
  | number
  | ArrayLike<number>
  | { readonly rows: number; readonly cols: number; readonly data: ArrayLike<number> }

const flatten = (x: Numeric): { values: ArrayLike<number>; shape: number[] } => {
  if (typeof x === "number") return { values: [x], shape: [] }
  if ("data" in x && "rows" in x) return { values: x.data, shape: [x.rows, x.cols] }
  return { values: x as ArrayLike<number>, shape: [(x as ArrayLike<number>).length] }
}

export interface CloseReport {
  /** Flat index of the worst entry, −1 when all entries pass. */
  readonly worstIndex: number
  /** `|a − e| / (atol + rtol·|e|)` at the worst index; ≤ 1 passes. */
  readonly worstRatio: number
  readonly maxAbsError: number
  readonly maxRelError: number
}

/** Computes the comparison without throwing. */
export const compareClose = (actual: Numeric, expected: Numeric, tolerance: Tolerance = {}): CloseReport => {
  const rtol = tolerance.rtol ?? 1e-7
  const atol = tolerance.atol ?? 0
  const a = flatten(actual).values
  const e = flatten(expected).values
  let worstIndex = -1
  let worstRatio = 0
  let maxAbsError = 0
  let maxRelError = 0
  for (let i = 0; i < e.length; i++) {
    const ai = a[i]!
    const ei = e[i]!
    if (Number.isNaN(ai) && Number.isNaN(ei)) continue
    if (ai === ei) continue
    const err = Math.abs(ai - ei)
    const allowed = atol + rtol * Math.abs(ei)
    const ratio = Number.isNaN(err) || !Number.isFinite(err) ? Number.POSITIVE_INFINITY : err / allowed
    if (Number.isFinite(err)) {
      maxAbsError = Math.max(maxAbsError, err)
      if (ei !== 0) maxRelError = Math.max(maxRelError, err / Math.abs(ei))
    }
    if (ratio > 1 && (worstIndex < 0 || ratio > worstRatio)) {
      worstIndex = i
      worstRatio = ratio
    } else if (worstIndex < 0) {
      worstRatio = Math.max(worstRatio, Number.isNaN(ratio) ? 0 : ratio)
    }
  }
  return { worstIndex, worstRatio, maxAbsError, maxRelError }
}

/** Throws an `Error` describing the worst entry unless `actual` is close to `expected`. */
export const assertClose = (actual: Numeric, expected: Numeric, tolerance: Tolerance = {}): void => {
  const fa = flatten(actual)
  const fe = flatten(expected)
  const label = tolerance.label ? `${tolerance.label}: ` : ""
  if (fa.values.length !== fe.values.length || fa.shape.length !== fe.shape.length) {
    throw new Error(
      `${label}shape mismatch: actual (${fa.shape.join(", ")}) vs expected (${fe.shape.join(", ")})`
    )
  }
  for (let k = 0; k < fa.shape.length; k++) {
    if (fa.shape[k] !== fe.shape[k]) {
      throw new Error(
        `${label}shape mismatch: actual (${fa.shape.join(", ")}) vs expected (${fe.shape.join(", ")})`
      )
    }
  }
  const report = compareClose(actual, expected, tolerance)
  if (report.worstIndex >= 0) {
    const i = report.worstIndex
    const n = fe.values.length
    throw new Error(
      `${label}not close (rtol=${tolerance.rtol ?? 1e-7}, atol=${tolerance.atol ?? 0}): ` +
        `worst at index ${i}${fe.shape.length === 2 ? ` (row ${Math.floor(i / fe.shape[1]!)}, col ${i % fe.shape[1]!})` : ""}: ` +
        `actual ${fa.values[i]} vs expected ${fe.values[i]} ` +
        `(|err| = ${Math.abs(fa.values[i]! - fe.values[i]!)}, ${report.worstRatio.toPrecision(3)}× the allowance); ` +
        `max abs error ${report.maxAbsError}, max rel error ${report.maxRelError} over ${n} entries`
    )
  }
}

/** Throws unless `actual` and `expected` are equal bit for bit (NaNs equal, +0 ≠ −0). */
export const assertBitIdentical = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label = ""
): void => {
  if (actual.length !== expected.length) {
    throw new Error(`${label} length mismatch: ${actual.length} vs ${expected.length}`)
  }
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${label} differs at index ${i}: ${actual[i]} vs ${expected[i]}`)
    }
  }
}
