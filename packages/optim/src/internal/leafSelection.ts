/**
 * Running a gradient transform on a subset of the leaves of a parameter tree
 * (the machinery of `Masking.masked` and `Masking.partition`).
 *
 * The inner transform sees a *restricted tree*: the structure of the full tree
 * with every left-out leaf replaced by an empty array node, which has no
 * leaves. This is Optax's `MaskedNode`: the kept leaves keep their paths and
 * their relative traversal order, and the inner state holds buffers for the
 * kept leaves only.
 *
 * Per step, the restricted trees of the updates and of the parameters are
 * skeletons built once (per state, in `init`) whose slots are refilled with the
 * current step's leaves, so `update` allocates no tree nodes.
 */
import { Errors } from "@descent/core"
import type { GradientTransform, UpdateExtras } from "../GradientTransform.ts"
import type { Params } from "../Tree.ts"
import * as Tree from "../Tree.ts"

/** The node that replaces a left-out leaf: an empty array, a node without leaves. */
export const LEFT_OUT: Params = Object.freeze([]) as ReadonlyArray<Params>

type Container = Params[] | { [key: string]: Params }

interface Slot {
  readonly container: Container
  readonly key: number | string
  readonly leaf: number
}

/**
 * The restricted tree of `tree`: its structure, with the leaves `k` where
 * `keep[k]` is false replaced by `LEFT_OUT`. Kept leaves are `tree`'s own
 * arrays (no copies). With `slots`, records where each kept leaf sits.
 */
const skeleton = (tree: Params, keep: ReadonlyArray<boolean>, slots?: Slot[]): Params => {
  if (Tree.isLeaf(tree)) return keep[0] === true ? tree : LEFT_OUT
  let index = 0
  const place = (container: Container, key: number | string, child: Params): void => {
    if (Tree.isLeaf(child)) {
      const k = index++
      ;(container as { [key: string]: Params })[key] = keep[k] === true ? child : LEFT_OUT
      if (keep[k] === true && slots !== undefined) slots.push({ container, key, leaf: k })
    } else {
      ;(container as { [key: string]: Params })[key] = visit(child)
    }
  }
  const visit = (node: Params): Params => {
    if (Array.isArray(node)) {
      const items = node as ReadonlyArray<Params>
      const out: Params[] = []
      for (let i = 0; i < items.length; i++) place(out, i, items[i]!)
      return out
    }
    const record = node as { readonly [key: string]: Params }
    const out: { [key: string]: Params } = {}
    for (const key of Object.keys(record).sort()) place(out, key, record[key]!)
    return out
  }
  return visit(tree)
}

/**
 * The restricted tree of `tree` (fresh inner nodes, `tree`'s own leaves).
 */
export const restrict = (tree: Params, keep: ReadonlyArray<boolean>): Params => skeleton(tree, keep)

/** A reusable restricted tree whose kept leaves are refilled at every step. */
interface View {
  readonly fill: (leaves: ReadonlyArray<Float64Array>) => Params
}

const makeView = (tree: Params, keep: ReadonlyArray<boolean>): View => {
  if (Tree.isLeaf(tree)) {
    const kept = keep[0] === true
    return { fill: (leaves) => (kept ? leaves[0]! : LEFT_OUT) }
  }
  const slots: Slot[] = []
  const root = skeleton(tree, keep, slots)
  return {
    fill: (leaves) => {
      for (let j = 0; j < slots.length; j++) {
        const s = slots[j]!
        ;(s.container as { [key: string]: Params })[s.key] = leaves[s.leaf]!
      }
      return root
    }
  }
}

/**
 * Which leaves of a tree an inner transform sees, with the reusable restricted
 * trees for its updates and parameters.
 */
export interface Selection {
  /** Per leaf of the full tree (traversal order): whether the inner transform sees it. */
  readonly keep: ReadonlyArray<boolean>
  /** The lengths of the full tree's leaves. */
  readonly lengths: ReadonlyArray<number>
  /** The indices of the kept leaves in the full tree, ascending. */
  readonly indices: ReadonlyArray<number>
  readonly updates: View
  readonly params: View
}

export const makeSelection = (tree: Params, keep: ReadonlyArray<boolean>): Selection => {
  const leaves = Tree.leaves(tree)
  const indices: number[] = []
  for (let k = 0; k < keep.length; k++) if (keep[k] === true) indices.push(k)
  return {
    keep,
    lengths: leaves.map((leaf) => leaf.length),
    indices,
    updates: makeView(tree, keep),
    params: makeView(tree, keep)
  }
}

/**
 * The leaves of `tree`, checked against the leaf lengths recorded in `init`.
 * Throws `Errors.DimensionMismatch` naming `what` otherwise.
 */
export const checkedLeaves = (
  operation: string,
  what: string,
  tree: Params,
  lengths: ReadonlyArray<number>
): Float64Array[] => {
  const leaves = Tree.leaves(tree)
  if (leaves.length !== lengths.length) {
    throw new Errors.DimensionMismatch({
      operation,
      what: `number of leaves of the ${what} tree`,
      expected: [lengths.length],
      actual: [leaves.length]
    })
  }
  for (let k = 0; k < leaves.length; k++) {
    if (leaves[k]!.length !== lengths[k]) {
      throw new Errors.DimensionMismatch({
        operation,
        what: `length of leaf ${k} of the ${what} tree`,
        expected: [lengths[k]!],
        actual: [leaves[k]!.length]
      })
    }
  }
  return leaves
}

/**
 * The extras seen by an inner transform restricted to `selection`: a
 * Hessian-vector product is restricted too (v on the kept leaves is embedded
 * in a full tree with zeros elsewhere, and the product is restricted back, so
 * the inner transform sees the principal block H_SS of the Hessian). Other
 * extras pass unchanged; without a Hessian-vector product nothing is
 * allocated.
 */
const restrictExtras = (
  extras: UpdateExtras | undefined,
  selection: Selection,
  full: Params
): UpdateExtras | undefined => {
  const hvp = extras?.hessianVectorProduct
  if (extras === undefined || hvp === undefined) return extras
  const { indices, keep } = selection
  return {
    ...extras,
    hessianVectorProduct: (v) => {
      const embedded = Tree.zerosLike(full)
      const target = Tree.leaves(embedded)
      const source = Tree.leaves(v)
      for (let j = 0; j < indices.length; j++) target[indices[j]!]!.set(source[j]!)
      return restrict(hvp(embedded), keep)
    }
  }
}

/**
 * One update of `inner` on the kept leaves of `leaves` (the full updates'
 * leaves, written in place) and returns the inner state. `full` is the full
 * updates tree (its structure restricts the Hessian-vector product).
 */
export const updateSelected = <S>(
  inner: GradientTransform<S>,
  selection: Selection,
  innerState: S,
  leaves: ReadonlyArray<Float64Array>,
  paramLeaves: ReadonlyArray<Float64Array> | undefined,
  extras: UpdateExtras | undefined,
  full: Params
): S => {
  const view = selection.updates.fill(leaves)
  const paramView = paramLeaves === undefined ? undefined : selection.params.fill(paramLeaves)
  const r = inner.update(view, innerState, paramView, restrictExtras(extras, selection, full))
  if (r.updates !== view) {
    // A transform that returned fresh leaves instead of writing in place.
    const { indices } = selection
    const out = Tree.leaves(r.updates)
    for (let j = 0; j < indices.length; j++) {
      const target = leaves[indices[j]!]!
      if (out[j] !== target) target.set(out[j]!)
    }
  }
  return r.state
}
