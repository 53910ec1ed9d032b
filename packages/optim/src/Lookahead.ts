/**
 * Lookahead (Zhang, Lucas, Hinton & Ba, "Lookahead Optimizer: k steps
 * forward, 1 step back", NeurIPS 2019): an inner ("fast") optimizer takes k
 * steps from the slow weights φ, then the slow weights move a fraction α of
 * the way towards the fast weights θ, and the fast weights restart there:
 *
 *   θ ← θ + fast(g(θ))   k times,   then   φ ← φ + α·(θ − φ),   θ ← φ.
 *
 * As in Optax's `lookahead`, the two loops are flattened into one update per
 * call: on the k-th call (the synchronization) the fast update u becomes
 *
 *   d = (θ + u) − φ,   φ ← φ + α·d,   u ← u − (1 − α)·d,
 *
 * so θ + u equals the new slow weights (up to rounding, bit for bit as
 * Optax), and on other calls u is the fast optimizer's update unchanged.
 * With `resetState`, the fast optimizer's state is re-initialized after each
 * synchronization.
 *
 * **Representation.** Optax passes the pair `LookaheadParams(fast, slow)` as
 * the parameters and returns updates for both. Here the parameters are the
 * fast weights alone, and the slow weights live in the state
 * (`slowParams(state)`), because:
 * - the gradient is taken at the fast weights, so gradient, updates and
 *   parameters all have one structure and `update` keeps the in-place memory
 *   contract (Optax's version returns a new, twice-as-large updates tree);
 * - `lookahead(…)` is then an ordinary transform: it composes with `chain`,
 *   `applyUpdatesInPlace` and any training loop without a special parameter
 *   type.
 * The fast-weight trajectory is the same as Optax's, and the slow weights are
 * those of `LookaheadParams.slow`. Evaluate (or export) the slow weights: they
 * are the ones the paper reports as generalizing better.
 *
 * Updates returned by `lookahead` must be applied unchanged (so nothing after
 * it in a chain may modify them), otherwise the fast weights do not land on
 * the slow weights at synchronization — as in Optax.
 *
 * @since 0.1.0
 */
import { Memory } from "@descent/core"
import type { GradientTransform } from "./GradientTransform.ts"
import { invalid, leavesLike, requireParams, requirePositiveInteger } from "./internal/validate.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Options of `lookahead`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LookaheadOptions {
  /** k: fast steps between synchronizations, an integer ≥ 1. */
  readonly syncPeriod: number
  /** α: the fraction of the way the slow weights move towards the fast ones, in [0, 1]. */
  readonly slowStepSize: number
  /** Re-initialize the fast optimizer's state after every synchronization. Default false. */
  readonly resetState?: boolean
}

/**
 * State of `lookahead`: the fast optimizer's state, the number of fast steps
 * since the last synchronization, and the slow weights (Optax's
 * `LookaheadState` plus the `slow` half of `LookaheadParams`).
 *
 * @category models
 * @since 0.1.0
 */
export interface LookaheadState<S> {
  fastState: S
  stepsSinceSync: number
  /** The slow weights φ (allocated in `init` as a copy of the parameters). */
  readonly slow: Params
}

/** The typed arrays reachable from a state's arrays and plain objects. */
const buffersOf = (
  node: unknown,
  out: Set<Float64Array> = new Set(),
  seen: Set<object> = new Set()
): Set<Float64Array> => {
  if (node instanceof Float64Array) out.add(node)
  else if (node !== null && typeof node === "object" && !ArrayBuffer.isView(node) && !seen.has(node)) {
    seen.add(node)
    for (const v of Object.values(node)) buffersOf(v, out, seen)
  }
  return out
}

/**
 * Copies the values of `source` into `target`, a state of the same shape:
 * typed arrays with `set`, counters and flags by assignment. Returns false
 * (having possibly copied part) when the shapes differ.
 */
const copyInto = (target: unknown, source: unknown): boolean => {
  if (ArrayBuffer.isView(source)) {
    if (!(target instanceof Float64Array) || !(source instanceof Float64Array)) return false
    if (target.length !== source.length) return false
    target.set(source)
    return true
  }
  if (source === null || typeof source !== "object" || target === null || typeof target !== "object")
    return false
  if (Array.isArray(source) !== Array.isArray(target)) return false
  const t = target as { [key: string]: unknown }
  const s = source as { readonly [key: string]: unknown }
  const keys = Object.keys(s)
  if (keys.length !== Object.keys(t).length) return false
  for (const key of keys) {
    const sv = s[key]
    const tv = t[key]
    if (sv !== null && typeof sv === "object") {
      if (!copyInto(tv, sv)) return false
    } else if (!Object.is(tv, sv)) {
      if (!(key in t) || Object.isFrozen(t)) return false
      t[key] = sv
    }
  }
  return true
}

/**
 * `fast.init(params)` copied into the existing state (same object, same
 * buffers), after which the fresh state's own buffers are returned to the
 * allocator (`Memory.free`; not those it shares with the parameters or the
 * existing state), so a long synchronous run does not accumulate them. Falls
 * back to the fresh state when the shapes differ.
 */
const resetInPlace = <S>(fast: GradientTransform<S>, state: S, params: Params): S => {
  const fresh = fast.init(params)
  if (!copyInto(state, fresh)) return fresh
  const keep = buffersOf(state)
  for (const leaf of Tree.leaves(params)) keep.add(leaf)
  for (const buffer of buffersOf(fresh)) if (!keep.has(buffer)) Memory.free(buffer)
  return state
}

/**
 * Lookahead around `fastOptimizer` (Zhang et al. 2019; Optax's `lookahead`),
 * with the slow weights in the state (see the module documentation for the
 * update rule and the representation). `init(params)` copies the parameters
 * as the initial slow weights (Optax's `LookaheadParams.init_synced`);
 * `update` requires `params` (the fast weights) and passes `extras` to the
 * fast optimizer. With `resetState`, the fast state is re-initialized after
 * every synchronization with `fastOptimizer.init` of the fast weights before
 * the step, as in Optax — in place, into the existing buffers.
 *
 * Throws `Errors.InvalidOptions` for a `syncPeriod` that is not an integer
 * ≥ 1 or a `slowStepSize` outside [0, 1] (naming the field).
 *
 * @category combinators
 * @since 0.1.0
 */
export const lookahead = <S>(
  fastOptimizer: GradientTransform<S>,
  options: LookaheadOptions
): GradientTransform<LookaheadState<S>> => {
  const op = "lookahead"
  const k = requirePositiveInteger(op, "syncPeriod", options.syncPeriod)
  const alpha = options.slowStepSize
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) {
    throw invalid(op, "slowStepSize", alpha, "a number in [0, 1]")
  }
  const resetState = options.resetState ?? false
  const c = 1 - alpha
  return {
    init: (params) => ({
      fastState: fastOptimizer.init(params),
      stepsSinceSync: 0,
      slow: Tree.clone(params)
    }),
    update: (updates, state, params, extras) => {
      const fast = requireParams(op, params)
      const slow = Tree.leaves(state.slow)
      const fs = leavesLike(op, fast, slow)
      leavesLike(op, updates, slow)
      const r = fastOptimizer.update(updates, state.fastState, fast, extras)
      state.fastState = r.state
      const sync = state.stepsSinceSync === k - 1
      if (sync) {
        const us = leavesLike(op, r.updates, slow)
        for (let j = 0; j < us.length; j++) {
          const u = us[j]!
          const f = fs[j]!
          const s = slow[j]!
          for (let i = 0; i < u.length; i++) {
            const d = f[i]! + u[i]! - s[i]!
            s[i] = s[i]! + alpha * d
            u[i] = u[i]! - c * d
          }
        }
        if (resetState) state.fastState = resetInPlace(fastOptimizer, state.fastState, fast)
      }
      state.stepsSinceSync = (state.stepsSinceSync + 1) % k
      return { updates: r.updates, state }
    }
  }
}

/**
 * The slow weights φ of a `lookahead` state (its own buffer, not a copy:
 * `Tree.clone` it to keep a snapshot). Optax's `LookaheadParams.slow`.
 *
 * @category accessors
 * @since 0.1.0
 */
export const slowParams = (state: LookaheadState<unknown>): Params => state.slow
