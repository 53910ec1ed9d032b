/**
 * The gradient-transformation protocol of Optax (Babuschkin et al., "The
 * DeepMind JAX Ecosystem", 2020): an optimizer is a pair of pure functions
 * `init(params) → state` and `update(updates, state, params) → { updates,
 * state }` that turns raw gradients into parameter updates. Small transforms
 * (momentum, Adam scaling, clipping, weight decay, learning-rate scaling) are
 * composed with `chain`, and the result is added to the parameters with
 * `applyUpdates`:
 *
 * ```ts
 * const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3))
 * let state = tx.init(params)
 * const { updates, state: next } = tx.update(grad, state, params)
 * state = next
 * applyUpdatesInPlace(params, updates)
 * ```
 *
 * Memory contract (zero allocation per step):
 * - `update` writes the new updates IN PLACE into the `updates` tree it
 *   receives and returns that same tree; pass a gradient you no longer need
 *   (or a `Tree.clone` of it).
 * - `update` may mutate the buffers of `state` in place and return the same
 *   state object: the state passed in is consumed, as in core's solver
 *   protocol. Keep a `Tree.clone` of the state buffers to branch a run.
 * - State buffers are allocated once, in `init`, with `Vector.zeros`.
 *
 * @since 0.1.0
 */
import { Vector } from "@descent/core"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * An Optax-style gradient transformation with state `S`.
 *
 * - `init(params)`: the initial state for parameters shaped like `params`.
 * - `update(updates, state, params?)`: the transformed updates (written in
 *   place into `updates`, which is returned) and the next state (possibly the
 *   same object with mutated buffers; the input state is consumed).
 *   `params` is required by transforms that read the parameters
 *   (`addDecayedWeights`).
 *
 * @category models
 * @since 0.1.0
 */
export interface GradientTransform<S> {
  readonly init: (params: Params) => S
  readonly update: (
    updates: Params,
    state: S,
    params?: Params,
    extras?: UpdateExtras
  ) => { readonly updates: Params; readonly state: S }
  /**
   * Optional fused step: the same result as `update` followed by
   * `applyUpdatesInPlace(params, updates)`, bit for bit, in fewer passes over
   * memory. Updates `params` in place, consumes `grads` and `state`, and
   * returns the next state. Call it through `step`, which falls back to
   * `update` + `applyUpdatesInPlace` for transforms without one.
   */
  readonly step?: (params: Params, grads: Params, state: S, extras?: UpdateExtras) => S
}

/**
 * Extra information some transforms need besides the gradient (Optax's
 * `GradientTransformationExtraArgs`): the objective's value at `params`
 * (Polyak step sizes) and a Hessian-vector product at `params` (AdaHessian,
 * Sophia). Combinators pass `extras` unchanged to every inner transform;
 * transforms that do not need them ignore them, and a transform that needs
 * one that is missing throws `Errors.InvalidOptions` naming it.
 *
 * @category models
 * @since 0.1.0
 */
export interface UpdateExtras {
  /** The objective's value f(params) (possibly of a minibatch). */
  readonly value?: number
  /**
   * The Hessian-vector product v ↦ ∇²f(params)·v, for a tree `v` shaped like
   * the parameters (e.g. from `Autodiff.hvp` of `@descent/core`). The result
   * may be a fresh tree; it is not mutated.
   */
  readonly hessianVectorProduct?: (v: Params) => Params
}

/**
 * The state type of a gradient transform.
 *
 * @category models
 * @since 0.1.0
 */
export type StateOf<T> = T extends GradientTransform<infer S> ? S : never

/**
 * The state of stateless transforms (Optax's `EmptyState`).
 *
 * @category models
 * @since 0.1.0
 */
export interface EmptyState {
  readonly _tag: "EmptyState"
}

/**
 * The shared empty state value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const emptyState: EmptyState = Object.freeze({ _tag: "EmptyState" as const })

/**
 * The transform that leaves updates unchanged (Optax's `identity`).
 *
 * @category transforms
 * @since 0.1.0
 */
export const identity = (): GradientTransform<EmptyState> => ({
  init: () => emptyState,
  update: (updates, state) => ({ updates, state })
})

/**
 * The composition of `transforms`, applied left to right: the updates
 * returned by `transforms[i]` are the input of `transforms[i + 1]`; every
 * transform receives the same `params`. The state is the tuple of the
 * component states (Optax's `chain`). Composition is associative in its
 * updates: `chain(chain(a, b), c)` and `chain(a, chain(b, c))` produce the same
 * updates (their states nest differently).
 *
 * @category combinators
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noExplicitAny: a transform's state is both read and written, so `GradientTransform<unknown>` would not accept concrete transforms; the mapped state type below restores precision.
export const chain = <const T extends ReadonlyArray<GradientTransform<any>>>(
  ...transforms: T
): GradientTransform<{ -readonly [K in keyof T]: StateOf<T[K]> }> => {
  type S = { -readonly [K in keyof T]: StateOf<T[K]> }
  const n = transforms.length
  return {
    init: (params) => transforms.map((t) => t.init(params)) as unknown as S,
    update: (updates, state, params, extras) => {
      const states = state as unknown as Array<unknown>
      let u = updates
      for (let i = 0; i < n; i++) {
        const r = transforms[i]!.update(u, states[i], params, extras)
        u = r.updates
        states[i] = r.state
      }
      return { updates: u, state }
    }
  }
}

/**
 * New parameters `params + updates` (fresh leaves from `Vector.zeros`); the
 * inputs are not modified. Throws `Errors.DimensionMismatch` when the trees'
 * structures differ. Optax's `apply_updates`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const applyUpdates = (params: Params, updates: Params): Params => {
  const pairs = Tree.zip(params, updates, "applyUpdates")
  let index = 0
  return Tree.map(params, (p) => {
    const u = pairs[index++]![1]
    const out = Vector.zeros(p.length)
    for (let i = 0; i < out.length; i++) out[i] = p[i]! + u[i]!
    return out
  })
}

/**
 * Adds `updates` into `params` in place (`pᵢ ← pᵢ + uᵢ`) and returns `params`.
 * Throws `Errors.DimensionMismatch` when the trees' structures differ.
 *
 * @category combinators
 * @since 0.1.0
 */
export const applyUpdatesInPlace = (params: Params, updates: Params): Params => {
  if (Tree.isLeaf(params) && Tree.isLeaf(updates) && params.length === updates.length) {
    for (let i = 0; i < params.length; i++) params[i] = params[i]! + updates[i]!
    return params
  }
  for (const [p, u] of Tree.zip(params, updates, "applyUpdatesInPlace")) {
    for (let i = 0; i < p.length; i++) p[i] = p[i]! + u[i]!
  }
  return params
}

/**
 * One optimizer step in place: `params ← params + update(grads)`, returning
 * the next state. Uses the transform's fused `step` when it has one (`adam`,
 * `nadam`: one pass over memory instead of three), else `update` followed by
 * `applyUpdatesInPlace`; both give the same bits. `grads` and `state` are
 * consumed (the memory contract above).
 *
 * ```ts
 * for (let t = 0; t < steps; t++) state = step(opt, params, gradient(params), state)
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const step = <S>(
  transform: GradientTransform<S>,
  params: Params,
  grads: Params,
  state: S,
  extras?: UpdateExtras
): S => {
  if (transform.step !== undefined) return transform.step(params, grads, state, extras)
  const r = transform.update(grads, state, params, extras)
  applyUpdatesInPlace(params, r.updates)
  return r.state
}

/**
 * The memory held by an optimizer state: the number of scalars and bytes in
 * its typed-array buffers (moments, preconditioners, slow weights), found by
 * walking the state's arrays and plain objects. Counters and flags are not
 * counted. Report it as optimizer memory: Adam holds 2 scalars per
 * parameter, Lion 1, SGD 0. Objects in `exclude` (and what is reachable only
 * through them) are skipped — e.g. the problem data a solver state refers to
 * but does not own.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const stateSize = (
  state: unknown,
  exclude: ReadonlyArray<object> = []
): { readonly scalars: number; readonly bytes: number } => {
  let scalars = 0
  let bytes = 0
  const seen = new Set<object>(exclude)
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object" || seen.has(node)) return
    seen.add(node)
    if (ArrayBuffer.isView(node)) {
      bytes += node.byteLength
      scalars += (node as unknown as { length?: number }).length ?? 0
      return
    }
    const values = Array.isArray(node) ? node : Object.values(node)
    for (const v of values) visit(v)
  }
  visit(state)
  return { scalars, bytes }
}
