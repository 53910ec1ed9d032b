/**
 * Precondition failures of `Tensor` operations and `Autodiff` transformations:
 * each raises its typed error (`DimensionMismatch`, `InvalidOptions`) at the
 * call that caused it, with the offending values in its fields — also when the
 * operation runs on traced tensors inside `grad` or `hvp`.
 */
import { describe, expect, it } from "vitest"
import * as Autodiff from "../src/Autodiff.ts"
import { DimensionMismatch, InvalidOptions } from "../src/Errors.ts"
import type { Matrix } from "../src/Matrix.ts"
import * as T from "../src/Tensor.ts"

type Tensor = T.Tensor

const vector = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i + 1)
const matrix = (rows: number, cols: number): Matrix => ({
  rows,
  cols,
  data: Float64Array.from({ length: rows * cols }, (_, i) => i + 1)
})

/** What `run` threw (fails the test when it returns). */
const thrown = (run: () => unknown): unknown => {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error("expected the call to throw")
}

const shapeText = (shape: ReadonlyArray<number>): string => `(${shape.join(", ")})`

/** A DimensionMismatch from `operation` naming both shapes, in its fields and its message. */
const expectDimensionMismatch = (
  run: () => unknown,
  fields: { operation: string; what?: string; expected: ReadonlyArray<number>; actual: ReadonlyArray<number> }
): DimensionMismatch => {
  const error = thrown(run)
  expect(error).toBeInstanceOf(DimensionMismatch)
  const e = error as DimensionMismatch
  expect(e._tag).toBe("DimensionMismatch")
  expect(e.operation).toBe(fields.operation)
  if (fields.what !== undefined) expect(e.what).toBe(fields.what)
  expect(e.expected).toEqual(fields.expected)
  expect(e.actual).toEqual(fields.actual)
  expect(e.message).toContain(`${fields.operation}:`)
  expect(e.message).toContain(`shape ${shapeText(fields.actual)}`)
  expect(e.message).toContain(`expected ${shapeText(fields.expected)}`)
  return e
}

const expectInvalidOptions = (
  run: () => unknown,
  fields: { operation: string; field: string; value: unknown }
): InvalidOptions => {
  const error = thrown(run)
  expect(error).toBeInstanceOf(InvalidOptions)
  const e = error as InvalidOptions
  expect(e._tag).toBe("InvalidOptions")
  expect(e.operation).toBe(fields.operation)
  expect(e.field).toBe(fields.field)
  expect(e.value).toEqual(fields.value)
  expect(e.message).toContain(fields.field)
  return e
}

describe("shape mismatches raise DimensionMismatch at the operation, naming both shapes", () => {
  const binary: ReadonlyArray<[string, (a: T.TensorLike, b: T.TensorLike) => Tensor]> = [
    ["add", T.add],
    ["sub", T.sub],
    ["mul", T.mul],
    ["div", T.div],
    ["pow", T.pow],
    ["maximum", T.maximum],
    ["minimum", T.minimum]
  ]
  for (const [name, op] of binary) {
    it(`${name}: operands that do not broadcast`, () => {
      expectDimensionMismatch(() => op(vector(2), vector(3)), {
        operation: name,
        what: "second operand",
        expected: [2],
        actual: [3]
      })
      // [2, 3] and [2]: the trailing dimensions 3 and 2 differ.
      expectDimensionMismatch(() => op(matrix(2, 3), vector(2)), {
        operation: name,
        expected: [2, 3],
        actual: [2]
      })
      expectDimensionMismatch(() => op(matrix(2, 3), matrix(3, 2)), {
        operation: name,
        expected: [2, 3],
        actual: [3, 2]
      })
    })
  }

  it("where, broadcastTo, concat and Tensor.from", () => {
    expectDimensionMismatch(() => T.where(vector(2), vector(3), 0), {
      operation: "where",
      expected: [2],
      actual: [3]
    })
    expectDimensionMismatch(() => T.broadcastTo(vector(3), [2, 2]), {
      operation: "broadcastTo",
      expected: [3],
      actual: [2, 2]
    })
    expectDimensionMismatch(() => T.concat([matrix(2, 3), matrix(2, 2)]), {
      operation: "concat",
      what: "part",
      expected: [2, 3],
      actual: [2, 2]
    })
    expectDimensionMismatch(() => T.from({ rows: 2, cols: 2, data: vector(3) }), {
      operation: "Tensor.from",
      expected: [4],
      actual: [3]
    })
  })

  it("matmul: inner dimensions that differ (every vector/matrix combination) and scalar operands", () => {
    expectDimensionMismatch(() => T.matmul(matrix(2, 3), matrix(2, 3)), {
      operation: "matmul",
      what: "b",
      expected: [3, 3],
      actual: [2, 3]
    })
    expectDimensionMismatch(() => T.matmul(matrix(2, 3), vector(4)), {
      operation: "matmul",
      expected: [3],
      actual: [4]
    })
    expectDimensionMismatch(() => T.matmul(vector(3), matrix(4, 2)), {
      operation: "matmul",
      expected: [3, 2],
      actual: [4, 2]
    })
    expectDimensionMismatch(() => T.matmul(vector(3), vector(4)), {
      operation: "matmul",
      expected: [3],
      actual: [4]
    })
    expectDimensionMismatch(() => T.matmul(2, vector(3)), {
      operation: "matmul",
      what: "a",
      expected: [3],
      actual: []
    })
    expectDimensionMismatch(() => T.matmul(vector(3), 2), {
      operation: "matmul",
      what: "b",
      expected: [3],
      actual: []
    })
  })

  it("reshape to a shape of another size", () => {
    expectDimensionMismatch(() => T.reshape(matrix(2, 3), [4]), {
      operation: "reshape",
      expected: [2, 3],
      actual: [4]
    })
    expectDimensionMismatch(() => T.reshape(5, [2]), { operation: "reshape", expected: [], actual: [2] })
  })

  it("dot of non-vectors (blaming the operand that is not a vector) and of unequal lengths", () => {
    expectDimensionMismatch(() => T.dot(vector(3), matrix(3, 2)), {
      operation: "dot",
      what: "b",
      expected: [3],
      actual: [3, 2]
    })
    expectDimensionMismatch(() => T.dot(matrix(2, 3), vector(3)), {
      operation: "dot",
      what: "a",
      expected: [3],
      actual: [2, 3]
    })
    expectDimensionMismatch(() => T.dot(2, vector(1)), {
      operation: "dot",
      what: "a",
      expected: [1],
      actual: []
    })
    expectDimensionMismatch(() => T.dot(vector(3), vector(4)), {
      operation: "dot",
      what: "b",
      expected: [3],
      actual: [4]
    })
  })

  it("trace of a non-square matrix, a vector or a scalar", () => {
    expectDimensionMismatch(() => T.trace(matrix(2, 3)), {
      operation: "trace",
      what: "A",
      expected: [2, 2],
      actual: [2, 3]
    })
    expectDimensionMismatch(() => T.trace(vector(3)), { operation: "trace", expected: [3, 3], actual: [3] })
    expectDimensionMismatch(() => T.trace(4), { operation: "trace", expected: [1, 1], actual: [] })
  })

  it("a reduction along an axis the tensor does not have", () => {
    expectDimensionMismatch(() => T.sum(vector(2), 1), { operation: "sum", expected: [2], actual: [1] })
    expectDimensionMismatch(() => T.max(3, 0), { operation: "max", expected: [1], actual: [0] })
  })

  it("raised by the traced operation inside grad and hvp, not deferred to the backward pass", () => {
    const offending = (x: Tensor): Tensor => {
      // The error comes out of this call, where the function can still catch it.
      const e = expectDimensionMismatch(() => T.matmul(T.reshape(x, [2, 2]), vector(3)), {
        operation: "matmul",
        expected: [2],
        actual: [3]
      })
      expect(e.operation).toBe("matmul")
      return T.sum(T.mul(x, x))
    }
    expect(Array.from(Autodiff.grad<[Float64Array]>(offending)(vector(4)))).toEqual([2, 4, 6, 8])
    expect(Array.from(Autodiff.hvp<Float64Array>(offending, vector(4), vector(4)))).toEqual([2, 4, 6, 8])
    // Uncaught, it propagates out of the transformation unchanged.
    expectDimensionMismatch(
      () => Autodiff.grad<[Float64Array]>((x) => T.sum(T.add(x, vector(3))))(vector(2)),
      {
        operation: "add",
        expected: [2],
        actual: [3]
      }
    )
    expectDimensionMismatch(
      () =>
        Autodiff.hvp<Float64Array>(
          (x) => T.sum(T.mul(T.reshape(x, [1, 2]), matrix(3, 3))),
          vector(2),
          vector(2)
        ),
      { operation: "mul", expected: [1, 2], actual: [3, 3] }
    )
    expectDimensionMismatch(() => Autodiff.jacobian((x) => T.matmul(matrix(2, 3), x), vector(2)), {
      operation: "matmul",
      expected: [3],
      actual: [2]
    })
  })
})

describe("transformations check their arguments", () => {
  it("grad (and hvp) of a function whose output is not a scalar raises DimensionMismatch", () => {
    expectDimensionMismatch(() => Autodiff.grad<[Float64Array]>((x) => T.mul(x, 2))(vector(2)), {
      operation: "valueAndGrad",
      what: "the function's output",
      expected: [],
      actual: [2]
    })
    expectDimensionMismatch(() => Autodiff.grad<[Matrix]>((x) => T.transpose(x))(matrix(2, 3)), {
      operation: "valueAndGrad",
      expected: [],
      actual: [3, 2]
    })
    expectDimensionMismatch(() => Autodiff.hvp<Float64Array>((x) => x, vector(2), vector(2)), {
      operation: "hvp",
      expected: [],
      actual: [2]
    })
    // One entry of any shape is a scalar.
    expect(Array.from(Autodiff.grad<[Float64Array]>((x) => T.reshape(T.sum(x), [1, 1]))(vector(2)))).toEqual([
      1, 1
    ])
  })

  it("a non-finite input raises InvalidOptions naming its path in the tree", () => {
    const loss = (p: Autodiff.Traced<{ a: Float64Array; b: { c: Matrix; d: number } }>): Tensor =>
      T.add(T.sum(p.a), T.mul(p.b.d, T.sum(p.b.c)))
    const grad = Autodiff.grad<[{ a: Float64Array; b: { c: Matrix; d: number } }]>(loss)
    const c = matrix(2, 2)
    expectInvalidOptions(() => grad({ a: new Float64Array([1, Number.NaN]), b: { c, d: 1 } }), {
      operation: "valueAndGrad",
      field: ".a[1]",
      value: Number.NaN
    })
    const bad = matrix(2, 2)
    bad.data[3] = Number.POSITIVE_INFINITY
    expectInvalidOptions(() => grad({ a: vector(2), b: { c: bad, d: 1 } }), {
      operation: "valueAndGrad",
      field: ".b.c[3]",
      value: Number.POSITIVE_INFINITY
    })
    expectInvalidOptions(() => grad({ a: vector(2), b: { c, d: Number.NEGATIVE_INFINITY } }), {
      operation: "valueAndGrad",
      field: ".b.d[0]",
      value: Number.NEGATIVE_INFINITY
    })
    // At the root, and in arrays.
    expectInvalidOptions(
      () => Autodiff.grad<[Float64Array]>((x) => T.sum(x))(new Float64Array([0, 1, Number.NaN])),
      {
        operation: "valueAndGrad",
        field: "[2]",
        value: Number.NaN
      }
    )
    expectInvalidOptions(
      () =>
        Autodiff.grad<[ReadonlyArray<Float64Array>]>((xs) => T.sum(xs[1]!))([
          vector(1),
          new Float64Array([Number.NaN])
        ]),
      { operation: "valueAndGrad", field: "[1][0]", value: Number.NaN }
    )
    // hvp and jvp check their primals and their directions.
    expectInvalidOptions(
      () => Autodiff.hvp<Float64Array>((x) => T.sum(x), vector(2), new Float64Array([0, Number.NaN])),
      { operation: "hvp", field: "[1]", value: Number.NaN }
    )
    expectInvalidOptions(
      () => Autodiff.jvp<Float64Array>((x) => x, new Float64Array([Number.NaN]), vector(1)),
      {
        operation: "jvp",
        field: "[0]",
        value: Number.NaN
      }
    )
  })

  it("a leaf that is not a number, vector, matrix or tensor raises InvalidOptions naming its path", () => {
    const e = expectInvalidOptions(
      () =>
        Autodiff.grad<[{ a: Float64Array }]>((p) => T.sum(p.a))({ a: "x" } as unknown as { a: Float64Array }),
      { operation: "valueAndGrad", field: ".a", value: "x" }
    )
    expect(e.requirement).toContain("a number, vector, matrix, tensor")
  })

  it("argnums outside the arguments raise InvalidOptions", () => {
    const f = (x: Tensor, y: Tensor): Tensor => T.sum(T.mul(x, y))
    const grad = (argnums: number | ReadonlyArray<number>) =>
      Autodiff.grad<[Float64Array, Float64Array]>(f, { argnums })(vector(2), vector(2))
    for (const k of [2, -1, 0.5, Number.NaN]) {
      expectInvalidOptions(() => grad(k), { operation: "valueAndGrad", field: "argnums", value: k })
    }
    expectInvalidOptions(() => grad([0, 3]), { operation: "valueAndGrad", field: "argnums", value: 3 })
    expectInvalidOptions(
      () => Autodiff.valueAndGrad<[Float64Array, Float64Array]>(f, { argnums: [1, 2] })(vector(2), vector(2)),
      { operation: "valueAndGrad", field: "argnums", value: 2 }
    )
  })

  it("hvp with a vector of another size or structure raises DimensionMismatch", () => {
    const f = (x: Tensor): Tensor => T.sum(T.mul(x, x))
    expectDimensionMismatch(() => Autodiff.hvp<Float64Array>(f, vector(2), vector(1)), {
      operation: "hvp",
      what: "vector",
      expected: [2],
      actual: [1]
    })
    expectDimensionMismatch(() => Autodiff.hvp<Matrix>((x) => f(x), matrix(2, 2), matrix(2, 3)), {
      operation: "hvp",
      expected: [4],
      actual: [6]
    })
    // Leaf sizes, one per leaf: an extra leaf in the vector is a mismatch too.
    expectDimensionMismatch(
      () =>
        Autodiff.hvp<{ a: Float64Array }>((p) => f(p.a), { a: vector(2) }, {
          a: vector(2),
          b: 1
        } as unknown as { a: Float64Array }),
      { operation: "hvp", expected: [2], actual: [2, 1] }
    )
  })

  it("jvp tangents and vjp cotangents of the wrong size raise DimensionMismatch", () => {
    expectDimensionMismatch(() => Autodiff.jvp<Float64Array>((x) => x, vector(2), vector(3)), {
      operation: "jvp",
      what: "tangents",
      expected: [2],
      actual: [3]
    })
    const { pullback } = Autodiff.vjp<Float64Array>((x) => T.outer(x, x), vector(2))
    expectDimensionMismatch(() => pullback(vector(3)), {
      operation: "vjp",
      what: "cotangent",
      expected: [2, 2],
      actual: [3]
    })
  })

  it("checkGrad rejects a step eps ≤ 0", () => {
    for (const eps of [0, -1e-6, Number.NaN]) {
      expectInvalidOptions(() => Autodiff.checkGrad((x) => T.sum(x), vector(2), { eps }), {
        operation: "checkGrad",
        field: "eps",
        value: eps
      })
    }
  })
})
