import { Autodiff, Errors, Matrix, Tensor as T } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Gradients from "../src/Gradients.ts"
import { fixture, matrix } from "./otMoreFixture.ts"

const SEED = 20260709
const fx = fixture.gradient

/**
 * POT's log-domain Sinkhorn ran to a marginal error of 1e-13, ours to 1e-13
 * too; plan entries (~0.02) then agree to ~1e-13 and gradients, sums of
 * P_ij (x_i − y_j) with |x − y| ≤ 5, to ~1e-12: 1e-10 absolute leaves a
 * margin of 100.
 */
const CLOSE = { atol: 1e-10, rtol: 1e-9 }
const TIGHT = { tolerance: 1e-13, maxIterations: 100_000 }

describe("Gradients against POT's entropic plan (closed-form envelope gradients)", () => {
  it("value, plan = ∂OT_ε/∂C and the position gradients 2Σ_j P_ij (x_i − y_j)", () => {
    const x = matrix(fx.x)
    const y = matrix(fx.y)
    const r = Gradients.pointGradients(x, y, { epsilon: fx.reg, a: fx.a, b: fx.b, ...TIGHT })
    assertClose(r.value, fx.value, { ...CLOSE, label: "OT_ε" })
    assertClose(r.gradient, matrix(fx.plan), { ...CLOSE, label: "plan" })
    assertClose(r.gradientX, matrix(fx.gradX), { ...CLOSE, label: "∂/∂x" })
    assertClose(r.gradientY, matrix(fx.gradY), { ...CLOSE, label: "∂/∂y" })
  })

  it("Autodiff.grad through sinkhornCost gives the same gradients", () => {
    const x = matrix(fx.x)
    const y = matrix(fx.y)
    const options = { epsilon: fx.reg, a: fx.a, b: fx.b, ...TIGHT }
    const [gx, gy] = Autodiff.grad((u: T.Tensor, v: T.Tensor) => Gradients.sinkhornCost(u, v, options), {
      argnums: [0, 1]
    })(x, y) as unknown as [Matrix.Matrix, Matrix.Matrix]
    assertClose(gx, matrix(fx.gradX), { ...CLOSE, label: "∂/∂x" })
    assertClose(gy, matrix(fx.gradY), { ...CLOSE, label: "∂/∂y" })
    // Inside a larger function: loss = OT_ε(x, y) + ‖x‖²; its gradient adds 2x.
    const g = Autodiff.grad((u: T.Tensor) =>
      T.add(Gradients.sinkhornCost(u, y, options), T.sum(T.mul(u, u)))
    )(x)
    const expected = Matrix.clone(matrix(fx.gradX))
    for (let k = 0; k < expected.data.length; k++) expected.data[k] = expected.data[k]! + 2 * x.data[k]!
    assertClose(g, expected, CLOSE)
  })
})

describe("Gradients: closed forms and finite differences", () => {
  it("one target point: P = a⊗b, OT_ε = Σ a_i ‖x_i − y‖², ∇_x = 2a_i(x_i − y), ∇_y = 2Σ a_i (y − x_i)", () => {
    const x = Matrix.fromRows([
      [0, 1],
      [2, -1],
      [0.5, 0.5]
    ])
    const y = Matrix.fromRows([[1, 1]])
    const a = [0.2, 0.3, 0.5]
    const r = Gradients.pointGradients(x, y, { epsilon: 0.3, a, b: [1] })
    assertClose(r.value, 0.2 * 1 + 0.3 * 5 + 0.5 * 0.5, { rtol: 1e-14 })
    assertClose(
      r.gradientX,
      Matrix.fromRows([
        [-0.4, 0],
        [0.6, -1.2],
        [-0.5, -0.5]
      ]),
      { rtol: 1e-14, atol: 1e-15 }
    )
    assertClose(r.gradientY, Matrix.fromRows([[2 * (1 - 0.85), 2 * (1 - 0.15)]]), { rtol: 1e-13 })
  })

  /** Central differences of OT_ε at tolerance 1e-13 with h = 1e-5: error ~h² + 1e-13/h ≈ 1e-8. */
  const FD = { eps: 1e-5, rtol: 1e-6, atol: 1e-7 }

  it("matches finite differences on random clouds (squared Euclidean and Euclidean costs)", () => {
    const coordinate = fc.double({ min: -1, max: 1, noNaN: true })
    fc.assert(
      fc.property(
        fc.array(coordinate, { minLength: 8, maxLength: 8 }),
        fc.array(coordinate, { minLength: 6, maxLength: 6 }),
        fc.constantFrom("sqeuclidean" as const, "euclidean" as const),
        fc.double({ min: 0.2, max: 1, noNaN: true }),
        (xs, ys, cost, epsilon) => {
          const y = Matrix.fromData(3, 2, Float64Array.from(ys))
          // Keep points apart from y for the Euclidean cost (its gradient is singular at coincidence).
          const x = Float64Array.from(xs, (v, k) => v + (k % 2 === 0 ? 3 : 0))
          const options = { epsilon, cost, ...TIGHT }
          const check = Autodiff.checkGrad(
            (u) => Gradients.sinkhornCost(T.reshape(u, [4, 2]), y, options),
            x,
            FD
          )
          expect(check.ok, `worst ${check.worstIndex}: ${check.maxAbsError}`).toBe(true)
        }
      ),
      { seed: SEED, numRuns: 12 }
    )
  })

  it("∂OT_ε/∂C = P: sinkhornCostMatrix's gradient is the plan and matches finite differences", () => {
    const C = Matrix.fromRows([
      [0.1, 0.5, 0.9],
      [0.7, 0.2, 0.4]
    ])
    const options = { epsilon: 0.2, a: [0.4, 0.6], b: [0.3, 0.3, 0.4], ...TIGHT }
    const g = Autodiff.grad((c: T.Tensor) => Gradients.sinkhornCostMatrix(c, options))(C)
    const plain = Gradients.costMatrixGradient(C, options)
    assertClose(g, plain.gradient, { rtol: 1e-15 })
    const check = Autodiff.checkGrad(
      (u) => Gradients.sinkhornCostMatrix(T.reshape(u, [2, 3]), options),
      Float64Array.from(C.data),
      FD
    )
    expect(check.ok).toBe(true)
  })

  it("throws SinkhornNotConverged instead of returning a wrong gradient; bad options are typed", () => {
    const x = Matrix.fromRows([[0], [1]])
    const y = Matrix.fromRows([[0.2], [0.9]])
    expect(() => Gradients.pointGradients(x, y, { epsilon: 1e-2, a: [0.3, 0.7], maxIterations: 1 })).toThrow(
      Gradients.SinkhornNotConverged
    )
    expect(() => Gradients.pointGradients(x, x, { epsilon: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => Gradients.pointGradients(x, x, { scale: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => Gradients.sinkhornCost(new Float64Array([1, 2]), x)).toThrow(Errors.DimensionMismatch)
  })
})
