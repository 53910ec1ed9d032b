import { describe, expect, it } from "vitest"
import { assertBitIdentical, assertClose, compareClose } from "../src/index.ts"

describe("assertClose", () => {
  it("passes within rtol and atol, NumPy style", () => {
    assertClose([1, 2, 3], [1, 2, 3 + 3e-8], { rtol: 1e-7 })
    assertClose(0, 1e-13, { atol: 1e-12 })
    assertClose([Number.NaN], [Number.NaN])
    assertClose([Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY])
  })
  it("reports the worst index", () => {
    expect(() => assertClose([1, 2, 3.5, 4.01], [1, 2, 3, 4], { rtol: 1e-3 })).toThrow(/worst at index 2/)
    expect(compareClose([1, 5], [1, 2], { rtol: 0.1 }).worstIndex).toBe(1)
  })
  it("fails on NaN vs number and on shape mismatch", () => {
    expect(() => assertClose([Number.NaN], [1])).toThrow(/index 0/)
    expect(() => assertClose([1, 2], [1])).toThrow(/shape/)
    expect(() => assertClose({ rows: 2, cols: 1, data: [1, 2] }, { rows: 1, cols: 2, data: [1, 2] })).toThrow(
      /shape/
    )
  })
  it("tells -0 from +0 only in the bitwise check", () => {
    assertClose([-0], [0])
    expect(() => assertBitIdentical([-0], [0])).toThrow(/index 0/)
  })
})
