import { Errors, Matrix, Random } from "@descent/core"
import { assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as Data from "../src/Data.ts"
import { ConstantColumn, TooFewSamples } from "../src/Errors.ts"

/**
 * gemm (blocked, packed) and the naive loop below sum the n = 300 products in
 * different orders; for O(1) data the difference is a few hundred ulp at most.
 */
const SUMMATION_ORDER = { rtol: 1e-13, atol: 1e-14 }

/** Means and variances after standardization: exact up to a few ulp of O(1) sums. */
const STANDARDIZED = { rtol: 0, atol: 1e-13 }

const naiveCovariance = (X: Matrix.Matrix, center: boolean): Matrix.Matrix => {
  const { rows: n, cols: d } = X
  const mean = new Array<number>(d).fill(0)
  if (center) for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += X.data[i * d + j]! / n
  const S = Matrix.zeros(d, d)
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0
      for (let i = 0; i < n; i++) s += (X.data[i * d + a]! - mean[a]!) * (X.data[i * d + b]! - mean[b]!)
      S.data[a * d + b] = s / n
    }
  }
  return S
}

describe("Data.checkData", () => {
  const good = Matrix.fromRows([
    [1, 2],
    [3, 5]
  ])

  it("accepts valid data", () => {
    expect(() => Data.checkData("test", good)).not.toThrow()
  })

  it("names each problem with a typed error", () => {
    expect(() => Data.checkData("Notears.fit", Matrix.zeros(0, 3))).toThrow(Errors.EmptyInput)
    expect(() => Data.checkData("Notears.fit", Matrix.zeros(4, 0))).toThrow(Errors.EmptyInput)
    try {
      Data.checkData(
        "Notears.fit",
        Matrix.fromRows([
          [1, 2],
          [3, Number.POSITIVE_INFINITY],
          [0, 1]
        ])
      )
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(Errors.NonFiniteInput)
      expect((error as Errors.NonFiniteInput).message).toContain("sample 1, variable 1")
      expect((error as Errors.NonFiniteInput).index).toBe(3)
    }
    expect(() => Data.checkData("Dagma.fit", Matrix.fromRows([[Number.NaN, 1]]))).toThrow(
      Errors.NonFiniteInput
    )
    expect(() => Data.checkData("Dagma.fit", Matrix.fromRows([[1, 2]]))).toThrow(TooFewSamples)
    expect(() => Data.checkData("Dagma.fit", good, { minSamples: 3 })).toThrow(TooFewSamples)
    try {
      Data.checkData(
        "Golem.fit",
        Matrix.fromRows([
          [1, 7],
          [2, 7],
          [3, 7]
        ])
      )
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConstantColumn)
      expect((error as ConstantColumn).column).toBe(1)
      expect((error as ConstantColumn).value).toBe(7)
    }
    expect(() => Data.checkData("x", good, { minSamples: 0 })).toThrow(Errors.InvalidOptions)
  })
})

describe("Data transforms", () => {
  const X = Matrix.fromData(300, 6, Random.normal(Random.key(11), 1800, { location: 0.7, scale: 2 }))

  it("covariance = XᵀX/n, exactly symmetric, with and without centering", () => {
    for (const center of [false, true]) {
      const S = Data.covariance(X, { center })
      assertClose(S.data, naiveCovariance(X, center).data, SUMMATION_ORDER)
      for (let a = 0; a < 6; a++)
        for (let b = 0; b < 6; b++) expect(S.data[a * 6 + b]).toBe(S.data[b * 6 + a])
    }
    expect(() => Data.covariance(Matrix.zeros(0, 2))).toThrow(Errors.EmptyInput)
    expect(() => Data.covariance(Matrix.fromRows([[Number.NaN]]))).toThrow(Errors.NonFiniteInput)
  })

  it("standardize gives mean 0 and variance 1 per column", () => {
    const Z = Data.standardize(X)
    assertClose(Data.columnMeans(Z), new Float64Array(6), STANDARDIZED)
    const S = Data.covariance(Z)
    for (let j = 0; j < 6; j++) assertClose(S.data[j * 6 + j]!, 1, STANDARDIZED)
    expect(() =>
      Data.standardize(
        Matrix.fromRows([
          [1, 2],
          [1, 3]
        ])
      )
    ).toThrow(ConstantColumn)
  })
})
