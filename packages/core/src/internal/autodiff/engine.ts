/**
 * The reverse-mode engine behind `Tensor` and `Autodiff`.
 *
 * A traced value is a `Tensor` that "boxes" a value one level down together
 * with a trace id and a node of the computation graph, in the design of HIPS
 * autograd (Maclaurin, Duvenaud & Adams, 2015). A primitive called on boxed
 * arguments unboxes the arguments of the newest trace, applies itself to the
 * unboxed values (which may still be boxed by older traces) and boxes the
 * result with a node holding its vector-Jacobian products. Because those VJPs
 * are written with the same primitives, differentiating a backward pass works
 * like any other function: reverse-over-reverse gives exact Hessian-vector
 * products, and custom rules written with traced ops compose with them.
 *
 * @internal
 */
import { allocateFloat64 } from "../allocate.ts"

/** Shapes of rank 0 (scalar), 1 (vector) or 2 (matrix). */
export type Shape = readonly number[]

export interface Node {
  readonly parents: ReadonlyArray<Node>
  /** Cotangents of the parents, given the cotangent of this node's value. */
  readonly vjp: (g: Tensor) => ReadonlyArray<Tensor>
}

/**
 * A dense float64 array of rank 0, 1 or 2 — possibly traced.
 *
 * `data` always holds the values (row-major); treat it as read-only inside a
 * differentiated function.
 */
export class Tensor {
  readonly shape: Shape
  readonly data: Float64Array
  /** For a traced value: the value one trace down. */
  readonly primal: Tensor | undefined
  /** 0 for a plain value, else the id of the trace that records it. */
  readonly trace: number
  readonly node: Node | undefined

  constructor(shape: Shape, data: Float64Array, primal?: Tensor, trace = 0, node?: Node) {
    this.shape = shape
    this.data = data
    this.primal = primal
    this.trace = trace
    this.node = node
  }

  /** Number of entries. */
  get size(): number {
    return this.data.length
  }

  /** The value as a number (rank 0 or a single entry). */
  item(): number {
    if (this.data.length !== 1)
      throw new RangeError(`Tensor.item: the tensor has ${this.data.length} entries, not 1`)
    return this.data[0]!
  }
}

/** A plain (untraced) tensor over `data`. */
export const plain = (shape: Shape, data: Float64Array): Tensor => new Tensor(shape, data)

/** A zero-filled plain tensor. */
export const zerosOf = (shape: Shape): Tensor => new Tensor(shape, allocateFloat64(sizeOf(shape)))

export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

let nextTrace = 1
/** A fresh trace id, newer than every existing one. */
export const newTrace = (): number => nextTrace++

/** Boxes `value` as an input of `trace` (a leaf node). */
export const leaf = (value: Tensor, trace: number): Tensor =>
  new Tensor(value.shape, value.data, value, trace, { parents: [], vjp: () => [] })

/** The value of `x` seen from below `trace`: unboxed if it belongs to `trace`. */
export const unboxAt = (x: Tensor, trace: number): Tensor => (x.trace === trace ? x.primal! : x)

/**
 * A cotangent rule: the contribution to argument `i`'s cotangent, written with
 * (traceable) tensor operations, from the output cotangent `g`, the output
 * `ans` and the arguments.
 */
export type VjpRule = (g: Tensor, ans: Tensor, args: ReadonlyArray<Tensor>) => Tensor

/**
 * Makes a differentiable primitive from a forward computation on plain values
 * and one VJP rule per argument (`undefined` for arguments that are not
 * differentiated, like indices or masks).
 */
export const primitive = (
  forward: (args: ReadonlyArray<Tensor>) => Tensor,
  vjps: ReadonlyArray<VjpRule | undefined>
): ((args: ReadonlyArray<Tensor>) => Tensor) =>
  tracedPrimitive(
    forward,
    (g, ans, args, which) => which.map((i) => vjps[i]!(g, ans, args)),
    vjps.map((rule) => rule !== undefined)
  )

/**
 * The boxing machinery shared by `primitive` and `primitiveJoint`: applies
 * `forward` below the newest trace among the arguments and records a node whose
 * VJP asks `cotangents` for the arguments listed in `which` (those of the
 * newest trace that are differentiable).
 */
const tracedPrimitive = (
  forward: (args: ReadonlyArray<Tensor>) => Tensor,
  cotangents: (
    g: Tensor,
    ans: Tensor,
    args: ReadonlyArray<Tensor>,
    which: ReadonlyArray<number>
  ) => ReadonlyArray<Tensor>,
  differentiable: ReadonlyArray<boolean>
): ((args: ReadonlyArray<Tensor>) => Tensor) => {
  const apply = (args: ReadonlyArray<Tensor>): Tensor => {
    let top = 0
    for (let i = 0; i < args.length; i++) if (args[i]!.trace > top) top = args[i]!.trace
    if (top === 0) return forward(args)
    const unboxed = args.map((a) => unboxAt(a, top))
    const ans = apply(unboxed)
    const parents: Node[] = []
    const which: number[] = []
    for (let i = 0; i < args.length; i++) {
      if (args[i]!.trace === top && differentiable[i] === true) {
        parents.push(args[i]!.node!)
        which.push(i)
      }
    }
    if (parents.length === 0) return ans
    const node: Node = { parents, vjp: (g) => cotangents(g, ans, unboxed, which) }
    return new Tensor(ans.shape, ans.data, ans, top, node)
  }
  return apply
}

/**
 * Back-propagates the cotangent `g` of `output` (a value of `trace`) and
 * returns the cotangent reaching each of `inputs` (leaves of `trace`), or
 * undefined where none does. `add` accumulates cotangents (traceable).
 */
export const backward = (
  output: Tensor,
  g: Tensor,
  inputs: ReadonlyArray<Tensor>,
  add: (a: Tensor, b: Tensor) => Tensor
): Array<Tensor | undefined> => {
  const start = output.node!
  // Reverse topological order by iterative depth-first search.
  const order: Node[] = []
  const seen = new Set<Node>([start])
  const stack: Array<[Node, number]> = [[start, 0]]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!
    const [node, k] = top
    if (k < node.parents.length) {
      top[1] = k + 1
      const p = node.parents[k]!
      if (!seen.has(p)) {
        seen.add(p)
        stack.push([p, 0])
      }
    } else {
      stack.pop()
      order.push(node)
    }
  }
  const cotangents = new Map<Node, Tensor>([[start, g]])
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!
    const ct = cotangents.get(node)
    if (ct === undefined || node.parents.length === 0) continue
    const parts = node.vjp(ct)
    for (let k = 0; k < node.parents.length; k++) {
      const p = node.parents[k]!
      const prev = cotangents.get(p)
      cotangents.set(p, prev === undefined ? parts[k]! : add(prev, parts[k]!))
    }
    // Cotangents of inner nodes are not needed once passed on.
    cotangents.delete(node)
  }
  return inputs.map((x) => (x.node === undefined ? undefined : cotangents.get(x.node)))
}

/**
 * A primitive whose VJP rule returns the cotangents of all differentiable
 * arguments at once (custom rules often share work between them).
 * `differentiable[i]` says whether argument i receives a cotangent.
 */
export const primitiveJoint = (
  forward: (args: ReadonlyArray<Tensor>) => Tensor,
  rule: (g: Tensor, ans: Tensor, args: ReadonlyArray<Tensor>) => ReadonlyArray<Tensor>,
  differentiable: ReadonlyArray<boolean>
): ((args: ReadonlyArray<Tensor>) => Tensor) =>
  tracedPrimitive(
    forward,
    (g, ans, args, which) => {
      const all = rule(g, ans, args)
      return which.map((i) => all[i]!)
    },
    differentiable
  )
