/**
 * Applying transforms to part of a parameter tree. A network's weights,
 * biases and normalization scales often want different treatment: weight
 * decay on the weight matrices only, a different optimizer (or none) for the
 * embeddings. Two combinators cover this, as in Optax:
 *
 * - `masked(inner, mask)` applies `inner` to the leaves where the mask is true
 *   and passes the other leaves' updates through unchanged (`optax.masked`):
 *
 *     uₗ ← inner(u_S)ₗ  for leaves l ∈ S = { l : mask(l) },   uₗ unchanged otherwise.
 *
 * - `partition(transforms, labels)` labels every leaf and applies to each
 *   label's leaves the transform of that name (`optax.partition`, formerly
 *   `multi_transform`): the labels split the leaves into disjoint sets Sₐ and
 *   u_{Sₐ} ← transforms[a](u_{Sₐ}).
 *
 * A mask or a labeling is given per leaf (a `Float64Array` is one leaf; masks
 * do not reach inside it), in one of three forms:
 * - a tree with the parameters' structure whose leaves are booleans (labels);
 *   as in Optax it may be a *prefix* of the parameter tree: a boolean (label)
 *   at an inner node applies to every leaf below it;
 * - a function of the leaf's path and the leaf, e.g.
 *   `(path) => !path.endsWith("bias")` (paths as in `TreePaths.leafPaths`);
 * - `fromParams(f)`: a function of the whole parameter tree returning such a
 *   tree (Optax's callable mask).
 * The selection is resolved once, in `init` (Optax also requires it to be
 * static under `jit`).
 *
 * The inner transform sees the *restricted* trees of the updates and of the
 * parameters: the full structure with every left-out leaf replaced by an
 * empty array node, which has no leaves (Optax's `MaskedNode`). So its state
 * holds buffers for its own leaves only, its leaves keep their paths, and a
 * transform that normalizes over the tree (`clipByGlobalNorm`) sees only its
 * leaves. The restricted trees are skeletons built in `init` and refilled with
 * the current leaves at every step: `update` allocates no tree nodes, and the
 * updates are written in place into the incoming tree. `extras` reach the
 * inner transforms; a Hessian-vector product is restricted to the inner
 * transform's leaves (it sees the principal block H_SS of the Hessian).
 *
 * @since 0.1.0
 */
import { Errors } from "@descent/core"
import type { GradientTransform, StateOf } from "./GradientTransform.ts"
import {
  checkedLeaves,
  makeSelection,
  restrict,
  type Selection,
  updateSelected
} from "./internal/leafSelection.ts"
import { invalid } from "./internal/validate.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"
import { childPath, leafPaths } from "./TreePaths.ts"

/**
 * A mask given as a tree of booleans with the structure of the parameters,
 * or a prefix of it (a boolean at an inner node applies to its whole subtree).
 *
 * @category models
 * @since 0.1.0
 */
export type MaskTree = boolean | ReadonlyArray<MaskTree> | { readonly [key: string]: MaskTree }

/**
 * A labeling given as a tree of label strings with the structure of the
 * parameters, or a prefix of it (a label at an inner node applies to its
 * whole subtree).
 *
 * @category models
 * @since 0.1.0
 */
export type LabelTree = string | ReadonlyArray<LabelTree> | { readonly [key: string]: LabelTree }

/**
 * A mask or labeling computed from the whole parameter tree (Optax's callable
 * `mask` / `param_labels`); build it with `fromParams`.
 *
 * @category models
 * @since 0.1.0
 */
export interface FromParams<T> {
  readonly _tag: "FromParams"
  readonly f: (params: Params) => T
}

/**
 * Wraps a function of the parameter tree that returns a mask (or label) tree,
 * for `masked` (or `partition`). It is called once, in `init`, with the
 * parameters.
 *
 * ```ts
 * // weight decay on every top-level entry but `bias`
 * masked(addDecayedWeights(1e-4),
 *   fromParams((p) => Object.fromEntries(Object.keys(p).map((k) => [k, k !== "bias"]))))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromParams = <T>(f: (params: Params) => T): FromParams<T> => ({ _tag: "FromParams", f })

/**
 * A per-leaf predicate of `masked`: called with each leaf's path (see
 * `TreePaths.leafPaths`) and the leaf itself; true keeps the leaf.
 *
 * @category models
 * @since 0.1.0
 */
export type LeafPredicate = (path: string, leaf: Float64Array) => boolean

/**
 * A per-leaf labeling of `partition`: called with each leaf's path and the
 * leaf itself; returns the leaf's label.
 *
 * @category models
 * @since 0.1.0
 */
export type LeafLabeler = (path: string, leaf: Float64Array) => string

/**
 * Which leaves `masked` transforms: a boolean tree, a per-leaf predicate, or
 * `fromParams(f)`.
 *
 * @category models
 * @since 0.1.0
 */
export type Mask = MaskTree | LeafPredicate | FromParams<MaskTree>

/**
 * The leaves' labels for `partition`: a label tree, a per-leaf function, or
 * `fromParams(f)`.
 *
 * @category models
 * @since 0.1.0
 */
export type Labels = LabelTree | LeafLabeler | FromParams<LabelTree>

// ---------------------------------------------------------------------------
// Resolving a per-leaf specification against a tree

const isFromParams = (x: unknown): x is FromParams<unknown> =>
  typeof x === "object" &&
  x !== null &&
  (x as { _tag?: unknown })._tag === "FromParams" &&
  typeof (x as { f?: unknown }).f === "function"

const isRecord = (x: unknown): x is { readonly [key: string]: unknown } =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x)

const isBoolean = (x: unknown): x is boolean => typeof x === "boolean"

const isString = (x: unknown): x is string => typeof x === "string"

const nodeSize = (x: unknown): number =>
  Tree.isLeaf(x as Params)
    ? (x as Float64Array).length
    : Array.isArray(x)
      ? x.length
      : isRecord(x)
        ? Object.keys(x).length
        : 0

/** Per-leaf values of a specification tree laid over `params` (prefix semantics). */
const resolveTree = <V>(
  operation: string,
  field: string,
  spec: unknown,
  params: Params,
  isValue: (x: unknown) => x is V,
  requirement: string
): V[] => {
  const out: V[] = []
  const mismatch = (path: string, what: string, node: Params, s: unknown): Errors.DimensionMismatch =>
    new Errors.DimensionMismatch({
      operation,
      what: `${field} at ${path || "<root>"}: ${what}`,
      expected: [nodeSize(node)],
      actual: [nodeSize(s)]
    })
  const visit = (s: unknown, node: Params, path: string): void => {
    if (isValue(s)) {
      const n = Tree.isLeaf(node) ? 1 : Tree.leaves(node).length
      for (let i = 0; i < n; i++) out.push(s)
      return
    }
    if (!Array.isArray(s) && !isRecord(s)) {
      throw invalid(operation, field, s, `${requirement} at ${path || "<root>"}`)
    }
    if (Tree.isLeaf(node)) {
      throw mismatch(path, `a subtree where the parameters have a leaf of length ${node.length}`, node, s)
    }
    if (Array.isArray(node)) {
      const items = node as ReadonlyArray<Params>
      if (!Array.isArray(s) || s.length !== items.length) {
        throw mismatch(path, `expected an array of ${items.length} entries`, node, s)
      }
      for (let i = 0; i < items.length; i++) visit(s[i], items[i]!, childPath(path, i))
      return
    }
    const record = node as { readonly [key: string]: Params }
    const keys = Object.keys(record).sort()
    const specKeys = isRecord(s) ? Object.keys(s).sort() : []
    if (!isRecord(s) || specKeys.length !== keys.length || specKeys.some((k, i) => k !== keys[i])) {
      throw mismatch(
        path,
        `expected an object with keys ${keys.join(",")} (got ${isRecord(s) ? specKeys.join(",") : "an array"})`,
        node,
        s
      )
    }
    for (const key of keys)
      visit((s as { readonly [key: string]: unknown })[key], record[key]!, childPath(path, key))
  }
  visit(spec, params, "")
  return out
}

/** Per-leaf values (traversal order) of a specification in any of its three forms. */
const resolve = <V>(
  operation: string,
  field: string,
  spec: unknown,
  params: Params,
  isValue: (x: unknown) => x is V,
  requirement: string
): V[] => {
  if (typeof spec === "function") {
    const paths = leafPaths(params)
    const leaves = Tree.leaves(params)
    const f = spec as (path: string, leaf: Float64Array) => unknown
    return leaves.map((leaf, k) => {
      const v = f(paths[k]!, leaf)
      if (!isValue(v))
        throw invalid(operation, field, v, `${requirement} (returned for the leaf "${paths[k]}")`)
      return v
    })
  }
  if (isFromParams(spec)) return resolveTree(operation, field, spec.f(params), params, isValue, requirement)
  return resolveTree(operation, field, spec, params, isValue, requirement)
}

/**
 * Checks a specification when the combinator is built: a function and
 * `fromParams` pass (they are checked against the tree in `init`); a tree's
 * leaves must all satisfy `isValue` and `check`.
 */
const checkSpec = <V>(
  operation: string,
  field: string,
  spec: unknown,
  isValue: (x: unknown) => x is V,
  requirement: string,
  check: (value: V, path: string) => void = () => {}
): void => {
  if (typeof spec === "function" || isFromParams(spec)) return
  const visit = (s: unknown, path: string): void => {
    if (isValue(s)) check(s, path)
    else if (Array.isArray(s))
      s.forEach((child, i) => {
        visit(child, childPath(path, i))
      })
    else if (isRecord(s) && !isFromParams(s))
      for (const key of Object.keys(s)) visit(s[key], childPath(path, key))
    else {
      throw invalid(
        operation,
        field,
        s,
        `${requirement}, a tree of them, a function of the leaf's path or fromParams(f)` +
          (path === "" ? "" : ` (at ${path})`)
      )
    }
  }
  visit(spec, "")
}

// ---------------------------------------------------------------------------
// masked

/**
 * State of `masked`: the inner transform's state, which holds buffers for the
 * selected leaves only (Optax's `MaskedState`).
 *
 * @category models
 * @since 0.1.0
 */
export interface MaskedState<S> {
  innerState: S
}

/**
 * Applies `inner` only to the leaves selected by `mask`; the updates of the
 * other leaves pass through unchanged (Optax's `masked`). For leaves l,
 *
 *   uₗ ← inner(u_S, state, p_S)ₗ  if l ∈ S,   uₗ  otherwise,
 *
 * where S is the set of selected leaves and u_S, p_S are the restricted
 * updates and parameters (see the module documentation). Typical use: weight
 * decay on weights only,
 *
 * ```ts
 * chain(scaleByAdam(), masked(addDecayedWeights(1e-4), (path) => !path.endsWith("bias")),
 *   scaleByLearningRate(1e-3))
 * ```
 *
 * The mask is a boolean tree (or prefix), a predicate of the leaf's path and
 * the leaf, or `fromParams(f)`; it is resolved in `init`. A mask tree whose
 * leaves are not booleans throws `Errors.InvalidOptions` (field `mask`) at
 * construction; a mask tree whose structure does not match the parameters
 * throws `Errors.DimensionMismatch` in `init`, as does an updates tree that
 * does not match the parameters in `update`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const masked = <S>(inner: GradientTransform<S>, mask: Mask): GradientTransform<MaskedState<S>> => {
  const op = "masked"
  checkSpec(op, "mask", mask, isBoolean, "a boolean")
  // The restricted trees of each state, built in `init` (or, for a state made
  // elsewhere, at its first update from the updates' structure).
  const selections = new WeakMap<MaskedState<S>, Selection>()
  const select = (tree: Params): Selection =>
    makeSelection(tree, resolve(op, "mask", mask, tree, isBoolean, "a boolean"))
  return {
    init: (params) => {
      const selection = select(params)
      const state: MaskedState<S> = { innerState: inner.init(restrict(params, selection.keep)) }
      selections.set(state, selection)
      return state
    },
    update: (updates, state, params, extras) => {
      let selection = selections.get(state)
      if (selection === undefined) {
        selection = select(updates)
        selections.set(state, selection)
      }
      const leaves = checkedLeaves(op, "updates", updates, selection.lengths)
      const paramLeaves =
        params === undefined ? undefined : checkedLeaves(op, "params", params, selection.lengths)
      state.innerState = updateSelected(
        inner,
        selection,
        state.innerState,
        leaves,
        paramLeaves,
        extras,
        updates
      )
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// partition

/**
 * State of `partition`: the state of each labeled transform, by label
 * (Optax's `PartitionState`). Each holds buffers for its own leaves only.
 *
 * @category models
 * @since 0.1.0
 */
export interface PartitionState<T> {
  readonly innerStates: { -readonly [K in keyof T]: StateOf<T[K]> }
}

/**
 * Applies a different transform to each labeled part of the parameters
 * (Optax's `partition`, formerly `multi_transform`): every leaf gets a label,
 * and `transforms[label]` transforms the leaves with that label (seeing the
 * restricted trees of its leaves only, as `masked`). For the disjoint label
 * sets Sₐ,
 *
 *   u_{Sₐ} ← transforms[a](u_{Sₐ}, stateₐ, p_{Sₐ})   for every label a.
 *
 * ```ts
 * partition({ adam: Optimizers.adam(1e-3), sgd: Optimizers.sgd(1e-2) },
 *   (path) => (path.startsWith("embedding") ? "sgd" : "adam"))
 * ```
 *
 * The labels are a label tree (or prefix), a function of the leaf's path and
 * the leaf, or `fromParams(f)`; they are resolved in `init`. A label that is
 * not a key of `transforms` throws `Errors.InvalidOptions` (field `labels`,
 * value the label): at construction for a label tree, in `init` otherwise. A
 * label tree whose structure does not match the parameters throws
 * `Errors.DimensionMismatch` in `init`. Transforms whose label no leaf has are
 * initialized on a tree without leaves, as in Optax.
 *
 * @category combinators
 * @since 0.1.0
 */
export const partition = <
  // biome-ignore lint/suspicious/noExplicitAny: as in `chain`, transforms of any state type; `PartitionState` restores each one's state type.
  const T extends { readonly [label: string]: GradientTransform<any> }
>(
  transforms: T,
  labels: Labels
): GradientTransform<PartitionState<T>> => {
  const op = "partition"
  if (!isRecord(transforms)) throw invalid(op, "transforms", transforms, "a record of transforms by label")
  const names = Object.keys(transforms).sort()
  for (const name of names) {
    const t = transforms[name] as unknown as { init?: unknown; update?: unknown } | undefined
    if (t === undefined || typeof t.init !== "function" || typeof t.update !== "function") {
      throw invalid(op, `transforms.${name}`, t, "a gradient transform")
    }
  }
  const known = new Set(names)
  const requireKnown = (label: string, path: string): void => {
    if (!known.has(label)) {
      throw invalid(
        op,
        "labels",
        label,
        `a key of transforms (${names.join(", ")}); "${label}" labels the leaf ${path === "" ? "<root>" : `"${path}"`}`
      )
    }
  }
  checkSpec(op, "labels", labels, isString, "a label string", requireKnown)
  type S = PartitionState<T>
  const selections = new WeakMap<S, ReadonlyArray<Selection>>()
  const select = (tree: Params): ReadonlyArray<Selection> => {
    const perLeaf = resolve(op, "labels", labels, tree, isString, "a label string")
    const paths = leafPaths(tree)
    perLeaf.forEach((label, k) => {
      requireKnown(label, paths[k]!)
    })
    return names.map((name) =>
      makeSelection(
        tree,
        perLeaf.map((label) => label === name)
      )
    )
  }
  return {
    init: (params) => {
      const selection = select(params)
      const innerStates: { [label: string]: unknown } = {}
      names.forEach((name, i) => {
        innerStates[name] = transforms[name]!.init(restrict(params, selection[i]!.keep))
      })
      const state = { innerStates } as unknown as S
      selections.set(state, selection)
      return state
    },
    update: (updates, state, params, extras) => {
      let selection = selections.get(state)
      if (selection === undefined) {
        selection = select(updates)
        selections.set(state, selection)
      }
      const lengths = selection[0]?.lengths ?? Tree.leaves(updates).map((leaf) => leaf.length)
      const leaves = checkedLeaves(op, "updates", updates, lengths)
      const paramLeaves = params === undefined ? undefined : checkedLeaves(op, "params", params, lengths)
      const innerStates = state.innerStates as { [label: string]: unknown }
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!
        innerStates[name] = updateSelected(
          transforms[name]!,
          selection[i]!,
          innerStates[name],
          leaves,
          paramLeaves,
          extras,
          updates
        )
      }
      return { updates, state }
    }
  }
}
