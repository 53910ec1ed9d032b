/**
 * Shared by the tests of Muon, Sophia, Shampoo and AdaHessian: the fixture of
 * fixtures/generate_second_order.py and its three problems (the 10-d
 * ill-conditioned quadratic, Rosenbrock, and the three-leaf matrix least
 * squares), with hand-written gradients in the operation order of the
 * script's NumPy expressions and exact Hessian-vector products (`Autodiff.hvp`).
 */
import { Autodiff, Blas3, Matrix, Tensor as T, Vector } from "@descent/core"
import { loadFixture } from "@descent/testing"
import { applyUpdatesInPlace, type GradientTransform, type UpdateExtras } from "../src/GradientTransform.ts"
import type { Params } from "../src/Tree.ts"
import * as Tree from "../src/Tree.ts"

export type ProblemName = "quadratic" | "rosenbrock" | "matrixLs" | "quadraticMatrix"

export interface FixtureCase {
  readonly name: string
  readonly optimizer: "muon" | "sophia" | "shampoo" | "adahessian"
  readonly problem: ProblemName
  readonly hyperparameters: Record<string, unknown>
  readonly reference: string
  /** Shampoo only: the reference's first-order estimate of the inverse roots' rounding error (see the script). */
  readonly rootErrorEstimate?: number
  /** Per checkpoint step, the leaves by name (sorted keys; "x" for single-leaf problems). */
  readonly iterates: Record<string, Record<string, ReadonlyArray<number>>>
}

export interface Fixture {
  readonly versions: Record<string, string>
  readonly steps: number
  readonly checkpoints: ReadonlyArray<number>
  readonly lambdas: ReadonlyArray<number>
  readonly x0: {
    readonly quadratic: ReadonlyArray<number>
    readonly rosenbrock: ReadonlyArray<number>
    readonly matrixLs: Record<"b" | "v" | "w", ReadonlyArray<number>>
  }
  /** min f of the matrix least-squares problem (pseudo-inverse solution). */
  readonly matrixLsOptimum: number
  readonly matrixData: Record<
    string,
    { readonly shape: ReadonlyArray<number>; readonly data: ReadonlyArray<number> }
  >
  readonly cases: ReadonlyArray<FixtureCase>
}

export const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/second_order.json")

export const lambdas = Vector.fromArray(fixture.lambdas)

const data = (name: string): Matrix.Matrix => {
  const d = fixture.matrixData[name]!
  return Matrix.fromData(d.shape[0]!, d.shape[1] ?? 1, Vector.fromArray(d.data))
}
const A = data("A")
const B = data("B")
const C = data("C")
const P = data("P")
const Q = data("Q")
const E = data("E")
const mu = Vector.fromArray(fixture.matrixData.mu!.data)
const c = Vector.fromArray(fixture.matrixData.c!.data)

/** The matrix least-squares tree {b: 3, v: 2 × 5, w: 4 × 3} (row-major leaves). */
export interface MatrixParams {
  readonly b: Float64Array
  readonly v: Float64Array
  readonly w: Float64Array
  readonly [key: string]: Float64Array
}

/** Fresh initial parameters of a problem. */
export const initialParams = (problem: ProblemName): Params => {
  switch (problem) {
    case "quadratic":
    case "quadraticMatrix":
      return Vector.fromArray(fixture.x0.quadratic)
    case "rosenbrock":
      return Vector.fromArray(fixture.x0.rosenbrock)
    case "matrixLs":
      return {
        b: Vector.fromArray(fixture.x0.matrixLs.b),
        v: Vector.fromArray(fixture.x0.matrixLs.v),
        w: Vector.fromArray(fixture.x0.matrixLs.w)
      }
  }
}

/** Aᵀ·(A·X·B − C)·Bᵀ for the row-major leaf X (r × k), written into `out`. */
const sandwichGradient = (
  L: Matrix.Matrix,
  R: Matrix.Matrix,
  target: Matrix.Matrix,
  x: Float64Array,
  out: Float64Array
): void => {
  const X = Matrix.fromData(L.cols, R.rows, x)
  const LX = Matrix.zeros(L.rows, X.cols)
  Blas3.gemm(false, false, 1, L, X, 0, LX)
  const res = Matrix.clone(target)
  Blas3.gemm(false, false, 1, LX, R, -1, res) // (L·X)·R − target
  const LtRes = Matrix.zeros(L.cols, res.cols)
  Blas3.gemm(true, false, 1, L, res, 0, LtRes)
  Blas3.gemm(false, true, 1, LtRes, R, 0, Matrix.fromData(L.cols, R.rows, out))
}

/** The gradient of `problem` at `params`, written into `out` (same structure). */
export const gradient = (problem: ProblemName, params: Params, out: Params): void => {
  if (problem === "matrixLs") {
    const p = params as MatrixParams
    const g = out as MatrixParams
    for (let i = 0; i < 3; i++) g.b[i] = mu[i]! * (p.b[i]! - c[i]!)
    sandwichGradient(P, Q, E, p.v, g.v)
    sandwichGradient(A, B, C, p.w, g.w)
    return
  }
  const x = params as Float64Array
  const g = out as Float64Array
  if (problem === "rosenbrock") {
    const x0 = x[0]!
    const y = x[1]!
    const r = y - x0 * x0
    g[0] = -2.0 * (1.0 - x0) - 400.0 * x0 * r
    g[1] = 200.0 * r
  } else {
    for (let i = 0; i < x.length; i++) g[i] = lambdas[i]! * x[i]!
  }
}

const matrixObjective = (p: {
  readonly b: T.Tensor
  readonly v: T.Tensor
  readonly w: T.Tensor
}): T.Tensor => {
  const rw = T.sub(T.matmul(T.matmul(A, T.reshape(p.w, [4, 3])), B), C)
  const rv = T.sub(T.matmul(T.matmul(P, T.reshape(p.v, [2, 5])), Q), E)
  const rb = T.sub(p.b, c)
  return T.add(
    T.add(T.mul(0.5, T.sum(T.mul(rw, rw))), T.mul(0.5, T.sum(T.mul(rv, rv)))),
    T.mul(0.5, T.sum(T.mul(mu, T.mul(rb, rb))))
  )
}

const quadraticObjective = (x: T.Tensor): T.Tensor => T.mul(0.5, T.sum(T.mul(lambdas, T.mul(x, x))))

const rosenbrockObjective = (x: T.Tensor): T.Tensor => {
  const x0 = T.slice(x, 0, 1)
  const y = T.slice(x, 1, 2)
  return T.sum(T.add(T.pow(T.sub(1, x0), 2), T.mul(100, T.pow(T.sub(y, T.mul(x0, x0)), 2))))
}

/** The objective value (plain arithmetic). */
export const objective = (problem: ProblemName, params: Params): number => {
  if (problem === "matrixLs") {
    const p = params as MatrixParams
    const value = (L: Matrix.Matrix, R: Matrix.Matrix, target: Matrix.Matrix, x: Float64Array, k: number) => {
      const X = Matrix.fromData(L.cols, k, x)
      const LX = Matrix.zeros(L.rows, k)
      Blas3.gemm(false, false, 1, L, X, 0, LX)
      const res = Matrix.clone(target)
      Blas3.gemm(false, false, 1, LX, R, -1, res)
      return 0.5 * Tree.squaredNorm(res.data)
    }
    let f = value(A, B, C, p.w, 3) + value(P, Q, E, p.v, 5)
    for (let i = 0; i < 3; i++) f += 0.5 * mu[i]! * (p.b[i]! - c[i]!) ** 2
    return f
  }
  const x = params as Float64Array
  if (problem === "rosenbrock") return (1 - x[0]!) ** 2 + 100 * (x[1]! - x[0]! * x[0]!) ** 2
  let f = 0
  for (let i = 0; i < x.length; i++) f += 0.5 * lambdas[i]! * x[i]! * x[i]!
  return f
}

/** f(params) − min f (the quadratic's and Rosenbrock's minimum is 0). */
export const suboptimality = (problem: ProblemName, params: Params): number =>
  objective(problem, params) - (problem === "matrixLs" ? fixture.matrixLsOptimum : 0)

/** The exact Hessian-vector product at `params` by `Autodiff.hvp` (reverse over reverse). */
export const autodiffHvp =
  (problem: ProblemName, params: Params) =>
  (v: Params): Params => {
    if (problem === "matrixLs") {
      const p = params as MatrixParams
      const vv = v as MatrixParams
      const r = Autodiff.hvp(matrixObjective, { b: p.b, v: p.v, w: p.w }, { b: vv.b, v: vv.v, w: vv.w })
      return { b: r.b as Float64Array, v: r.v as Float64Array, w: r.w as Float64Array }
    }
    const f = problem === "rosenbrock" ? rosenbrockObjective : quadraticObjective
    return Autodiff.hvp(f, params as Float64Array, v as Float64Array) as Float64Array
  }

/** The quadratic's exact Hessian-vector product λ ⊙ v (what JAX's jvp of grad computes, bit for bit). */
export const quadraticHvp = (v: Params): Params => {
  const x = v as Float64Array
  const out = Vector.zeros(x.length)
  for (let i = 0; i < x.length; i++) out[i] = lambdas[i]! * x[i]!
  return out
}

// biome-ignore lint/suspicious/noExplicitAny: the optimizers' state types differ; the loop only threads them.
export type AnyTransform = GradientTransform<any>

export type HvpSource = "autodiff" | "exact" | "none"

/**
 * Runs `tx` on `problem` for `steps` steps from the fixture's initial point,
 * calling `onStep(step, params)` after each. With `hvp` other than "none",
 * every update receives `extras.hessianVectorProduct` at the current
 * parameters ("exact": λ ⊙ v on the quadratic, else `Autodiff.hvp`).
 */
export const run = (
  tx: AnyTransform,
  problem: ProblemName,
  steps: number,
  onStep: (step: number, params: Params, updates: Params) => void = () => {},
  hvp: HvpSource = "none",
  params: Params = initialParams(problem)
): Params => {
  const g = Tree.zerosLike(params)
  let state = tx.init(params)
  for (let step = 1; step <= steps; step++) {
    gradient(problem, params, g)
    const extras: UpdateExtras =
      hvp === "none"
        ? {}
        : {
            hessianVectorProduct:
              hvp === "exact" && problem !== "matrixLs" && problem !== "rosenbrock"
                ? quadraticHvp
                : autodiffHvp(problem, params)
          }
    const r = tx.update(g, state, params, extras)
    state = r.state
    applyUpdatesInPlace(params, r.updates)
    onStep(step, params, r.updates)
  }
  return params
}

/** The leaves of `params` by the fixture's names (sorted keys; "x" for a single leaf). */
export const named = (params: Params): Record<string, Float64Array> =>
  Tree.isLeaf(params) ? { x: params } : (params as unknown as Record<string, Float64Array>)

/** The largest relative difference |a − e| / max(|e|, floor) over all leaves. */
export const maxRelativeError = (
  actual: Record<string, Float64Array>,
  expected: Record<string, ReadonlyArray<number>>,
  floor = 1e-300
): number => {
  let worst = 0
  for (const key of Object.keys(expected)) {
    const a = actual[key]!
    const e = expected[key]!
    for (let i = 0; i < e.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - e[i]!) / Math.max(Math.abs(e[i]!), floor))
    }
  }
  return worst
}
