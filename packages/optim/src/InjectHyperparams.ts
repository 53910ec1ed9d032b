/**
 * Hyperparameters that live in the optimizer state (Optax's
 * `inject_hyperparams`): their current values can be read (for logging) and
 * changed between steps (reduce-on-plateau, manual annealing, population
 * based training), and any of them may be a schedule evaluated at every step,
 * while the inner state (Adam's moments, momentum buffers) carries on.
 *
 * ```ts
 * const tx = injectHyperparams((h: { learningRate: number; b1: number }) =>
 *   Optimizers.adam(h.learningRate, { b1: h.b1 }))({ learningRate: 1e-3, b1: 0.9 })
 * let state = tx.init(params)
 * // … later, between two steps:
 * state.hyperparams.learningRate = 1e-4   // used from the next update on
 * ```
 *
 * **Design.** The inner transforms of this library take plain numbers when
 * they are built, so a new value needs a rebuilt transform. As in Optax, the
 * inner transform is made by the factory from the current values; unlike
 * Optax, which calls the factory at every step, it is rebuilt only when a
 * value it was built from has changed:
 *
 * 1. each update first writes the schedules' values at the step count into
 *    `state.hyperparams` (so a value set by hand on a scheduled name is
 *    overwritten, as in Optax), then validates every value (finite number);
 * 2. the factory's reads of its first argument are tracked (through
 *    getters); if any value it read differs from the value it was built
 *    with, the factory is called again; otherwise the cached transform runs;
 * 3. the inner state is kept across rebuilds: the factory must return
 *    transforms whose state has the same shape whatever the values.
 *
 * So constant hyperparameters cost nothing per step, and a change by hand
 * costs one rebuild. For hyperparameters that change at every step
 * (schedules), the factory can avoid the rebuild with its second argument:
 * `live.name` is a step-size function `(step) => value` that reads the
 * current value from the state at every call; a factory that passes it where
 * a `StepSize` is accepted (learning rates, weight decay) and never reads
 * `h.name` is never rebuilt for that name:
 *
 * ```ts
 * injectHyperparams((h: { learningRate: number; b1: number }, live) =>
 *   Optimizers.adam(live.learningRate, { b1: h.b1 }))({ learningRate: Schedules.cosine(…), b1: 0.9 })
 * ```
 *
 * Then a step allocates nothing beyond what the inner transform allocates.
 * Both forms compute the same numbers: a learning rate η enters as `(−η)·u`
 * either way.
 *
 * Differences from Optax: booleans and other non-numeric options are not
 * hyperparameters here (Optax's `static_args`): the factory closes over them.
 * The values are float64 numbers (no `hyperparam_dtype`).
 *
 * @since 0.1.0
 */
import type { GradientTransform } from "./GradientTransform.ts"
import { increment, invalid } from "./internal/validate.ts"
import { isSchedule } from "./Schedules.ts"
import { type StepSize, stepSizeAt } from "./Transforms.ts"

/**
 * A step-size function per hyperparameter, reading its current value from the
 * state at every call (the step argument is ignored); see the module
 * documentation.
 *
 * @category models
 * @since 0.1.0
 */
export type LiveHyperparams<H> = { readonly [K in keyof H]: (step: number) => number }

/**
 * The values given to an injected transform: per hyperparameter a number, a
 * `Schedule`, or a function of the step count (evaluated at the number of
 * previous updates, as Optax's schedules).
 *
 * @category models
 * @since 0.1.0
 */
export type InjectedHyperparams<H> = { readonly [K in keyof H]: StepSize }

/**
 * State of an injected transform (Optax's `InjectStatefulHyperparamsState`):
 * the number of updates, the current hyperparameter values (writable: a new
 * value takes effect at the next update, except for scheduled names, whose
 * value is recomputed), and the inner transform's state.
 *
 * @category models
 * @since 0.1.0
 */
export interface InjectHyperparamsState<H, S> {
  count: number
  readonly hyperparams: { -readonly [K in keyof H]: number }
  innerState: S
}

/**
 * Moves the numeric hyperparameters of the transforms made by `factory` into
 * the state (Optax's `inject_hyperparams`): `injectHyperparams(factory)(values)`
 * is a transform whose state holds `hyperparams`, the current value of every
 * name in `values` (a number, a `Schedule` or a function of the step), and
 * whose updates are those of `factory(hyperparams)` with the inner state
 * carried across changes. Schedules are evaluated at the number of previous
 * updates (0 at the first, as Optax). See the module documentation for how a
 * change takes effect without rebuilding at every step, and for the `live`
 * argument.
 *
 * The factory is called once when the transform is built (with the values at
 * step 0), so its own validation applies at once; a value in `values` that
 * is not a finite number, a `Schedule` or a function throws
 * `Errors.InvalidOptions` naming it, and so does a non-finite value found in
 * `state.hyperparams` at an update (field `hyperparams.<name>`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const injectHyperparams =
  <H extends { readonly [name: string]: number }, S>(
    factory: (hyperparams: Readonly<H>, live: LiveHyperparams<H>) => GradientTransform<S>
  ) =>
  (values: InjectedHyperparams<H>): GradientTransform<InjectHyperparamsState<H, S>> => {
    const op = "injectHyperparams"
    if (typeof factory !== "function")
      throw invalid(op, "factory", factory, "a function returning a transform")
    if (values === null || typeof values !== "object") throw invalid(op, "hyperparams", values, "a record")
    const names = Object.keys(values)
    const n = names.length
    // The schedule of each scheduled name (undefined for constants).
    const schedules: Array<Exclude<StepSize, number> | undefined> = names.map((name) => {
      const v = (values as { readonly [name: string]: unknown })[name]
      if (typeof v === "number") {
        if (!Number.isFinite(v))
          throw invalid(op, name, v, "a finite number, a Schedule or a function of the step")
        return undefined
      }
      if (typeof v === "function" || isSchedule(v)) return v as Exclude<StepSize, number>
      throw invalid(op, name, v, "a finite number, a Schedule or a function of the step")
    })
    const initialValues = (): { [name: string]: number } => {
      const out: { [name: string]: number } = {}
      for (let i = 0; i < n; i++) {
        const s = schedules[i]
        out[names[i]!] = s === undefined ? (values[names[i]!] as number) : stepSizeAt(s, 0)
      }
      return out
    }
    // The values the live functions read: the hyperparameters of the state
    // being updated (set before every inner update and init).
    let current: { readonly [name: string]: number } = initialValues()
    const live = {} as { [name: string]: (step: number) => number }
    for (const name of names) live[name] = () => current[name]!
    // The cached inner transform, the values it was built with, and which
    // of them the factory read.
    const read: boolean[] = names.map(() => false)
    const builtWith: number[] = names.map(() => Number.NaN)
    let transform!: GradientTransform<S>
    const build = (hp: { readonly [name: string]: number }): void => {
      const snapshot = {} as { [name: string]: number }
      for (let i = 0; i < n; i++) {
        const value = hp[names[i]!]!
        builtWith[i] = value
        Object.defineProperty(snapshot, names[i]!, {
          enumerable: true,
          get: () => {
            read[i] = true
            return value
          }
        })
      }
      transform = factory(snapshot as unknown as H, live as unknown as LiveHyperparams<H>)
    }
    /** Rebuilds the transform when a value it read has changed. */
    const ensureBuilt = (hp: { readonly [name: string]: number }): void => {
      for (let i = 0; i < n; i++) {
        if (read[i] && hp[names[i]!] !== builtWith[i]) {
          build(hp)
          return
        }
      }
    }
    build(current)
    type State = InjectHyperparamsState<H, S>
    return {
      init: (params) => {
        const hyperparams = initialValues()
        ensureBuilt(hyperparams)
        current = hyperparams
        return {
          count: 0,
          hyperparams: hyperparams as State["hyperparams"],
          innerState: transform.init(params)
        }
      },
      update: (updates, state, params, extras) => {
        const hp = state.hyperparams as { [name: string]: number }
        for (let i = 0; i < n; i++) {
          const s = schedules[i]
          if (s !== undefined) hp[names[i]!] = stepSizeAt(s, state.count)
          const v = hp[names[i]!]
          if (typeof v !== "number" || !Number.isFinite(v)) {
            throw invalid(op, `hyperparams.${names[i]}`, v, "a finite number")
          }
        }
        ensureBuilt(hp)
        current = hp
        const r = transform.update(updates, state.innerState, params, extras)
        state.innerState = r.state
        state.count = increment(state.count)
        return { updates: r.updates, state }
      }
    }
  }
