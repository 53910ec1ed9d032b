import { describe, expect, it } from "vitest"
import { ConstantColumn, TooFewSamples } from "../src/Errors.ts"

describe("graph errors", () => {
  it("name the problem", () => {
    expect(new TooFewSamples({ operation: "Notears.fit", samples: 1, required: 2 }).message).toContain(
      "1 sample"
    )
    expect(new ConstantColumn({ operation: "Dagma.fit", column: 3, value: 0 }).message).toContain(
      "column 3 is constant"
    )
  })
})
