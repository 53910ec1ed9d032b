/**
 * Step-size schedules as plain data: one algebra of learning-rate (or any
 * hyperparameter) schedules `step ↦ value`, each a serializable record with a
 * `kind` tag, so that an optimizer configuration containing a schedule can be
 * stored, compared, sent to a worker and reloaded without loss
 * (`JSON.parse(JSON.stringify(s))` evaluates identically).
 *
 * Every kind mirrors an Optax function (`optax.schedules`, Optax 0.2.8) and
 * evaluates with the same float64 operations in the same order, so values
 * agree with Optax run with `jax_enable_x64` bit for bit, except that V8's
 * `Math.cos` and XLA's `cos` may differ by one ulp, which the cosine kinds
 * inherit (see `test/schedules.test.ts`). Kinds
 * Optax lacks (warmup-linear, warmup-stable-decay, REX) are defined as
 * `join`s of Optax primitives or by their closed form; `tabulated` holds one
 * value per step (e.g. a schedule refined from gradient norms,
 * `RefinedSchedule.ts`).
 *
 * Construct schedules with the constructors below (they validate and throw
 * `Errors.InvalidOptions` naming the offending field), read them from
 * untrusted JSON with {@link fromJSON}, evaluate with {@link evaluate} or turn
 * them into a function with {@link toFunction}. Steps are step counts
 * (0, 1, 2, …); non-integer steps are allowed and interpolate the formulas.
 *
 * @since 0.1.0
 */
import { Errors } from "@descent/core"

/**
 * `value` at every step (`optax.constant_schedule`).
 *
 * @category models
 * @since 0.1.0
 */
export interface Constant {
  readonly kind: "constant"
  readonly value: number
}

/**
 * Linear interpolation from `initValue` to `endValue` (`optax.linear_schedule`):
 * with `c = clip(t − B, 0, T)`, value `(I − E)·(1 − c/T) + E`. Linear decay to
 * zero is `endValue: 0`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Linear {
  readonly kind: "linear"
  readonly initValue: number
  readonly endValue: number
  /** T > 0: steps over which the value moves from `initValue` to `endValue`. */
  readonly transitionSteps: number
  /** B ≥ 0: steps held at `initValue` before the transition starts. */
  readonly transitionBegin: number
}

/**
 * Polynomial interpolation (`optax.polynomial_schedule`): with
 * `c = clip(t − B, 0, T)`, value `(I − E)·(1 − c/T)^P + E`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Polynomial {
  readonly kind: "polynomial"
  readonly initValue: number
  readonly endValue: number
  /** P > 0. */
  readonly power: number
  readonly transitionSteps: number
  readonly transitionBegin: number
}

/**
 * Exponential decay (`optax.exponential_decay`): with `d = t − B` and
 * `p = d/T` (`⌊d/T⌋` when `staircase`), value `I` for `d ≤ 0` and `I·r^p`
 * after; clipped below by `endValue` when `r < 1`, above when `r > 1`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Exponential {
  readonly kind: "exponential"
  readonly initValue: number
  /** T > 0. */
  readonly transitionSteps: number
  /** r > 0 (r < 1 decays, r > 1 grows). */
  readonly decayRate: number
  readonly transitionBegin: number
  readonly staircase: boolean
  /** Optional bound: a floor when `decayRate < 1`, a ceiling when `decayRate > 1`. */
  readonly endValue?: number
}

/**
 * Cosine decay (`optax.cosine_decay_schedule`, Loshchilov & Hutter, "SGDR",
 * 2017): with `c = min(t, T)`,
 * value `I·((1 − α)·(½(1 + cos(π·c/T)))^p + α)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Cosine {
  readonly kind: "cosine"
  readonly initValue: number
  /** T > 0. */
  readonly decaySteps: number
  /** α ∈ [0, 1]: the final value is `α·I`. */
  readonly alpha: number
  /** p > 0. */
  readonly exponent: number
}

/**
 * Linear warmup from `initValue` to `peakValue` over `warmupSteps` W, then
 * cosine decay to `endValue` over the remaining `decaySteps − W` steps
 * (`optax.warmup_cosine_decay_schedule`): `join([linear(I → P, W),
 * cosine(P, D − W, α = E/P)], [W])` (α = 0 when P = 0).
 *
 * @category models
 * @since 0.1.0
 */
export interface WarmupCosine {
  readonly kind: "warmupCosine"
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  /** Total length D including the warmup; D > W. */
  readonly decaySteps: number
  readonly endValue: number
  readonly exponent: number
}

/**
 * Linear warmup then linear decay (triangular schedule; no Optax function):
 * `join([linear(I → P, W), linear(P → E, D − W)], [W])`.
 *
 * @category models
 * @since 0.1.0
 */
export interface WarmupLinear {
  readonly kind: "warmupLinear"
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  /** Total length D including the warmup; D > W. */
  readonly decaySteps: number
  readonly endValue: number
}

/**
 * Warmup–stable–decay (WSD; Hu et al., "MiniCPM", 2024; Hägele et al., 2024;
 * no Optax function): linear warmup `I → P` over W steps, constant `P`, then
 * decay `P → E` over the last `K = ⌊f·N⌋` of `totalSteps` N steps, linear or
 * cosine: `join([linear(I → P, W), constant(P), decay], [W, N − K])` where
 * decay is `linear(P → E, K)` or `cosine(P, K, α = E/P)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface WarmupStableDecay {
  readonly kind: "warmupStableDecay"
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  readonly totalSteps: number
  /** f ∈ (0, 1] with ⌊f·N⌋ ≥ 1 and W ≤ N − ⌊f·N⌋. */
  readonly decayFraction: number
  readonly endValue: number
  readonly decayShape: "linear" | "cosine"
}

/**
 * Piecewise constant (`optax.piecewise_constant_schedule`): `initValue` times
 * the product of every `scales[i]` with `t ≥ boundaries[i]`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PiecewiseConstant {
  readonly kind: "piecewiseConstant"
  readonly initValue: number
  /** Strictly increasing step counts. */
  readonly boundaries: ReadonlyArray<number>
  /** Non-negative factors, one per boundary. */
  readonly scales: ReadonlyArray<number>
}

/**
 * Concatenation (`optax.join_schedules`): `schedules[0](t)` for
 * `t < boundaries[0]`, and `schedules[i](t − boundaries[i − 1])` from
 * `boundaries[i − 1]` on: each later schedule sees the steps since its
 * boundary.
 *
 * @category models
 * @since 0.1.0
 */
export interface Join {
  readonly kind: "join"
  readonly schedules: ReadonlyArray<Schedule>
  /** Non-decreasing, one fewer than `schedules`. */
  readonly boundaries: ReadonlyArray<number>
}

/**
 * One-cycle schedule (`optax.cosine_onecycle_schedule`; Smith & Topin,
 * "Super-Convergence", 2017): cosine interpolation from `P/div` up to `P` over
 * the first `⌊pctStart·T⌋` steps, then down to `P/(div·finalDiv)` at step T,
 * constant after. Between accumulated values `a → b` over steps `[s, e)` the
 * value is `b + (a − b)/2·(cos(π·(t − s)/max(e − s, 1)) + 1)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface OneCycle {
  readonly kind: "oneCycle"
  readonly transitionSteps: number
  readonly peakValue: number
  /** ∈ (0, 1). */
  readonly pctStart: number
  readonly divFactor: number
  readonly finalDivFactor: number
}

/**
 * REX (Chen, Wolfe & Kyrillidis, "REX: Revisiting Budgeted Training with an
 * Improved Schedule", MLSys 2022; no Optax function): with
 * `z = clip(t, 0, T)/T`, value `I·(1 − z)/(½ + (1 − z)/2)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Rex {
  readonly kind: "rex"
  readonly initValue: number
  /** T > 0: the training budget; the value is 0 from step T on. */
  readonly totalSteps: number
}

/**
 * One value per step (no Optax function): `values[⌊t⌋]` for
 * `0 ≤ t < values.length`, `values[0]` before and the last value after.
 * Produced by `RefinedSchedule.fromGradientNorms`; any per-step table (e.g.
 * a learning rate exported from another framework) fits.
 *
 * @category models
 * @since 0.1.0
 */
export interface Tabulated {
  readonly kind: "tabulated"
  /** Finite numbers, at least one. */
  readonly values: ReadonlyArray<number>
}

/**
 * A schedule: a plain, JSON-serializable value, discriminated on `kind`.
 *
 * @category models
 * @since 0.1.0
 */
export type Schedule =
  | Constant
  | Linear
  | Polynomial
  | Exponential
  | Cosine
  | WarmupCosine
  | WarmupLinear
  | WarmupStableDecay
  | PiecewiseConstant
  | Join
  | OneCycle
  | Rex
  | Tabulated

/**
 * Every `kind`, in declaration order.
 *
 * @category models
 * @since 0.1.0
 */
export const kinds: ReadonlyArray<Schedule["kind"]> = [
  "constant",
  "linear",
  "polynomial",
  "exponential",
  "cosine",
  "warmupCosine",
  "warmupLinear",
  "warmupStableDecay",
  "piecewiseConstant",
  "join",
  "oneCycle",
  "rex",
  "tabulated"
]

// ---------------------------------------------------------------------------
// Validation: one checker over `unknown`, shared by constructors, fromJSON and
// isSchedule.

type Rec = { readonly [k: string]: unknown }

const fail = (operation: string, field: string, value: unknown, requirement: string): never => {
  throw new Errors.InvalidOptions({ operation, field, value, requirement })
}

const finite = (op: string, r: Rec, field: string): number => {
  const v = r[field]
  if (typeof v !== "number" || !Number.isFinite(v)) fail(op, field, v, "a finite number")
  return v as number
}

const positive = (op: string, r: Rec, field: string): number => {
  const v = r[field]
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(op, field, v, "a finite number > 0")
  return v as number
}

const count = (op: string, r: Rec, field: string, min: number): number => {
  const v = r[field]
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    fail(op, field, v, `an integer ≥ ${min}`)
  }
  return v as number
}

const numbers = (op: string, r: Rec, field: string): ReadonlyArray<number> => {
  const v = r[field]
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
    fail(op, field, v, "an array of finite numbers")
  }
  return v as ReadonlyArray<number>
}

const only = (op: string, r: Rec, allowed: ReadonlyArray<string>): void => {
  for (const k of Object.keys(r)) if (!allowed.includes(k)) fail(op, k, r[k], "absent (unknown field)")
}

const check = (op: string, value: unknown): void => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(op, "schedule", value, "a schedule object")
  }
  const r = value as Rec
  switch (r.kind) {
    case "constant":
      only(op, r, ["kind", "value"])
      finite(op, r, "value")
      return
    case "linear":
    case "polynomial":
      only(op, r, ["kind", "initValue", "endValue", "transitionSteps", "transitionBegin", "power"])
      finite(op, r, "initValue")
      finite(op, r, "endValue")
      count(op, r, "transitionSteps", 1)
      count(op, r, "transitionBegin", 0)
      if (r.kind === "polynomial") positive(op, r, "power")
      else if ("power" in r) fail(op, "power", r.power, "absent for a linear schedule")
      return
    case "exponential": {
      only(op, r, [
        "kind",
        "initValue",
        "transitionSteps",
        "decayRate",
        "transitionBegin",
        "staircase",
        "endValue"
      ])
      finite(op, r, "initValue")
      count(op, r, "transitionSteps", 1)
      positive(op, r, "decayRate")
      count(op, r, "transitionBegin", 0)
      if (typeof r.staircase !== "boolean") fail(op, "staircase", r.staircase, "a boolean")
      if ("endValue" in r) finite(op, r, "endValue")
      return
    }
    case "cosine": {
      only(op, r, ["kind", "initValue", "decaySteps", "alpha", "exponent"])
      finite(op, r, "initValue")
      count(op, r, "decaySteps", 1)
      const alpha = finite(op, r, "alpha")
      if (alpha < 0 || alpha > 1) fail(op, "alpha", alpha, "in [0, 1]")
      positive(op, r, "exponent")
      return
    }
    case "warmupCosine":
    case "warmupLinear": {
      const fields = ["kind", "initValue", "peakValue", "warmupSteps", "decaySteps", "endValue"]
      only(op, r, r.kind === "warmupCosine" ? [...fields, "exponent"] : fields)
      finite(op, r, "initValue")
      finite(op, r, "peakValue")
      finite(op, r, "endValue")
      const w = count(op, r, "warmupSteps", 0)
      count(op, r, "decaySteps", w + 1)
      if (r.kind === "warmupCosine") positive(op, r, "exponent")
      return
    }
    case "warmupStableDecay": {
      only(op, r, [
        "kind",
        "initValue",
        "peakValue",
        "warmupSteps",
        "totalSteps",
        "decayFraction",
        "endValue",
        "decayShape"
      ])
      finite(op, r, "initValue")
      finite(op, r, "peakValue")
      finite(op, r, "endValue")
      const w = count(op, r, "warmupSteps", 0)
      const n = count(op, r, "totalSteps", 1)
      const f = positive(op, r, "decayFraction")
      if (f > 1 || Math.trunc(f * n) < 1) fail(op, "decayFraction", f, `in (0, 1] with ⌊f·totalSteps⌋ ≥ 1`)
      if (w > n - Math.trunc(f * n)) {
        fail(op, "warmupSteps", w, `≤ totalSteps − ⌊decayFraction·totalSteps⌋ = ${n - Math.trunc(f * n)}`)
      }
      if (r.decayShape !== "linear" && r.decayShape !== "cosine") {
        fail(op, "decayShape", r.decayShape, `"linear" or "cosine"`)
      }
      return
    }
    case "piecewiseConstant": {
      only(op, r, ["kind", "initValue", "boundaries", "scales"])
      finite(op, r, "initValue")
      const b = numbers(op, r, "boundaries")
      const s = numbers(op, r, "scales")
      if (s.length !== b.length) fail(op, "scales", s, `one per boundary (${b.length})`)
      for (let i = 0; i < b.length; i++) {
        if (i > 0 && !(b[i]! > b[i - 1]!)) fail(op, "boundaries", b, "strictly increasing")
        if (s[i]! < 0) fail(op, "scales", s, "non-negative")
      }
      return
    }
    case "join": {
      only(op, r, ["kind", "schedules", "boundaries"])
      const schedules = r.schedules
      if (!Array.isArray(schedules) || schedules.length === 0) {
        fail(op, "schedules", schedules, "a non-empty array of schedules")
      }
      const b = numbers(op, r, "boundaries")
      const list = schedules as ReadonlyArray<unknown>
      if (b.length !== list.length - 1)
        fail(op, "boundaries", b, `one fewer than schedules (${list.length - 1})`)
      for (let i = 1; i < b.length; i++) {
        if (b[i]! < b[i - 1]!) fail(op, "boundaries", b, "non-decreasing")
      }
      for (const s of list) check(op, s)
      return
    }
    case "oneCycle": {
      only(op, r, ["kind", "transitionSteps", "peakValue", "pctStart", "divFactor", "finalDivFactor"])
      count(op, r, "transitionSteps", 1)
      finite(op, r, "peakValue")
      const p = positive(op, r, "pctStart")
      if (p >= 1) fail(op, "pctStart", p, "in (0, 1)")
      positive(op, r, "divFactor")
      positive(op, r, "finalDivFactor")
      return
    }
    case "rex":
      only(op, r, ["kind", "initValue", "totalSteps"])
      finite(op, r, "initValue")
      count(op, r, "totalSteps", 1)
      return
    case "tabulated":
      only(op, r, ["kind", "values"])
      if (numbers(op, r, "values").length === 0)
        fail(op, "values", r.values, "a non-empty array of finite numbers")
      return
    default:
      fail(op, "kind", r.kind, `one of ${kinds.join(", ")}`)
  }
}

/**
 * Validates an untrusted value (e.g. parsed JSON) as a schedule and returns
 * it typed; throws `Errors.InvalidOptions` naming the first offending field
 * (unknown fields are rejected too).
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromJSON = (value: unknown): Schedule => {
  check("Schedules.fromJSON", value)
  return value as Schedule
}

/**
 * Type guard: whether `value` is a valid schedule (the checks of
 * {@link fromJSON}, without throwing). No Schema needed.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSchedule = (value: unknown): value is Schedule => {
  try {
    check("Schedules.isSchedule", value)
    return true
  } catch {
    return false
  }
}

/** −0 → +0 (JSON writes −0 as 0), recursively; arrays are copied. */
const positiveZeros = (v: unknown): unknown => {
  if (typeof v === "number") return v === 0 ? 0 : v
  if (Array.isArray(v)) return v.map(positiveZeros)
  if (typeof v === "object" && v !== null) {
    const out: { [k: string]: unknown } = {}
    for (const [k, x] of Object.entries(v)) out[k] = positiveZeros(x)
    return out
  }
  return v
}

/**
 * Validates, then returns a copy with −0 replaced by +0: JSON has no −0, so
 * this is what makes every constructed schedule survive a JSON round-trip
 * unchanged (the value of a schedule may differ only in the sign of a zero).
 */
const make = <S extends Schedule>(operation: string, s: S): S => {
  check(operation, s)
  return positiveZeros(s) as S
}

// ---------------------------------------------------------------------------
// Constructors.

/**
 * `constant(value)`: `value` at every step (`optax.constant_schedule`).
 *
 * @category schedules
 * @since 0.1.0
 */
export const constant = (value: number): Constant => make("Schedules.constant", { kind: "constant", value })

/**
 * Linear schedule `I → E` over `transitionSteps` after `transitionBegin`
 * (default 0) held steps (`optax.linear_schedule`). See {@link Linear}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const linear = (options: {
  readonly initValue: number
  readonly endValue: number
  readonly transitionSteps: number
  readonly transitionBegin?: number
}): Linear =>
  make("Schedules.linear", {
    kind: "linear",
    initValue: options.initValue,
    endValue: options.endValue,
    transitionSteps: options.transitionSteps,
    transitionBegin: options.transitionBegin ?? 0
  })

/**
 * Linear decay from `initValue` to 0 over `transitionSteps` (a {@link Linear}
 * with `endValue: 0`).
 *
 * @category schedules
 * @since 0.1.0
 */
export const linearDecay = (initValue: number, transitionSteps: number): Linear =>
  linear({ initValue, endValue: 0, transitionSteps })

/**
 * Polynomial schedule (`optax.polynomial_schedule`). See {@link Polynomial}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const polynomial = (options: {
  readonly initValue: number
  readonly endValue: number
  readonly power: number
  readonly transitionSteps: number
  readonly transitionBegin?: number
}): Polynomial =>
  make("Schedules.polynomial", {
    kind: "polynomial",
    initValue: options.initValue,
    endValue: options.endValue,
    power: options.power,
    transitionSteps: options.transitionSteps,
    transitionBegin: options.transitionBegin ?? 0
  })

/**
 * Exponential decay (`optax.exponential_decay`); `transitionBegin` defaults
 * to 0, `staircase` to false, no `endValue` bound by default. See
 * {@link Exponential}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const exponential = (options: {
  readonly initValue: number
  readonly transitionSteps: number
  readonly decayRate: number
  readonly transitionBegin?: number
  readonly staircase?: boolean
  readonly endValue?: number
}): Exponential =>
  make("Schedules.exponential", {
    kind: "exponential",
    initValue: options.initValue,
    transitionSteps: options.transitionSteps,
    decayRate: options.decayRate,
    transitionBegin: options.transitionBegin ?? 0,
    staircase: options.staircase ?? false,
    ...(options.endValue === undefined ? {} : { endValue: options.endValue })
  })

/**
 * Cosine decay (`optax.cosine_decay_schedule`); `alpha` defaults to 0,
 * `exponent` to 1. See {@link Cosine}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const cosine = (options: {
  readonly initValue: number
  readonly decaySteps: number
  readonly alpha?: number
  readonly exponent?: number
}): Cosine =>
  make("Schedules.cosine", {
    kind: "cosine",
    initValue: options.initValue,
    decaySteps: options.decaySteps,
    alpha: options.alpha ?? 0,
    exponent: options.exponent ?? 1
  })

/**
 * Linear warmup then cosine decay (`optax.warmup_cosine_decay_schedule`);
 * `endValue` defaults to 0, `exponent` to 1. See {@link WarmupCosine}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const warmupCosine = (options: {
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  readonly decaySteps: number
  readonly endValue?: number
  readonly exponent?: number
}): WarmupCosine =>
  make("Schedules.warmupCosine", {
    kind: "warmupCosine",
    initValue: options.initValue,
    peakValue: options.peakValue,
    warmupSteps: options.warmupSteps,
    decaySteps: options.decaySteps,
    endValue: options.endValue ?? 0,
    exponent: options.exponent ?? 1
  })

/**
 * Linear warmup then linear decay; `endValue` defaults to 0. See
 * {@link WarmupLinear}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const warmupLinear = (options: {
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  readonly decaySteps: number
  readonly endValue?: number
}): WarmupLinear =>
  make("Schedules.warmupLinear", {
    kind: "warmupLinear",
    initValue: options.initValue,
    peakValue: options.peakValue,
    warmupSteps: options.warmupSteps,
    decaySteps: options.decaySteps,
    endValue: options.endValue ?? 0
  })

/**
 * Warmup–stable–decay; `initValue` and `endValue` default to 0,
 * `decayFraction` to 0.2, `decayShape` to "linear". See
 * {@link WarmupStableDecay}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const warmupStableDecay = (options: {
  readonly peakValue: number
  readonly warmupSteps: number
  readonly totalSteps: number
  readonly initValue?: number
  readonly decayFraction?: number
  readonly endValue?: number
  readonly decayShape?: "linear" | "cosine"
}): WarmupStableDecay =>
  make("Schedules.warmupStableDecay", {
    kind: "warmupStableDecay",
    initValue: options.initValue ?? 0,
    peakValue: options.peakValue,
    warmupSteps: options.warmupSteps,
    totalSteps: options.totalSteps,
    decayFraction: options.decayFraction ?? 0.2,
    endValue: options.endValue ?? 0,
    decayShape: options.decayShape ?? "linear"
  })

/**
 * Piecewise constant (`optax.piecewise_constant_schedule`), boundaries as
 * parallel arrays (sorted, strictly increasing) rather than Optax's dict. See
 * {@link PiecewiseConstant}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const piecewiseConstant = (options: {
  readonly initValue: number
  readonly boundaries: ReadonlyArray<number>
  readonly scales: ReadonlyArray<number>
}): PiecewiseConstant =>
  make("Schedules.piecewiseConstant", {
    kind: "piecewiseConstant",
    initValue: options.initValue,
    boundaries: [...options.boundaries],
    scales: [...options.scales]
  })

/**
 * `join(schedules, boundaries)` (`optax.join_schedules`): the later schedule
 * sees `step − boundary`. See {@link Join}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const join = (schedules: ReadonlyArray<Schedule>, boundaries: ReadonlyArray<number>): Join =>
  make("Schedules.join", { kind: "join", schedules: [...schedules], boundaries: [...boundaries] })

/**
 * One-cycle (`optax.cosine_onecycle_schedule`); defaults as Optax:
 * `pctStart` 0.3, `divFactor` 25, `finalDivFactor` 1e4. See {@link OneCycle}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const oneCycle = (options: {
  readonly transitionSteps: number
  readonly peakValue: number
  readonly pctStart?: number
  readonly divFactor?: number
  readonly finalDivFactor?: number
}): OneCycle =>
  make("Schedules.oneCycle", {
    kind: "oneCycle",
    transitionSteps: options.transitionSteps,
    peakValue: options.peakValue,
    pctStart: options.pctStart ?? 0.3,
    divFactor: options.divFactor ?? 25,
    finalDivFactor: options.finalDivFactor ?? 1e4
  })

/**
 * REX schedule over a budget of `totalSteps`. See {@link Rex}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const rex = (options: { readonly initValue: number; readonly totalSteps: number }): Rex =>
  make("Schedules.rex", { kind: "rex", initValue: options.initValue, totalSteps: options.totalSteps })

/**
 * A per-step table: `values[⌊step⌋]`, clamped to the first and last entries.
 * The array is copied. See {@link Tabulated}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const tabulated = (values: ReadonlyArray<number>): Tabulated =>
  make("Schedules.tabulated", { kind: "tabulated", values: [...values] })

// ---------------------------------------------------------------------------
// Evaluation. Each branch repeats Optax's operations in Optax's order.

/** optax.polynomial_schedule; power 1 is `linear_schedule` (integer_pow(x, 1) = x). */
const polynomialAt = (i: number, e: number, p: number, steps: number, begin: number, t: number): number => {
  if (steps <= 0) return i
  const b = Math.max(begin, 0)
  const c = Math.min(Math.max(t - b, 0), steps)
  const frac = 1 - c / steps
  return (i - e) * (p === 1 ? frac : frac ** p) + e
}

/** optax.cosine_decay_schedule. */
const cosineAt = (i: number, steps: number, alpha: number, p: number, t: number): number => {
  const c = Math.min(t, steps)
  const decay = 0.5 * (1 + Math.cos((Math.PI * c) / steps))
  return i * ((1 - alpha) * (p === 1 ? decay : decay ** p) + alpha)
}

/** optax.exponential_decay. */
const exponentialAt = (s: Exponential, t: number): number => {
  const i = s.initValue
  if (s.transitionSteps <= 0 || s.decayRate === 0) return i
  const d = t - Math.max(s.transitionBegin, 0)
  let p = d / s.transitionSteps
  if (s.staircase) p = Math.floor(p)
  let v = d <= 0 ? i : i * s.decayRate ** p
  if (s.endValue !== undefined) v = s.decayRate < 1 ? Math.max(v, s.endValue) : Math.min(v, s.endValue)
  return v
}

/** optax.cosine_onecycle_schedule via piecewise_interpolate_schedule("cosine"). */
const oneCycleAt = (s: OneCycle, t: number): number => {
  const T = s.transitionSteps
  const b1 = Math.trunc(s.pctStart * T)
  const v0 = s.peakValue / s.divFactor
  const v1 = v0 * s.divFactor
  const v2 = v1 * (1 / (s.divFactor * s.finalDivFactor))
  // bounds (0, b1, T): the interval containing t interpolates, past T the last value.
  if (t >= T) return v2
  if (t >= b1) {
    const pct = (t - b1) / Math.max(T - b1, 1)
    return v2 + ((v1 - v2) / 2) * (Math.cos(Math.PI * pct) + 1)
  }
  if (t >= 0) {
    const pct = t / Math.max(b1, 1)
    return v1 + ((v0 - v1) / 2) * (Math.cos(Math.PI * pct) + 1)
  }
  return 0
}

/**
 * The value of `schedule` at `step`. The schedule is trusted (built by a
 * constructor or {@link fromJSON}); evaluation allocates nothing except for
 * `join` recursion.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const evaluate = (schedule: Schedule, step: number): number => {
  const s = schedule
  switch (s.kind) {
    case "constant":
      return s.value
    case "linear":
      return polynomialAt(s.initValue, s.endValue, 1, s.transitionSteps, s.transitionBegin, step)
    case "polynomial":
      return polynomialAt(s.initValue, s.endValue, s.power, s.transitionSteps, s.transitionBegin, step)
    case "exponential":
      return exponentialAt(s, step)
    case "cosine":
      return cosineAt(s.initValue, s.decaySteps, s.alpha, s.exponent, step)
    case "warmupCosine": {
      if (step < s.warmupSteps) return polynomialAt(s.initValue, s.peakValue, 1, s.warmupSteps, 0, step)
      const alpha = s.peakValue === 0 ? 0 : s.endValue / s.peakValue
      return cosineAt(s.peakValue, s.decaySteps - s.warmupSteps, alpha, s.exponent, step - s.warmupSteps)
    }
    case "warmupLinear":
      if (step < s.warmupSteps) return polynomialAt(s.initValue, s.peakValue, 1, s.warmupSteps, 0, step)
      return polynomialAt(s.peakValue, s.endValue, 1, s.decaySteps - s.warmupSteps, 0, step - s.warmupSteps)
    case "warmupStableDecay": {
      if (step < s.warmupSteps) return polynomialAt(s.initValue, s.peakValue, 1, s.warmupSteps, 0, step)
      const k = Math.trunc(s.decayFraction * s.totalSteps)
      const start = s.totalSteps - k
      if (step < start) return s.peakValue
      if (s.decayShape === "linear") return polynomialAt(s.peakValue, s.endValue, 1, k, 0, step - start)
      const alpha = s.peakValue === 0 ? 0 : s.endValue / s.peakValue
      return cosineAt(s.peakValue, k, alpha, 1, step - start)
    }
    case "piecewiseConstant": {
      let v = s.initValue
      for (let i = 0; i < s.boundaries.length; i++) if (step >= s.boundaries[i]!) v = s.scales[i]! * v
      return v
    }
    case "join": {
      let i = 0
      while (i < s.boundaries.length && step >= s.boundaries[i]!) i++
      return evaluate(s.schedules[i]!, i === 0 ? step : step - s.boundaries[i - 1]!)
    }
    case "oneCycle":
      return oneCycleAt(s, step)
    case "rex": {
      const T = s.totalSteps
      const z = Math.min(Math.max(step, 0), T) / T
      const oneMinus = 1 - z
      return (s.initValue * oneMinus) / (0.5 + oneMinus / 2)
    }
    case "tabulated": {
      const last = s.values.length - 1
      return s.values[step >= last ? last : step > 0 ? Math.floor(step) : 0]!
    }
  }
}

/**
 * The schedule as a function `step ↦ value` (what Optax calls a schedule),
 * for APIs that take `(step: number) => number`.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const toFunction =
  (schedule: Schedule): ((step: number) => number) =>
  (step) =>
    evaluate(schedule, step)
