/**
 * The length check of core's kernels: one call per operand, no allocation
 * (kernels run once or more per solver iteration).
 */
import { DimensionMismatch } from "../Errors.ts"

/** Throws DimensionMismatch (`operation`, operand `what`) unless `a` has n entries. */
export const requireLength = (operation: string, what: string, a: Float64Array, n: number): void => {
  if (a.length !== n) throw new DimensionMismatch({ operation, what, expected: [n], actual: [a.length] })
}
