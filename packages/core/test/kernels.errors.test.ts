/**
 * Precondition failures of the core kernels: every shape check raises a
 * `DimensionMismatch` naming the operation, the operand, the shape it needed and
 * the shape it got, before anything is written; triangular solves raise
 * `Singular` at the first zero diagonal entry; `Vector.assertFinite` raises
 * `NonFiniteInput` at the first NaN or ±Infinity.
 */
import { describe, expect, it } from "vitest"
import * as Blas1 from "../src/Blas1.ts"
import * as Blas2 from "../src/Blas2.ts"
import * as Blas3 from "../src/Blas3.ts"
import * as Elementwise from "../src/Elementwise.ts"
import { DimensionMismatch, NonFiniteInput, Singular } from "../src/Errors.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Reductions from "../src/Reductions.ts"
import * as Vector from "../src/Vector.ts"

/** Runs `run` and returns what it threw (fails the test if nothing was thrown). */
const thrown = (run: () => unknown): unknown => {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error("expected an error, but the call returned normally")
}

const shapeText = (shape: ReadonlyArray<number>): string => `(${shape.join(", ")})`

interface Mismatch {
  readonly operation: string
  readonly what: string
  readonly expected: ReadonlyArray<number>
  readonly actual: ReadonlyArray<number>
}

/**
 * Asserts that `run` throws a DimensionMismatch with exactly these fields, whose
 * message names the operation, the operand and both shapes, and that none of the
 * `outputs` changed (the check comes before any write).
 */
const expectMismatch = (
  run: () => unknown,
  want: Mismatch,
  outputs: ReadonlyArray<Float64Array> = []
): void => {
  const before = outputs.map((o) => Float64Array.from(o))
  const error = thrown(run)
  expect(error).toBeInstanceOf(DimensionMismatch)
  const e = error as DimensionMismatch
  expect(e._tag).toBe("DimensionMismatch")
  expect({ operation: e.operation, what: e.what, expected: [...e.expected], actual: [...e.actual] }).toEqual({
    operation: want.operation,
    what: want.what,
    expected: [...want.expected],
    actual: [...want.actual]
  })
  expect(e.message).toBe(
    `${want.operation}: ${want.what} has shape ${shapeText(want.actual)}, expected ${shapeText(want.expected)}`
  )
  outputs.forEach((o, i) => {
    expect(Array.from(o)).toEqual(Array.from(before[i]!))
  })
}

const v = (n: number, value = 1): Float64Array => new Float64Array(n).fill(value)
const m = (rows: number, cols: number, value = 1): Matrix.Matrix => Matrix.full(rows, cols, value)

describe("DimensionMismatch from Blas1", () => {
  it.each([
    ["dot", () => Blas1.dot(v(3), v(4))],
    ["axpy", () => Blas1.axpy(2, v(3), v(4))],
    ["axpby", () => Blas1.axpby(2, v(3), 0.5, v(4))],
    ["copy", () => Blas1.copy(v(3), v(4))]
  ] as const)("%s: y of length 4 against x of length 3", (operation, run) => {
    expectMismatch(run, { operation, what: "y", expected: [3], actual: [4] })
  })

  it("leaves y untouched when the lengths differ", () => {
    const y = v(2, 7)
    expectMismatch(
      () => Blas1.axpy(2, v(5), y),
      { operation: "axpy", what: "y", expected: [5], actual: [2] },
      [y]
    )
    expectMismatch(() => Blas1.copy(v(0), y), { operation: "copy", what: "y", expected: [0], actual: [2] }, [
      y
    ])
  })
})

describe("DimensionMismatch from Blas2", () => {
  it("gemv checks x against A's columns and y against its rows", () => {
    const y = v(3, 5)
    expectMismatch(
      () => Blas2.gemv(1, m(3, 4), v(5), 0, y),
      { operation: "gemv", what: "x", expected: [4], actual: [5] },
      [y]
    )
    const y2 = v(2, 5)
    expectMismatch(
      () => Blas2.gemv(1, m(3, 4), v(4), 0, y2),
      { operation: "gemv", what: "y", expected: [3], actual: [2] },
      [y2]
    )
  })

  it("gemvT checks x against A's rows and y against its columns", () => {
    expectMismatch(() => Blas2.gemvT(1, m(3, 4), v(4), 0, v(4)), {
      operation: "gemvT",
      what: "x",
      expected: [3],
      actual: [4]
    })
    const y = v(3, 5)
    expectMismatch(
      () => Blas2.gemvT(1, m(3, 4), v(3), 0, y),
      { operation: "gemvT", what: "y", expected: [4], actual: [3] },
      [y]
    )
  })

  it("ger checks x against A's rows and y against its columns", () => {
    const A = m(2, 5)
    expectMismatch(
      () => Blas2.ger(1, v(3), v(5), A),
      { operation: "ger", what: "x", expected: [2], actual: [3] },
      [A.data]
    )
    expectMismatch(
      () => Blas2.ger(1, v(2), v(1), A),
      { operation: "ger", what: "y", expected: [5], actual: [1] },
      [A.data]
    )
  })

  it("symv needs a square A and x, y of its order", () => {
    expectMismatch(() => Blas2.symv(1, m(3, 4), v(4), 0, v(3)), {
      operation: "symv",
      what: "A",
      expected: [3, 3],
      actual: [3, 4]
    })
    expectMismatch(() => Blas2.symv(1, m(3, 3), v(2), 0, v(3)), {
      operation: "symv",
      what: "x",
      expected: [3],
      actual: [2]
    })
    const y = v(4, 9)
    expectMismatch(
      () => Blas2.symv(1, m(3, 3), v(3), 0, y),
      { operation: "symv", what: "y", expected: [3], actual: [4] },
      [y]
    )
  })

  it("trsv needs a square A and b of its order", () => {
    const b = v(2, 3)
    expectMismatch(
      () => Blas2.trsv(m(2, 3), b, { lower: true }),
      { operation: "trsv", what: "A", expected: [2, 2], actual: [2, 3] },
      [b]
    )
    const b4 = v(4, 3)
    expectMismatch(
      () => Blas2.trsv(Matrix.identity(3), b4, { lower: false, transpose: true }),
      { operation: "trsv", what: "b", expected: [3], actual: [4] },
      [b4]
    )
  })
})

describe("DimensionMismatch from Blas3", () => {
  it("gemm reports op(B) against op(A) in every transpose combination", () => {
    // op(A) is 2 × 3 in each case; op(B) is 4 × 5, so its 4 rows do not meet k = 3.
    const cases = [
      { transA: false, transB: false, A: m(2, 3), B: m(4, 5), what: "B" },
      { transA: true, transB: false, A: m(3, 2), B: m(4, 5), what: "B" },
      { transA: false, transB: true, A: m(2, 3), B: m(5, 4), what: "Bᵀ" },
      { transA: true, transB: true, A: m(3, 2), B: m(5, 4), what: "Bᵀ" }
    ]
    for (const c of cases) {
      const C = m(2, 5, 8)
      expectMismatch(
        () => Blas3.gemm(c.transA, c.transB, 1, c.A, c.B, 0, C),
        { operation: "gemm", what: c.what, expected: [3, 5], actual: [4, 5] },
        [C.data]
      )
    }
  })

  it("gemm checks C against op(A)·op(B)", () => {
    const C = m(3, 2, 8)
    expectMismatch(
      () => Blas3.gemm(false, true, 1, m(2, 3), m(4, 3), 0, C),
      { operation: "gemm", what: "C", expected: [2, 4], actual: [3, 2] },
      [C.data]
    )
    const C0 = m(0, 0)
    expectMismatch(() => Blas3.gemm(true, false, 1, m(3, 2), m(3, 0), 1, C0), {
      operation: "gemm",
      what: "C",
      expected: [2, 0],
      actual: [0, 0]
    })
  })

  it("trsm needs a square A whose order matches B on the chosen side", () => {
    const B = m(3, 4, 2)
    expectMismatch(
      () => Blas3.trsm(m(3, 4), B, { side: "left", lower: true }),
      { operation: "trsm", what: "A", expected: [3, 3], actual: [3, 4] },
      [B.data]
    )
    expectMismatch(
      () => Blas3.trsm(Matrix.identity(4), B, { side: "left", lower: true }),
      { operation: "trsm", what: "A", expected: [3, 3], actual: [4, 4] },
      [B.data]
    )
    expectMismatch(
      () => Blas3.trsm(Matrix.identity(3), B, { side: "right", lower: false, alpha: 2 }),
      { operation: "trsm", what: "A", expected: [4, 4], actual: [3, 3] },
      [B.data]
    )
  })
})

describe("DimensionMismatch from Reductions", () => {
  it("softmax, logSumExpRows, rowSums and colSums check their output lengths", () => {
    expectMismatch(() => Reductions.softmax(v(3), v(2)), {
      operation: "softmax",
      what: "out",
      expected: [3],
      actual: [2]
    })
    expectMismatch(() => Reductions.logSumExpRows(m(4, 2), v(2)), {
      operation: "logSumExpRows",
      what: "out",
      expected: [4],
      actual: [2]
    })
    expectMismatch(() => Reductions.rowSums(m(4, 2), v(5)), {
      operation: "rowSums",
      what: "out",
      expected: [4],
      actual: [5]
    })
    const out = v(4, 6)
    expectMismatch(
      () => Reductions.colSums(m(4, 2), out),
      { operation: "colSums", what: "out", expected: [2], actual: [4] },
      [out]
    )
  })

  it("logSumExpCols checks its output and its workspace", () => {
    expectMismatch(() => Reductions.logSumExpCols(m(4, 2), v(4)), {
      operation: "logSumExpCols",
      what: "out",
      expected: [2],
      actual: [4]
    })
    const out = v(2, 6)
    expectMismatch(
      () => Reductions.logSumExpCols(m(4, 2), out, v(3)),
      { operation: "logSumExpCols", what: "workspace", expected: [2], actual: [3] },
      [out]
    )
  })

  it("softmaxRows checks the output's shape", () => {
    const out = m(3, 2, 4)
    expectMismatch(
      () => Reductions.softmaxRows(m(2, 3), out),
      { operation: "softmaxRows", what: "out", expected: [2, 3], actual: [3, 2] },
      [out.data]
    )
  })
})

describe("DimensionMismatch from Elementwise", () => {
  it.each([
    ["add", Elementwise.add],
    ["sub", Elementwise.sub],
    ["mul", Elementwise.mul],
    ["div", Elementwise.div]
  ] as const)("%s checks y and out against x", (operation, kernel) => {
    const out = v(3, 4)
    expectMismatch(() => kernel(v(3), v(2), out), { operation, what: "y", expected: [3], actual: [2] }, [out])
    const short = v(2, 4)
    expectMismatch(() => kernel(v(3), v(3), short), { operation, what: "out", expected: [3], actual: [2] }, [
      short
    ])
  })

  it("addScalar and clamp check out against x", () => {
    expectMismatch(() => Elementwise.addScalar(v(3), 1, v(4)), {
      operation: "addScalar",
      what: "out",
      expected: [3],
      actual: [4]
    })
    expectMismatch(() => Elementwise.clamp(v(3), 0, 1, v(0)), {
      operation: "clamp",
      what: "out",
      expected: [3],
      actual: [0]
    })
  })

  it("scaleRows and scaleCols check d against A", () => {
    const A = m(2, 3, 5)
    expectMismatch(
      () => Elementwise.scaleRows(A, v(3)),
      { operation: "scaleRows", what: "d", expected: [2], actual: [3] },
      [A.data]
    )
    expectMismatch(
      () => Elementwise.scaleCols(A, v(2)),
      { operation: "scaleCols", what: "d", expected: [3], actual: [2] },
      [A.data]
    )
  })
})

describe("DimensionMismatch from Matrix and Vector guards", () => {
  it("fromRows names the ragged row", () => {
    expectMismatch(() => Matrix.fromRows([[1, 2, 3], [4, 5, 6], [7]]), {
      operation: "Matrix.fromRows",
      what: "row 2",
      expected: [3],
      actual: [1]
    })
    expectMismatch(() => Matrix.fromRows([[1, 2]], 3), {
      operation: "Matrix.fromRows",
      what: "row 0",
      expected: [3],
      actual: [2]
    })
  })

  it("fromData needs rows·cols entries", () => {
    expectMismatch(() => Matrix.fromData(2, 3, v(5)), {
      operation: "Matrix.fromData",
      what: "data",
      expected: [6],
      actual: [5]
    })
  })

  it("transposeInto, getColumn, assertShape, assertSquare and assertLength report both shapes", () => {
    const out = m(2, 3, 1)
    expectMismatch(
      () => Matrix.transposeInto(m(2, 3), out),
      { operation: "Matrix.transposeInto", what: "out", expected: [3, 2], actual: [2, 3] },
      [out.data]
    )
    expectMismatch(() => Matrix.getColumn(m(2, 3), 0, v(3)), {
      operation: "Matrix.getColumn",
      what: "out",
      expected: [2],
      actual: [3]
    })
    expectMismatch(() => Matrix.assertShape("solve", "B", m(2, 3), 3, 3), {
      operation: "solve",
      what: "B",
      expected: [3, 3],
      actual: [2, 3]
    })
    expectMismatch(() => Matrix.assertSquare("cholesky", "A", m(2, 3)), {
      operation: "cholesky",
      what: "A",
      expected: [2, 2],
      actual: [2, 3]
    })
    expectMismatch(() => Vector.assertLength("solve", "b", v(4), 3), {
      operation: "solve",
      what: "b",
      expected: [3],
      actual: [4]
    })
    expect(() => Matrix.assertShape("solve", "B", m(2, 3), 2, 3)).not.toThrow()
    expect(() => Matrix.assertSquare("cholesky", "A", m(0, 0))).not.toThrow()
    expect(() => Vector.assertLength("solve", "b", v(0), 0)).not.toThrow()
  })

  it("constructors and views reject impossible sizes and indices with RangeError", () => {
    expect(() => Vector.zeros(-1)).toThrow(RangeError)
    expect(() => Vector.zeros(1.5)).toThrow(RangeError)
    expect(() => Matrix.zeros(-1, 2)).toThrow(RangeError)
    expect(() => Matrix.zeros(2, Number.NaN)).toThrow(RangeError)
    expect(() => Matrix.fromData(1.5, 2, v(3))).toThrow(RangeError)
    expect(() => Matrix.row(m(2, 2), 2)).toThrow(RangeError)
    expect(() => Matrix.row(m(2, 2), -1)).toThrow(RangeError)
    expect(() => Matrix.rowRange(m(2, 2), 1, 3)).toThrow(RangeError)
    expect(() => Matrix.rowRange(m(2, 2), 2, 1)).toThrow(RangeError)
  })
})

describe("Singular from triangular solves", () => {
  /** 4 × 4 with both triangles filled and a zero at diagonal position `index`. */
  const withZeroAt = (...indices: number[]): Matrix.Matrix => {
    const A = Matrix.fromRows([
      [2, 1, 1, 1],
      [1, 3, 1, 1],
      [1, 1, 4, 1],
      [1, 1, 1, 5]
    ])
    for (const i of indices) A.data[i * 4 + i] = 0
    return A
  }
  const TRIANGULAR: ReadonlyArray<Blas2.TriangularOptions> = [
    { lower: true },
    { lower: false },
    { lower: true, transpose: true },
    { lower: false, transpose: true }
  ]

  const expectSingular = (
    run: () => unknown,
    operation: string,
    index: number,
    untouched: Float64Array
  ): void => {
    const before = Float64Array.from(untouched)
    const error = thrown(run)
    expect(error).toBeInstanceOf(Singular)
    const e = error as Singular
    expect(e._tag).toBe("Singular")
    expect(e.operation).toBe(operation)
    expect(e.index).toBe(index)
    expect(e.message).toBe(`${operation}: the matrix is singular (zero pivot at index ${index})`)
    expect(Array.from(untouched)).toEqual(Array.from(before))
  }

  it.each(TRIANGULAR)("trsv %o raises Singular at the zero diagonal entry, before touching b", (options) => {
    for (const index of [0, 2, 3]) {
      const b = Float64Array.of(1, 2, 3, 4)
      expectSingular(() => Blas2.trsv(withZeroAt(index), b, options), "trsv", index, b)
    }
  })

  it("trsv reports the first of several zero diagonal entries, and −0 counts as zero", () => {
    const b = Float64Array.of(1, 2, 3, 4)
    expectSingular(() => Blas2.trsv(withZeroAt(3, 1), b, { lower: true }), "trsv", 1, b)
    const A = withZeroAt()
    A.data[2 * 4 + 2] = -0
    expectSingular(() => Blas2.trsv(A, b, { lower: false, transpose: true }), "trsv", 2, b)
  })

  it("trsv and trsm with unitDiagonal do not read the diagonal, so zeros there are fine", () => {
    const b = Float64Array.of(1, 2, 3, 4)
    expect(() => Blas2.trsv(withZeroAt(0, 1, 2, 3), b, { lower: true, unitDiagonal: true })).not.toThrow()
    expect(Array.from(b).every(Number.isFinite)).toBe(true)
    const B = m(4, 2, 1)
    expect(() =>
      Blas3.trsm(withZeroAt(2), B, { side: "left", lower: false, unitDiagonal: true })
    ).not.toThrow()
    expect(Array.from(B.data).every(Number.isFinite)).toBe(true)
  })

  it("trsm raises Singular on either side and transposition, before scaling B by α", () => {
    for (const side of ["left", "right"] as const) {
      for (const options of TRIANGULAR) {
        const B = side === "left" ? m(4, 3, 2) : m(3, 4, 2)
        expectSingular(() => Blas3.trsm(withZeroAt(1), B, { ...options, side, alpha: 3 }), "trsm", 1, B.data)
      }
    }
  })
})

describe("NonFiniteInput from Vector.assertFinite", () => {
  it.each([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY]
  ] as const)("names the index and value of the first %s", (text, bad) => {
    const x = Float64Array.of(1, -2, 0, bad, 5, Number.NaN)
    const error = thrown(() => Vector.assertFinite("minimize", "x0", x))
    expect(error).toBeInstanceOf(NonFiniteInput)
    const e = error as NonFiniteInput
    expect(e._tag).toBe("NonFiniteInput")
    expect(e.operation).toBe("minimize")
    expect(e.what).toBe("x0")
    expect(e.index).toBe(3)
    expect(Object.is(e.value, bad)).toBe(true)
    expect(e.message).toBe(`minimize: x0 has the non-finite value ${text} at index 3`)
  })

  it("accepts plain arrays, reports index 0, and passes finite or empty input", () => {
    const e = thrown(() => Vector.assertFinite("fit", "weights", [Number.NaN, 1])) as NonFiniteInput
    expect(e).toBeInstanceOf(NonFiniteInput)
    expect(e.index).toBe(0)
    expect(e.value).toBeNaN()
    expect(() => Vector.assertFinite("fit", "weights", [])).not.toThrow()
    expect(() =>
      Vector.assertFinite("fit", "weights", Float64Array.of(-1e308, 5e-324, 0, 1e308))
    ).not.toThrow()
  })
})
