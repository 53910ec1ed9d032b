/**
 * Automatic differentiation: `grad`, `valueAndGrad`, `vjp`, `jvp`, exact
 * Hessian-vector products `hvp`, `jacobian`, `hessian`, custom derivative
 * rules, and `checkGrad` against finite differences.
 *
 * Functions are written with the operations of `Tensor` and take a parameter
 * tree: a number, a `Float64Array`, a `Matrix`, a `Tensor`, or a plain object or
 * array of these (like JAX's pytrees). Reverse mode records a graph per call
 * (autograd's design, Maclaurin, Duvenaud & Adams 2015); because every VJP is
 * itself written with traceable operations, `jvp` is the derivative of a VJP
 * with respect to its cotangent and `hvp` is reverse-over-reverse — exact, not
 * finite differences (Pearlmutter 1994).
 *
 * Memory: each transformation frees the temporaries of its call when it
 * returns (`Memory.scoped`); tensors created inside a differentiated function
 * are valid only during the call.
 *
 * @example
 * import { Autodiff, Tensor as T } from "@descent/core"
 * const rosenbrock = (x: T.Tensor) => {
 *   const a = T.slice(x, 0, x.size - 1), b = T.slice(x, 1, x.size)
 *   return T.sum(T.add(T.mul(100, T.pow(T.sub(b, T.mul(a, a)), 2)), T.pow(T.sub(1, a), 2)))
 * }
 * Autodiff.grad(rosenbrock)(new Float64Array([-1.2, 1]))
 *
 * @since 0.1.0
 */
import { DimensionMismatch, InvalidOptions } from "./Errors.ts"
import { allocateFloat64 } from "./internal/allocate.ts"
import {
  backward,
  leaf,
  newTrace,
  primitive,
  primitiveJoint,
  type Tensor as TensorType
} from "./internal/autodiff/engine.ts"
import type { Matrix } from "./Matrix.ts"
import { scoped } from "./Memory.ts"
import * as T from "./Tensor.ts"

type Tensor = TensorType

/**
 * A parameter tree: leaves are numbers, vectors, matrices or tensors; inner
 * nodes are plain objects or arrays.
 *
 * @category models
 * @since 0.1.0
 */
export type Tree =
  | number
  | Float64Array
  | Matrix
  | Tensor
  | ReadonlyArray<Tree>
  | { readonly [key: string]: Tree }

/**
 * A tree with the same structure as `A` and tensors at the leaves: what a
 * differentiated function receives.
 *
 * @category models
 * @since 0.1.0
 */
export type Traced<A> = A extends number | Float64Array | Matrix | Tensor
  ? Tensor
  : A extends ReadonlyArray<infer B>
    ? ReadonlyArray<Traced<B>>
    : { readonly [K in keyof A]: Traced<A[K]> }

/**
 * A tree with the same structure as `A` and plain values at the leaves (numbers
 * for scalars, `Float64Array` for vectors, `Matrix` for matrices): what a
 * gradient looks like.
 *
 * @category models
 * @since 0.1.0
 */
export type Plain<A> = A extends number
  ? number
  : A extends Float64Array
    ? Float64Array
    : A extends Matrix
      ? Matrix
      : A extends Tensor
        ? number | Float64Array | Matrix
        : A extends ReadonlyArray<infer B>
          ? Array<Plain<B>>
          : { [K in keyof A]: Plain<A[K]> }

/**
 * What may be passed where a differentiated function takes `P`: a tensor
 * parameter accepts a number, vector, matrix or tensor; objects and arrays map
 * entry by entry.
 *
 * @category models
 * @since 0.1.0
 */
export type Untraced<P> = P extends Tensor
  ? number | Float64Array | Matrix | Tensor
  : P extends ReadonlyArray<infer B>
    ? ReadonlyArray<Untraced<B>>
    : P extends object
      ? { readonly [K in keyof P]: Untraced<P[K]> }
      : P

/**
 * The arguments a transformed function accepts, given the parameters of `f`.
 *
 * @category models
 * @since 0.1.0
 */
export type Inputs<Params extends ReadonlyArray<unknown>> = { [K in keyof Params]: Untraced<Params[K]> }

const isLeaf = (x: unknown): x is number | Float64Array | Matrix | Tensor =>
  typeof x === "number" ||
  x instanceof Float64Array ||
  x instanceof T.Tensor ||
  (typeof x === "object" && x !== null && "rows" in x && "cols" in x && "data" in x)

/** The leaves of a tree in a fixed order, and a way to rebuild the tree from new leaves. */
interface Flat {
  readonly leaves: Tensor[]
  /** Kinds of the original leaves, to turn tensors back into plain values. */
  readonly kinds: Array<"number" | "vector" | "matrix" | "tensor">
  rebuild<L>(leaves: ReadonlyArray<L>): unknown
}

const flatten = (tree: Tree, operation: string): Flat => {
  const leaves: Tensor[] = []
  const kinds: Flat["kinds"] = []
  const build = (node: unknown, path: string): ((next: () => unknown) => unknown) => {
    if (isLeaf(node)) {
      const t = T.from(node)
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i]!
        if (v - v !== 0) {
          throw new InvalidOptions({
            operation,
            field: `${path}[${i}]`,
            value: v,
            requirement: "a finite number"
          })
        }
      }
      leaves.push(t)
      kinds.push(
        typeof node === "number"
          ? "number"
          : node instanceof Float64Array
            ? "vector"
            : node instanceof T.Tensor
              ? "tensor"
              : "matrix"
      )
      return (next) => next()
    }
    if (Array.isArray(node)) {
      const parts = node.map((c, i) => build(c, `${path}[${i}]`))
      return (next) => parts.map((p) => p(next))
    }
    if (typeof node === "object" && node !== null) {
      const keys = Object.keys(node).sort()
      const parts = keys.map((k) => build((node as Record<string, unknown>)[k], `${path}.${k}`))
      return (next) => Object.fromEntries(keys.map((k, i) => [k, parts[i]!(next)]))
    }
    throw new InvalidOptions({
      operation,
      field: path || "params",
      value: node,
      requirement: "a number, vector, matrix, tensor, or an object or array of them"
    })
  }
  const shape = build(tree, "")
  return {
    leaves,
    kinds,
    rebuild: <L>(values: ReadonlyArray<L>) => {
      let k = 0
      return shape(() => values[k++])
    }
  }
}

/** A tree with tensors at the leaves (arguments that are not differentiated; not validated). */
const asTensors = (node: unknown): unknown =>
  isLeaf(node)
    ? T.from(node)
    : Array.isArray(node)
      ? node.map(asTensors)
      : typeof node === "object" && node !== null
        ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, asTensors(v)]))
        : node

/** A plain value (copied) from a tensor, in the kind of the original leaf. */
const toPlain = (t: Tensor, kind: Flat["kinds"][number]): number | Float64Array | Matrix => {
  const data = allocateFloat64(t.data.length)
  data.set(t.data)
  if (kind === "number" || t.shape.length === 0) return data[0]!
  if (t.shape.length === 2) return { rows: t.shape[0]!, cols: t.shape[1]!, data }
  return data
}

/** Every Float64Array in a plain result, to keep them past the call's memory scope. */
const arraysIn = (x: unknown, acc: Float64Array[] = []): Float64Array[] => {
  if (x instanceof Float64Array) acc.push(x)
  else if (x instanceof T.Tensor) acc.push(x.data)
  else if (Array.isArray(x)) for (const c of x) arraysIn(c, acc)
  else if (typeof x === "object" && x !== null) for (const c of Object.values(x)) arraysIn(c, acc)
  return acc
}

const scalarOutput = (y: Tensor | number, operation: string): Tensor => {
  const t = T.from(y)
  if (t.size !== 1) {
    throw new DimensionMismatch({
      operation,
      what: "the function's output",
      expected: [],
      actual: [...t.shape]
    })
  }
  return t.shape.length === 0 ? t : T.reshape(t, [])
}

/**
 * The gradient of scalar `f` at the leaves `xs`, as tensors traced by any
 * enclosing transformation (the building block of nested derivatives).
 */
const gradTensors = (
  f: (leaves: ReadonlyArray<Tensor>) => Tensor | number,
  xs: ReadonlyArray<Tensor>,
  operation: string
): { value: Tensor; gradients: Tensor[] } => {
  const trace = newTrace()
  const boxed = xs.map((x) => leaf(x, trace))
  const y = scalarOutput(f(boxed), operation)
  if (y.trace !== trace) return { value: y, gradients: xs.map((x) => T.zeros(x.shape)) }
  const cts = backward(y, T.ones([]), boxed, T.add)
  const value = y.primal!
  return { value, gradients: cts.map((c, i) => c ?? T.zeros(xs[i]!.shape)) }
}

/**
 * Options of `grad` and `valueAndGrad`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GradOptions {
  /** Which argument(s) to differentiate with respect to (default 0). */
  readonly argnums?: number | ReadonlyArray<number>
}

const selectArgs = (
  args: ReadonlyArray<Tree>,
  argnums: number | ReadonlyArray<number>,
  operation: string
) => {
  const list = typeof argnums === "number" ? [argnums] : argnums
  for (const k of list) {
    if (!Number.isInteger(k) || k < 0 || k >= args.length) {
      throw new InvalidOptions({
        operation,
        field: "argnums",
        value: k,
        requirement: `an argument index in 0…${args.length - 1}`
      })
    }
  }
  return list
}

/**
 * `valueAndGrad(f)(...args)` returns f's value and its gradient with respect to
 * argument 0 (or `options.argnums`: a tuple of gradients for an array of
 * indices). `f` receives the differentiated arguments as trees of tensors and
 * must return a scalar.
 *
 * @category transformations
 * @since 0.1.0
 */
export function valueAndGrad<Args extends ReadonlyArray<Tree>>(
  f: (...args: { [K in keyof Args]: Traced<Args[K]> }) => Tensor | number,
  options?: GradOptions
): (...args: Args) => { value: number; gradient: Plain<Args[0]> }
// biome-ignore lint/suspicious/noExplicitAny: the function's own parameter types drive inference
export function valueAndGrad<Params extends ReadonlyArray<any>>(
  f: (...args: Params) => Tensor | number,
  options?: GradOptions
): <Args extends Inputs<Params>>(...args: Args) => { value: number; gradient: Plain<Args[0]> }
export function valueAndGrad(
  f: (...args: never[]) => Tensor | number,
  options: GradOptions = {}
): (...args: ReadonlyArray<Tree>) => { value: number; gradient: unknown } {
  return (...args) =>
    scoped(
      () => {
        const argnums = options.argnums ?? 0
        const chosen = selectArgs(args, argnums, "valueAndGrad")
        const flats = chosen.map((k) => flatten(args[k]!, "valueAndGrad"))
        const all = flats.flatMap((fl) => fl.leaves)
        const { value, gradients } = gradTensors(
          (leaves) => {
            const call = args.map(asTensors)
            let k = 0
            chosen.forEach((argIndex, c) => {
              const fl = flats[c]!
              call[argIndex] = fl.rebuild(leaves.slice(k, k + fl.leaves.length))
              k += fl.leaves.length
            })
            return (f as unknown as (...a: unknown[]) => Tensor | number)(...call)
          },
          all,
          "valueAndGrad"
        )
        let k = 0
        const perArg = flats.map((fl) => {
          const plain = fl.leaves.map((_, i) => toPlain(gradients[k + i]!, fl.kinds[i]!))
          k += fl.leaves.length
          return fl.rebuild(plain)
        })
        return { value: value.data[0]!, gradient: typeof argnums === "number" ? perArg[0] : perArg }
      },
      (r) => arraysIn(r.gradient)
    )
}

/**
 * `grad(f)(...args)`: the gradient of scalar `f` with respect to argument 0 (or
 * `options.argnums`), with the structure of that argument.
 *
 * @example
 * const g = Autodiff.grad((w: T.Tensor) => T.sum(T.mul(w, w)))(new Float64Array([1, 2])) // [2, 4]
 * @category transformations
 * @since 0.1.0
 */
export function grad<Args extends ReadonlyArray<Tree>>(
  f: (...args: { [K in keyof Args]: Traced<Args[K]> }) => Tensor | number,
  options?: GradOptions
): (...args: Args) => Plain<Args[0]>
// biome-ignore lint/suspicious/noExplicitAny: the function's own parameter types drive inference
export function grad<Params extends ReadonlyArray<any>>(
  f: (...args: Params) => Tensor | number,
  options?: GradOptions
): <Args extends Inputs<Params>>(...args: Args) => Plain<Args[0]>
export function grad(
  f: (...args: never[]) => Tensor | number,
  options: GradOptions = {}
): (...args: ReadonlyArray<Tree>) => unknown {
  const vg = valueAndGrad(f as (...args: ReadonlyArray<Tensor>) => Tensor | number, options)
  return (...args) => vg(...(args as ReadonlyArray<Tensor>)).gradient
}

/**
 * The output of f at `primals` and its pullback: a function from an output
 * cotangent (same shape as the output) to the cotangent of the primals (same
 * structure as `primals`). The graph is kept until the pullback is dropped.
 *
 * @category transformations
 * @since 0.1.0
 */
export const vjp = <P extends Tree>(
  f: (x: Traced<P>) => Tensor,
  primals: P
): {
  output: number | Float64Array | Matrix
  pullback: (cotangent: number | Float64Array | Matrix) => Plain<P>
} => {
  const flat = flatten(primals, "vjp")
  const trace = newTrace()
  const boxed = flat.leaves.map((x) => leaf(x, trace))
  const y = T.from(f(flat.rebuild(boxed) as Traced<P>))
  return {
    output: toPlain(y, "tensor"),
    pullback: (cotangent) => {
      const g = T.from(cotangent)
      if (g.size !== y.size) {
        throw new DimensionMismatch({
          operation: "vjp",
          what: "cotangent",
          expected: [...y.shape],
          actual: [...g.shape]
        })
      }
      const ct = T.reshape(g, y.shape)
      const cts = y.trace === trace ? backward(y, ct, boxed, T.add) : boxed.map(() => undefined)
      return flat.rebuild(
        cts.map((c, i) => toPlain(c ?? T.zeros(flat.leaves[i]!.shape), flat.kinds[i]!))
      ) as Plain<P>
    }
  }
}

/** J·v for the leaves `xs` and tangents `vs`, as traced tensors (jvp as the derivative of a vjp). */
const jvpTensors = (
  f: (leaves: ReadonlyArray<Tensor>) => Tensor,
  xs: ReadonlyArray<Tensor>,
  vs: ReadonlyArray<Tensor>
): { output: Tensor; tangent: Tensor } => {
  const outer = newTrace()
  const boxed = xs.map((x) => leaf(x, outer))
  const y = T.from(f(boxed))
  const output = y.trace === outer ? y.primal! : y
  if (y.trace !== outer) return { output, tangent: T.zeros(y.shape) }
  // u ↦ Jᵀu is linear; differentiating ⟨Jᵀu, v⟩ with respect to u gives J·v.
  const inner = newTrace()
  const u = leaf(T.zeros(y.shape), inner)
  const cts = backward(y, u, boxed, T.add)
  let s: Tensor = T.zeros([])
  cts.forEach((c, i) => {
    if (c !== undefined) s = T.add(s, T.sum(T.mul(c, vs[i]!)))
  })
  if (s.trace !== inner) return { output, tangent: T.zeros(y.shape) }
  const [tangent] = backward(s, T.ones([]), [u], T.add)
  return { output, tangent: tangent ?? T.zeros(y.shape) }
}

/**
 * Forward-mode product: f's output at `primals` and the directional derivative
 * J·tangents (tangents have the structure of primals).
 *
 * @category transformations
 * @since 0.1.0
 */
export const jvp = <P extends Tree>(
  f: (x: Traced<P>) => Tensor,
  primals: P,
  tangents: P
): { output: number | Float64Array | Matrix; tangent: number | Float64Array | Matrix } =>
  scoped(
    () => {
      const fx = flatten(primals, "jvp")
      const fv = flatten(tangents, "jvp")
      if (fv.leaves.length !== fx.leaves.length || fv.leaves.some((v, i) => v.size !== fx.leaves[i]!.size)) {
        throw new DimensionMismatch({
          operation: "jvp",
          what: "tangents",
          expected: fx.leaves.map((l) => l.size),
          actual: fv.leaves.map((l) => l.size)
        })
      }
      const { output, tangent } = jvpTensors(
        (leaves) => f(fx.rebuild(leaves) as Traced<P>),
        fx.leaves,
        fv.leaves.map((v, i) => T.reshape(v, fx.leaves[i]!.shape))
      )
      return { output: toPlain(output, "tensor"), tangent: toPlain(tangent, "tensor") }
    },
    (r) => arraysIn([r.output, r.tangent])
  )

/**
 * The exact Hessian-vector product ∇²f(x)·v of scalar f, by reverse-over-reverse
 * differentiation (Pearlmutter 1994): the gradient of x ↦ ⟨∇f(x), v⟩. Costs a
 * small multiple of one gradient.
 *
 * @category transformations
 * @since 0.1.0
 */
export const hvp = <P extends Tree>(f: (x: Traced<P>) => Tensor | number, primals: P, vector: P): Plain<P> =>
  scoped(
    () => {
      const fx = flatten(primals, "hvp")
      const fv = flatten(vector, "hvp")
      if (fv.leaves.length !== fx.leaves.length || fv.leaves.some((v, i) => v.size !== fx.leaves[i]!.size)) {
        throw new DimensionMismatch({
          operation: "hvp",
          what: "vector",
          expected: fx.leaves.map((l) => l.size),
          actual: fv.leaves.map((l) => l.size)
        })
      }
      const vs = fv.leaves.map((v, i) => T.reshape(v, fx.leaves[i]!.shape))
      const { gradients } = gradTensors(
        (outerLeaves) => {
          const inner = gradTensors(
            (leaves) => f(fx.rebuild(leaves) as Traced<P>),
            outerLeaves,
            "hvp"
          ).gradients
          let s: Tensor = T.zeros([])
          inner.forEach((g, i) => {
            s = T.add(s, T.sum(T.mul(g, vs[i]!)))
          })
          return s
        },
        fx.leaves,
        "hvp"
      )
      return fx.rebuild(gradients.map((g, i) => toPlain(g, fx.kinds[i]!))) as Plain<P>
    },
    (r) => arraysIn(r)
  )

/**
 * The Jacobian of f: ℝⁿ → ℝᵐ at x as an m × n matrix (one reverse pass per
 * output entry over a single recorded forward pass). Meant for small problems.
 *
 * @category transformations
 * @since 0.1.0
 */
export const jacobian = (f: (x: Tensor) => Tensor, x: Float64Array): Matrix =>
  scoped(
    () => {
      const trace = newTrace()
      const xb = leaf(T.from(x), trace)
      const y = T.from(f(xb))
      const m = y.size
      const n = x.length
      const J = { rows: m, cols: n, data: allocateFloat64(m * n) }
      if (y.trace !== trace) return J
      for (let i = 0; i < m; i++) {
        const e = T.zeros(y.shape)
        e.data[i] = 1
        const [g] = backward(y, e, [xb], T.add)
        if (g !== undefined) J.data.set(g.data, i * n)
      }
      return J
    },
    (J) => [J.data]
  )

/**
 * The Hessian of scalar f at x as an n × n matrix (n exact Hessian-vector
 * products). Meant for small problems.
 *
 * @category transformations
 * @since 0.1.0
 */
export const hessian = (f: (x: Tensor) => Tensor | number, x: Float64Array): Matrix =>
  scoped(
    () => {
      const n = x.length
      const H = { rows: n, cols: n, data: allocateFloat64(n * n) }
      for (let j = 0; j < n; j++) {
        const e = allocateFloat64(n)
        e[j] = 1
        const col = hvp(f, x, e) as Float64Array
        for (let i = 0; i < n; i++) H.data[i * n + j] = col[i]!
      }
      return H
    },
    (H) => [H.data]
  )

/**
 * Defines an operation with a hand-written reverse-mode rule. `forward`
 * computes the output from plain tensors (any code, e.g. a solver); `rule`
 * returns the cotangent of every argument from the output cotangent `g`, the
 * output and the arguments. Written with `Tensor` operations, the rule is itself
 * differentiable, so the operation also works under `hvp` and `jvp`.
 *
 * @example
 * // log(1 + eˣ) with a rule that avoids recomputing the exponential
 * const softplus = Autodiff.customVjp(
 *   ([x]) => T.softplus(x),
 *   (g, _y, [x]) => [T.mul(g, T.sigmoid(x))]
 * )
 * @category custom rules
 * @since 0.1.0
 */
export const customVjp = (
  forward: (args: ReadonlyArray<Tensor>) => Tensor,
  rule: (g: Tensor, output: Tensor, args: ReadonlyArray<Tensor>) => ReadonlyArray<Tensor>
): ((...args: ReadonlyArray<T.TensorLike>) => Tensor) => {
  const p = primitiveJoint(
    (args) => forward(args),
    (g, ans, args) => rule(g, ans, args),
    [true, true, true, true, true, true, true, true]
  )
  return (...args) => p(args.map(T.from))
}

/**
 * Defines an operation by its forward-mode rule: `rule(primals, tangents)` is
 * the directional derivative, linear in the tangents and written with `Tensor`
 * operations. Reverse mode is derived by transposing that linear map (the VJP of
 * t ↦ rule(x, t)), so the operation works under `grad`, `vjp`, `jvp` and `hvp`.
 *
 * @category custom rules
 * @since 0.1.0
 */
export const customJvp = (
  forward: (args: ReadonlyArray<Tensor>) => Tensor,
  rule: (primals: ReadonlyArray<Tensor>, tangents: ReadonlyArray<Tensor>) => Tensor
): ((...args: ReadonlyArray<T.TensorLike>) => Tensor) =>
  customVjp(forward, (g, _output, args) => {
    const trace = newTrace()
    const ts = args.map((a) => leaf(T.zeros(a.shape), trace))
    const out = rule(args, ts)
    if (out.trace !== trace) return args.map((a) => T.zeros(a.shape))
    return backward(out, g, ts, T.add).map((c, i) => c ?? T.zeros(args[i]!.shape))
  })

/**
 * Options of `checkGrad`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CheckGradOptions {
  /** Finite-difference step (relative to max(1, |xᵢ|)); default 1e-6. */
  readonly eps?: number
  /** Relative tolerance for `ok`; default 1e-6. */
  readonly rtol?: number
  /** Absolute tolerance for `ok`; default 1e-8. */
  readonly atol?: number
}

/**
 * Result of `checkGrad`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CheckGradResult {
  readonly ok: boolean
  /** Index of the worst entry (−1 for an empty x). */
  readonly worstIndex: number
  readonly maxAbsError: number
  readonly maxRelError: number
  readonly gradient: Float64Array
  readonly finiteDifference: Float64Array
}

/**
 * Compares the AD gradient of scalar f at x with central finite differences
 * (f(x + hεᵢ) − f(x − hεᵢ)) / 2h, h = eps·max(1, |xᵢ|), and reports the worst
 * entry. `ok` holds when every entry is within atol + rtol·|fd|.
 *
 * @category diagnostics
 * @since 0.1.0
 */
export const checkGrad = (
  f: (x: Tensor) => Tensor | number,
  x: Float64Array,
  options: CheckGradOptions = {}
): CheckGradResult => {
  const eps = options.eps ?? 1e-6
  const rtol = options.rtol ?? 1e-6
  const atol = options.atol ?? 1e-8
  if (!(eps > 0))
    throw new InvalidOptions({
      operation: "checkGrad",
      field: "eps",
      value: eps,
      requirement: "a number > 0"
    })
  // A JS-heap copy; the scope frees grad's (wasm) result at once.
  const gradient = scoped(
    () => Float64Array.from(grad(f)(x)),
    () => []
  )
  // Plain JS arrays: the report is small and should not hold WebAssembly memory.
  const fd = new Float64Array(x.length)
  const xp = Float64Array.from(x)
  const value = (v: Float64Array): number =>
    scoped(
      () => scalarOutput(f(T.from(v)), "checkGrad").data[0]!,
      () => []
    )
  let worstIndex = -1
  let worst = -1
  let maxAbsError = 0
  let maxRelError = 0
  for (let i = 0; i < x.length; i++) {
    const h = eps * Math.max(1, Math.abs(x[i]!))
    xp[i] = x[i]! + h
    const up = value(xp)
    xp[i] = x[i]! - h
    const down = value(xp)
    xp[i] = x[i]!
    fd[i] = (up - down) / (2 * h)
    const err = Math.abs(gradient[i]! - fd[i]!)
    const ratio = err / (atol + rtol * Math.abs(fd[i]!))
    maxAbsError = Math.max(maxAbsError, err)
    if (fd[i] !== 0) maxRelError = Math.max(maxRelError, err / Math.abs(fd[i]!))
    if (ratio > worst) {
      worst = ratio
      worstIndex = i
    }
  }
  return { ok: worst <= 1, worstIndex, maxAbsError, maxRelError, gradient, finiteDifference: fd }
}

// Re-exported so rules can be written against the engine's primitive constructor.
export { primitive as definePrimitive }
