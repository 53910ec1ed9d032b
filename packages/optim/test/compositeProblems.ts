/**
 * Shared by the tests of NewtonCg, TrustRegionNcg, ProximalGradient,
 * FrankWolfe and MirrorDescent: the fixture of fixtures/generate_composite.py
 * and its objectives with hand-written gradients and Hessian-vector products.
 */
import { Blas1, Blas2, Logistic, type Matrix, type Objective, Vector } from "@descent/core"
import { loadFixture, matrixFromRows } from "@descent/testing"

interface ScipyResult {
  readonly x: ReadonlyArray<number>
  readonly fun: number
  readonly nit: number
}

export interface CompositeFixture {
  readonly versions: Record<string, string>
  readonly rosenbrock: {
    readonly x0: ReadonlyArray<number>
    readonly newtonCg: ScipyResult
    readonly trustNcg: ScipyResult
  }
  readonly logistic: {
    readonly X: ReadonlyArray<ReadonlyArray<number>>
    readonly y: ReadonlyArray<number>
    readonly lambda: number
    readonly x0: ReadonlyArray<number>
    readonly newtonCg: ScipyResult
    readonly trustNcg: ScipyResult
  }
  readonly lasso: {
    readonly X: ReadonlyArray<ReadonlyArray<number>>
    readonly y: ReadonlyArray<number>
    readonly alpha: number
    readonly coef: ReadonlyArray<number>
  }
  readonly simplexQuadratic: {
    readonly Q: ReadonlyArray<ReadonlyArray<number>>
    readonly c: ReadonlyArray<number>
    readonly x: ReadonlyArray<number>
    readonly fun: number
  }
}

export const fixture = loadFixture<CompositeFixture>(import.meta.url, "./fixtures/composite.json")

/** A dense matrix in WebAssembly-backed storage (core's kernels take their SIMD path). */
export const matrix = (rows: ReadonlyArray<ReadonlyArray<number>>): Matrix.Matrix => {
  const m = matrixFromRows(rows)
  return { rows: m.rows, cols: m.cols, data: Vector.fromArray(m.data) }
}

/** SciPy's `rosen`: Σ_{i<n−1} 100(x_{i+1} − x_i²)² + (1 − x_i)², with its tridiagonal Hessian. */
export const rosenbrock = (n: number): Objective.Objective => {
  const value = (x: Float64Array): number => {
    let f = 0
    for (let i = 0; i < n - 1; i++) f += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2
    return f
  }
  return {
    dimension: n,
    value,
    valueAndGradient: (x, g) => {
      g.fill(0)
      for (let i = 0; i < n - 1; i++) {
        const t = x[i + 1]! - x[i]! ** 2
        g[i] = g[i]! - 400 * x[i]! * t - 2 * (1 - x[i]!)
        g[i + 1] = g[i + 1]! + 200 * t
      }
      return value(x)
    },
    hessianVectorProduct: (x, v, out) => {
      out.fill(0)
      for (let i = 0; i < n - 1; i++) {
        // The block of term i on coordinates (i, i+1).
        const a = 1200 * x[i]! ** 2 - 400 * x[i + 1]! + 2
        const b = -400 * x[i]!
        out[i] = out[i]! + a * v[i]! + b * v[i + 1]!
        out[i + 1] = out[i + 1]! + b * v[i]! + 200 * v[i + 1]!
      }
    }
  }
}

/** Σᵢ softplus(xᵢᵀw) − yᵢ·xᵢᵀw + λ/2‖w‖² with its exact Hessian-vector product. */
export const logisticRegression = (
  X: Matrix.Matrix,
  y: Float64Array,
  lambda: number
): Objective.Objective => {
  const z = Vector.zeros(X.rows)
  const r = Vector.zeros(X.rows)
  const u = Vector.zeros(X.rows)
  const valueAndGradient = (w: Float64Array, g: Float64Array): number => {
    Blas2.gemv(1, X, w, 0, z)
    const loss = Logistic.logisticLoss(z, y, r)
    Blas1.copy(w, g)
    Blas2.gemvT(1, X, r, lambda, g)
    return loss + 0.5 * lambda * Blas1.dot(w, w)
  }
  return {
    dimension: X.cols,
    value: (w) => valueAndGradient(w, Vector.zeros(X.cols)),
    valueAndGradient,
    hessianVectorProduct: (w, v, out) => {
      Blas2.gemv(1, X, w, 0, z)
      Blas2.gemv(1, X, v, 0, u)
      for (let i = 0; i < X.rows; i++) {
        const s = 1 / (1 + Math.exp(-z[i]!))
        u[i] = s * (1 - s) * u[i]!
      }
      Blas1.copy(v, out)
      Blas2.gemvT(1, X, u, lambda, out)
    }
  }
}

/** ½ xᵀQx + cᵀx with its Hessian-vector product Q·v. */
export const quadratic = (Q: Matrix.Matrix, c: Float64Array): Objective.Objective => {
  const valueAndGradient = (x: Float64Array, g: Float64Array): number => {
    Blas1.copy(c, g)
    Blas2.gemv(1, Q, x, 1, g)
    // f = ½xᵀ(Qx + c) + ½cᵀx = ½xᵀ(g + c).
    return 0.5 * (Blas1.dot(x, g) + Blas1.dot(x, c))
  }
  return {
    dimension: c.length,
    value: (x) => valueAndGradient(x, Vector.zeros(c.length)),
    valueAndGradient,
    hessianVectorProduct: (_x, v, out) => Blas2.gemv(1, Q, v, 0, out)
  }
}

/** 1/(2m)‖y − Xw‖² (scikit-learn's Lasso data term). */
export const leastSquares = (X: Matrix.Matrix, y: Float64Array): Objective.Objective => {
  const r = Vector.zeros(X.rows)
  const m = X.rows
  const valueAndGradient = (w: Float64Array, g: Float64Array): number => {
    Blas1.copy(y, r)
    Blas2.gemv(1, X, w, -1, r)
    Blas2.gemvT(1 / m, X, r, 0, g)
    return Blas1.dot(r, r) / (2 * m)
  }
  return {
    dimension: X.cols,
    value: (w) => {
      Blas1.copy(y, r)
      Blas2.gemv(1, X, w, -1, r)
      return Blas1.dot(r, r) / (2 * m)
    },
    valueAndGradient
  }
}
