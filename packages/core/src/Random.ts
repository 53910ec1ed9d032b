/**
 * Seeded, splittable random numbers: the counter-based Threefry-2x32 generator of
 * JAX and Random123.
 *
 * Experiments must be reproducible: the same seed has to give the same initial
 * points, noise, minibatches and synthetic problems on every run, in every
 * process and worker, in every JavaScript engine. And independent parts of an
 * experiment (restarts, trials, parallel workers, the steps of a stochastic
 * solver) each need their own stream without sharing a mutable generator whose
 * output depends on call order. A counter-based generator solves both (Salmon,
 * Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011;
 * JAX's PRNG design note, `jax/docs/jep/263-prng.md`):
 *
 * - A {@link Key} is a 64-bit value, two 32-bit words, held as a frozen
 *   `[hi, lo]` pair of numbers: immutable, and already JSON (`[0, 42]`).
 * - T(key, counter) is Threefry-2x32-20, a keyed bijection of 64-bit blocks:
 *   20 rounds of x₀ ← x₀ + x₁, x₁ ← rotl(x₁, R) ⊕ x₀ on two 32-bit words, with
 *   rotations R = 13, 15, 26, 6 then 17, 29, 16, 24, and the key words (plus the
 *   parity word k₀ ⊕ k₁ ⊕ 0x1BD11BDA and a round counter) added every 4 rounds.
 * - The numbers drawn from a key are a pure function of it: draw i uses the
 *   block T(key, i) of the 64-bit counter i, so element i does
 *   not depend on how many elements are drawn, in which order, or in how many
 *   pieces (`uniform(k, 10)` is a prefix of `uniform(k, 1000)`).
 * - New keys come from hashing, never from state: `split(key, n)[i] = T(key, i)`
 *   and `foldIn(key, d) = T(key, d)`. Threefry is a bijection of the counter for
 *   a fixed key, so the n keys of a split are always distinct.
 *
 * Use each key for one purpose only, as in JAX: split it (or fold in an index)
 * and use the children. `split(key, n)[i]`, `foldIn(key, i)` and draw i from
 * `key` are all built from the same block T(key, i), so drawing from a key that
 * has also been split reuses randomness.
 *
 * JAX compatibility, with JAX's defaults since 0.5 (`jax_threefry_partitionable`
 * on; pinned by `test/fixtures/random.json`, made with JAX 0.10.2):
 *
 * - bit for bit: `key(seed)` = `jax.random.PRNGKey(seed)`, `split` =
 *   `jax.random.split`, `foldIn` = `jax.random.fold_in`, `bits` =
 *   `jax.random.bits(key, (n,), uint32)`, `uniform` =
 *   `jax.random.uniform(key, (n,), float64)` (x64 enabled), also with
 *   `minval`/`maxval` as computed on JAX's CPU backend (XLA fuses the
 *   multiply–add there; this module emulates the fused operation exactly), and
 *   `bernoulli` = `jax.random.bernoulli(key, p, (n,))` with a float64 p;
 * - same uniforms and same transforms, but this module's own deterministic
 *   logarithm and normal quantile in place of XLA's: `normal`, `exponential`,
 *   `gumbel`, `laplace` (they agree with JAX to about 1e-13 relative, and with
 *   correctly rounded references to a few ulp);
 * - not JAX's algorithms: `integers`, `permutation`, `choice`.
 *
 * Every sampler writes into a caller-given array (`uniform(key, out)`) or, given
 * a length, allocates one with `Vector.zeros`; the values are the same either
 * way. Arithmetic is 32-bit integer (Threefry) or IEEE 754 double with
 * `+ − × ÷ √` and this package's own `log` (BigInt for uniform ranges beyond
 * 2^±900), never `Math.random`, the clock, or engine-dependent `Math.log`, so
 * results are identical across engines. Nothing allocates per element.
 *
 * @since 0.1.0
 */
import { InvalidOptions } from "./Errors.ts"
import {
  fusedMultiplyAdd,
  fusedMultiplyAddExact,
  log,
  log1p,
  nextDown,
  probitSymmetric
} from "./internal/detmath.ts"
import { threefryBlock, threefryBlocks, threefryWord } from "./internal/threefry.ts"
import { type Vector, zeros } from "./Vector.ts"

// ---------------------------------------------------------------------------
// Models

/**
 * A PRNG key: the two 32-bit words `[hi, lo]` of a 64-bit Threefry key, each an
 * integer in [0, 2^32 − 1].
 *
 * It is the same data as JAX's `jax.random.key_data(key)` (or a raw
 * `PRNGKey`), so `JSON.stringify(key)` gives `"[0,42]"` and a key read back from
 * JSON goes through {@link fromKeyData}. Keys made by this module are frozen.
 *
 * @category models
 * @since 0.1.0
 */
export type Key = readonly [hi: number, lo: number]

/**
 * Integer-valued outputs accepted by `bernoulli`, `integers`, `permutation`
 * and `choice`. The sampled values must be representable in the array's type;
 * the samplers check this before drawing.
 *
 * @category models
 * @since 0.1.0
 */
export type IntegerArray = Float64Array | Int32Array | Uint32Array | Uint8Array

/**
 * Options of {@link uniform}: the half-open interval [low, high).
 *
 * @category models
 * @since 0.1.0
 */
export interface UniformOptions {
  /** Inclusive lower end; default 0. */
  readonly low?: number
  /** Exclusive upper end; default 1. Must exceed `low`, with `high − low` finite. */
  readonly high?: number
}

/**
 * Options of the location–scale families {@link normal}, {@link gumbel} and
 * {@link laplace}: the sample is `location + scale · z` for a standard variate z.
 *
 * @category models
 * @since 0.1.0
 */
export interface LocationScaleOptions {
  /** Shift; default 0. For `normal` it is the mean. */
  readonly location?: number
  /** Scale ≥ 0; default 1. For `normal` it is the standard deviation. */
  readonly scale?: number
}

/**
 * Options of {@link exponential}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ExponentialOptions {
  /** Scale ≥ 0, the mean (1/rate); default 1. */
  readonly scale?: number
}

/**
 * Options of {@link bernoulli}.
 *
 * @category models
 * @since 0.1.0
 */
export interface BernoulliOptions {
  /** Probability of a 1, in [0, 1]; default 0.5. */
  readonly probability?: number
}

/**
 * Options of {@link integers}: the integer range [low, high).
 *
 * @category models
 * @since 0.1.0
 */
export interface IntegersOptions {
  /** Inclusive lower end, an integer; default 0. */
  readonly low?: number
  /** Exclusive upper end, an integer with 1 ≤ high − low ≤ 2^32. */
  readonly high: number
}

/**
 * Options of {@link choice}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChoiceOptions {
  /** Draw with replacement (independent draws); default true. */
  readonly replace?: boolean
  /**
   * Probability of each index, length = population, entries in [0, 1] summing
   * to 1 within √ε ≈ 1.5e-8 (NumPy's rule). Omitted: all indices equally likely.
   */
  readonly probabilities?: ArrayLike<number>
}

/**
 * The default of every optional sampler option, in one place.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  uniform: { low: 0, high: 1 },
  normal: { location: 0, scale: 1 },
  exponential: { scale: 1 },
  gumbel: { location: 0, scale: 1 },
  laplace: { location: 0, scale: 1 },
  bernoulli: { probability: 0.5 },
  integers: { low: 0 },
  choice: { replace: true }
} as const

// ---------------------------------------------------------------------------
// Internal constants and scratch space

const TWO32 = 4294967296
/** 2^−52: the spacing of the uniform grid {m·2^−52 : 0 ≤ m < 2^52}. */
const EPSILON = 2.220446049250313e-16
/** −1 + 2^−53 = nextafter(−1, 0): JAX's lower end for normal and Laplace uniforms. */
const SYMMETRIC_LOW = -0.9999999999999999
/** The smallest positive normal double: JAX's lower end for Gumbel uniforms. */
const TINY = 2.2250738585072014e-308
/** Most elements one call may draw: one 32-bit counter word per element. */
const MAX_LENGTH = TWO32
/** NumPy's tolerance on the sum of choice probabilities: √(2^−52). */
const PROBABILITY_SUM_TOLERANCE = 1.4901161193847656e-8

/** Blocks per chunk: samplers hash CHUNK counters at a time into `scratch`. */
const CHUNK = 256
/**
 * Threefry output for one chunk, reused by every call (calls are synchronous
 * and never re-enter each other, so sharing it is safe and saves allocation).
 */
const scratch = new Uint32Array(2 * CHUNK)

/** The uniform double m·2^−52 of chunk block j, m = the top 52 of its 64 bits (JAX's float64 recipe). */
const unitAt = (j: number): number => (scratch[2 * j]! * 1048576 + (scratch[2 * j + 1]! >>> 12)) * EPSILON

/** The 32-bit word JAX's `bits` takes from chunk block j: first word XOR second word. */
const wordAt = (j: number): number => (scratch[2 * j]! ^ scratch[2 * j + 1]!) >>> 0

// ---------------------------------------------------------------------------
// Validation helpers

const isUint32 = (v: unknown): v is number => typeof v === "number" && v >>> 0 === v

const checkKey = (operation: string, key: Key): void => {
  if (key === null || typeof key !== "object" || key.length !== 2 || !isUint32(key[0]) || !isUint32(key[1])) {
    throw new InvalidOptions({
      operation,
      field: "key",
      value: key,
      requirement: "a key: two integers in [0, 2^32 − 1], as made by Random.key"
    })
  }
}

const invalid = (operation: string, field: string, value: unknown, requirement: string): InvalidOptions =>
  new InvalidOptions({ operation, field, value, requirement })

const checkFinite = (operation: string, field: string, value: number): void => {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalid(operation, field, value, "a finite number")
  }
}

const checkScale = (operation: string, value: number): void => {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalid(operation, "scale", value, "a finite number ≥ 0")
  }
}

/** The array to fill: `out` itself, or a fresh `Vector.zeros(out)` for a length. */
const target = <A extends ArrayLike<number>>(operation: string, out: A | number): A | Vector => {
  if (typeof out === "number") {
    if (!Number.isSafeInteger(out) || out < 0 || out > MAX_LENGTH) {
      throw invalid(operation, "out", out, "an array or a length, an integer in [0, 2^32]")
    }
    return zeros(out)
  }
  if (out.length > MAX_LENGTH) {
    throw invalid(operation, "out", out.length, "an array of at most 2^32 elements")
  }
  return out
}

/** [min, max] of the integers an output array can hold exactly. */
const integerRange = (out: IntegerArray): readonly [number, number] => {
  if (out instanceof Uint8Array) return [0, 255]
  if (out instanceof Int32Array) return [-2147483648, 2147483647]
  if (out instanceof Uint32Array) return [0, 4294967295]
  return [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
}

const checkFits = (operation: string, out: IntegerArray, low: number, high: number): void => {
  const [min, max] = integerRange(out)
  if (low < min || high > max) {
    throw invalid(
      operation,
      "out",
      out.constructor.name,
      `an array type that holds [${low}, ${high}] (this one holds [${min}, ${max}])`
    )
  }
}

// ---------------------------------------------------------------------------
// Keys

/**
 * The key of an integer seed: its 64 bits split as `[hi, lo]` =
 * `[⌊seed / 2^32⌋, seed mod 2^32]`, exactly `jax.random.PRNGKey(seed)` (with
 * the default threefry2x32 implementation).
 *
 * Seeds are integers in [0, 2^53 − 1] as numbers, or [0, 2^64 − 1] as bigints
 * (JAX takes 64-bit seeds only with `jax_enable_x64`). Negative seeds are
 * rejected: JAX maps them differently with and without x64.
 *
 * @example
 * key(42)   // [0, 42]
 * key(2n ** 32n + 5n)   // [1, 5]
 * @category constructors
 * @since 0.1.0
 */
export const key = (seed: number | bigint): Key => {
  if (typeof seed === "bigint") {
    if (seed < 0n || seed >= 18446744073709551616n) {
      throw invalid("Random.key", "seed", seed, "an integer in [0, 2^64 − 1]")
    }
    return Object.freeze([Number(seed >> 32n), Number(seed & 0xffffffffn)]) as Key
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw invalid("Random.key", "seed", seed, "an integer in [0, 2^53 − 1], or a bigint in [0, 2^64 − 1]")
  }
  return Object.freeze([Math.floor(seed / TWO32), seed >>> 0]) as Key
}

/**
 * A key from its two words, e.g. read back from JSON or taken from
 * `jax.random.key_data(key).tolist()`. Throws `InvalidOptions` unless `data` is
 * two integers in [0, 2^32 − 1].
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromKeyData = (data: ArrayLike<number>): Key => {
  const candidate = data as unknown as Key
  checkKey("Random.fromKeyData", candidate)
  return Object.freeze([candidate[0], candidate[1]]) as Key
}

/**
 * The key's words as a fresh mutable `[hi, lo]` pair (for storage or for
 * `jax.random.wrap_key_data(jnp.array(data, dtype=jnp.uint32))`).
 *
 * @category conversions
 * @since 0.1.0
 */
export const keyData = (key: Key): [number, number] => {
  checkKey("Random.keyData", key)
  return [key[0], key[1]]
}

/**
 * `n` new keys derived from `key`: key i is the Threefry block T(key, i), as
 * `jax.random.split(key, n)`.
 *
 * The keys are distinct from each other for every key and n (Threefry is a
 * bijection of the counter). Key i equals `foldIn(key, i)`, as in JAX.
 *
 * @example
 * const [init, noise] = split(key(0))
 * @category keys
 * @since 0.1.0
 */
export const split = (key: Key, n = 2): Array<Key> => {
  const operation = "Random.split"
  checkKey(operation, key)
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_LENGTH) {
    throw invalid(operation, "n", n, "an integer in [0, 2^32]")
  }
  const keys: Array<Key> = []
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], Math.floor(start / TWO32), start >>> 0, m, scratch)
    for (let j = 0; j < m; j++) keys.push(Object.freeze([scratch[2 * j]!, scratch[2 * j + 1]!]) as Key)
  }
  return keys
}

/**
 * A key derived from `key` and an integer `data` in [0, 2^32 − 1]: the Threefry
 * block T(key, data), as `jax.random.fold_in(key, data)`.
 *
 * Use it to key a loop (`foldIn(key, iteration)`) or a named sub-computation
 * without splitting ahead of time. Distinct data give distinct keys.
 *
 * @category keys
 * @since 0.1.0
 */
export const foldIn = (key: Key, data: number): Key => {
  const operation = "Random.foldIn"
  checkKey(operation, key)
  if (!isUint32(data)) {
    throw invalid(operation, "data", data, "an integer in [0, 2^32 − 1]")
  }
  threefryBlock(key[0], key[1], 0, data, scratch, 0)
  return Object.freeze([scratch[0]!, scratch[1]!]) as Key
}

// ---------------------------------------------------------------------------
// Raw bits and continuous samplers

/**
 * Fills `out` with uniform 32-bit words: `out[i] = w₀ ⊕ w₁` for the block
 * (w₀, w₁) = T(key, i), exactly `jax.random.bits(key, (n,), jnp.uint32)`.
 *
 * @category samplers
 * @since 0.1.0
 */
export const bits = (key: Key, out: Uint32Array): Uint32Array => {
  const operation = "Random.bits"
  checkKey(operation, key)
  const n = out.length
  if (n > MAX_LENGTH) throw invalid(operation, "out", n, "an array of at most 2^32 elements")
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) out[start + j] = scratch[2 * j]! ^ scratch[2 * j + 1]!
  }
  return out
}

/**
 * Uniform doubles on [low, high), bit for bit
 * `jax.random.uniform(key, (n,), jnp.float64, low, high)`.
 *
 * Element i takes the top 52 of the 64 bits of T(key, i) as the mantissa m of
 * u = m·2^−52 ∈ [0, 1) (JAX writes them under the exponent of 1.0 and
 * subtracts 1, which is the same number), then returns RN(u·(high − low) + low)
 * rounded once, as the fused multiply-add XLA emits on CPU (emulated exactly
 * here; see `internal/threefry.ts`). Rounding can carry that to `high` when the
 * interval is a few ulp wide; such values are replaced by the largest double
 * below `high`, so the result always lies in [low, high).
 *
 * Pass an array to fill it, or a length to allocate one.
 *
 * @example
 * uniform(key(0), 3)   // [0.41845711171638644, 0.21629545460551136, 0.9653214611189975]
 * uniform(key(1), zeros(100), { low: -1, high: 1 })
 * @category samplers
 * @since 0.1.0
 */
export const uniform = (key: Key, out: Float64Array | number, options: UniformOptions = {}): Vector => {
  const operation = "Random.uniform"
  checkKey(operation, key)
  const low = options.low ?? defaults.uniform.low
  const high = options.high ?? defaults.uniform.high
  checkFinite(operation, "low", low)
  checkFinite(operation, "high", high)
  if (!(high > low) || !Number.isFinite(high - low)) {
    throw invalid(operation, "high", high, `a number > low (${low}) with high − low finite`)
  }
  const x = target(operation, out)
  const n = x.length
  const width = high - low
  const below = nextDown(high)
  // [0, 1) needs no arithmetic; moderate ranges take the fast FMA emulation,
  // extreme magnitudes (beyond 2^±900) the exact BigInt one.
  const identity = low === 0 && width === 1
  // 2^−900 and 2^900 as literals: `**` is only approximated by the specification.
  const fast =
    width >= 1.1830521861667747e-271 &&
    width <= 8.452712498170644e270 &&
    Math.abs(low) <= 8.452712498170644e270
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      const u = unitAt(j)
      const v = identity ? u : fast ? fusedMultiplyAdd(u, width, low) : fusedMultiplyAddExact(u, width, low)
      x[start + j] = v < high ? v : below
    }
  }
  return x
}

/**
 * Normal variates `location + scale · z`, z standard normal, by inversion:
 * z = Φ⁻¹((1 + v)/2) = √2·erfinv(v) with v uniform on [−1 + 2^−53, 1), the
 * same v and the same formula as `jax.random.normal` (float64).
 *
 * Φ⁻¹ is Wichura's Algorithm AS 241 (Applied Statistics 37(3), 1988; rational
 * approximations in three regions, relative accuracy about 1e-16), evaluated
 * from v without rounding the probability, on this module's deterministic log.
 * JAX's XLA erfinv differs from it by up to about 1e-13 relative; correctly
 * rounded references by a few ulp. Inversion keeps one draw per element, so
 * `normal(k, n)` is a prefix of `normal(k, m)` for n ≤ m; |z| ≤ 8.3.
 *
 * @category samplers
 * @since 0.1.0
 */
export const normal = (key: Key, out: Float64Array | number, options: LocationScaleOptions = {}): Vector => {
  const operation = "Random.normal"
  checkKey(operation, key)
  const location = options.location ?? defaults.normal.location
  const scale = options.scale ?? defaults.normal.scale
  checkFinite(operation, "location", location)
  checkScale(operation, scale)
  const x = target(operation, out)
  const n = x.length
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      // JAX: uniform(minval = −1 + 2^−53, maxval = 1); maxval − minval rounds to 2.
      const v = unitAt(j) * 2 + SYMMETRIC_LOW
      x[start + j] = location + scale * probitSymmetric(v)
    }
  }
  return x
}

/**
 * Exponential variates with mean `scale`: −scale·log(1 − u) for u uniform on
 * [0, 1), JAX's `exponential` recipe (−log1p(−u)). Here 1 − u is exact for
 * every u on the 2^−52 grid, so log(1 − u) loses nothing against log1p.
 *
 * @category samplers
 * @since 0.1.0
 */
export const exponential = (
  key: Key,
  out: Float64Array | number,
  options: ExponentialOptions = {}
): Vector => {
  const operation = "Random.exponential"
  checkKey(operation, key)
  const scale = options.scale ?? defaults.exponential.scale
  checkScale(operation, scale)
  const x = target(operation, out)
  const n = x.length
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      x[start + j] = scale * (0 - log(1 - unitAt(j)))
    }
  }
  return x
}

/**
 * Gumbel (maximum) variates `location + scale · g`, g = −log(−log u) for u
 * uniform on [tiny, 1), tiny = 2^−1022: `jax.random.gumbel` in its default
 * "low" mode. Standard g has mean γ ≈ 0.5772 and variance π²/6.
 *
 * @category samplers
 * @since 0.1.0
 */
export const gumbel = (key: Key, out: Float64Array | number, options: LocationScaleOptions = {}): Vector => {
  const operation = "Random.gumbel"
  checkKey(operation, key)
  const location = options.location ?? defaults.gumbel.location
  const scale = options.scale ?? defaults.gumbel.scale
  checkFinite(operation, "location", location)
  checkScale(operation, scale)
  const x = target(operation, out)
  const n = x.length
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      // JAX: uniform(minval = tiny, maxval = 1); 1 − tiny rounds to 1.
      const u = unitAt(j) + TINY
      x[start + j] = location + scale * (0 - log(0 - log(u)))
    }
  }
  return x
}

/**
 * Laplace (double exponential) variates `location + scale · l`,
 * l = sign(v)·log1p(−|v|) for v uniform on [−1 + 2^−53, 1), as
 * `jax.random.laplace`. Standard l has density e^−|l|/2 and variance 2.
 *
 * @category samplers
 * @since 0.1.0
 */
export const laplace = (key: Key, out: Float64Array | number, options: LocationScaleOptions = {}): Vector => {
  const operation = "Random.laplace"
  checkKey(operation, key)
  const location = options.location ?? defaults.laplace.location
  const scale = options.scale ?? defaults.laplace.scale
  checkFinite(operation, "location", location)
  checkScale(operation, scale)
  const x = target(operation, out)
  const n = x.length
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      const v = unitAt(j) * 2 + SYMMETRIC_LOW
      const l = v > 0 ? log1p(-v) : v < 0 ? 0 - log1p(v) : 0
      x[start + j] = location + scale * l
    }
  }
  return x
}

// ---------------------------------------------------------------------------
// Discrete samplers

/**
 * Bernoulli draws: `out[i] = 1` when u_i < probability, else 0, with u_i the
 * element-i uniform of {@link uniform}; bit for bit
 * `jax.random.bernoulli(key, p, (n,))` with a float64 p.
 *
 * @category samplers
 * @since 0.1.0
 */
export function bernoulli(key: Key, out: number, options?: BernoulliOptions): Vector
export function bernoulli<A extends IntegerArray>(key: Key, out: A, options?: BernoulliOptions): A
export function bernoulli(
  key: Key,
  out: IntegerArray | number,
  options: BernoulliOptions = {}
): IntegerArray {
  const operation = "Random.bernoulli"
  checkKey(operation, key)
  const p = options.probability ?? defaults.bernoulli.probability
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw invalid(operation, "probability", p, "a number in [0, 1]")
  }
  const x = target(operation, out)
  const n = x.length
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) x[start + j] = unitAt(j) < p ? 1 : 0
  }
  return x
}

/**
 * Rejection threshold for a uniform integer below `range` (≤ 2^32) from a
 * 32-bit word w: accept w ≥ 2^32 mod range, then w mod range is exactly
 * uniform, since [threshold, 2^32) holds the same number of each residue.
 */
const thresholdOf = (range: number): number => TWO32 % range

/**
 * The accepted word for element `index` after its first word was rejected:
 * attempt a = 1, 2, … uses the word of block T(key, (a, index)), counters that
 * no other draw, split or foldIn uses (those keep the high word 0). Each attempt
 * fails with probability below 1/2, so this loop is short.
 */
const retryWord = (k0: number, k1: number, index: number, threshold: number): number => {
  let attempt = 1
  let w = threefryWord(k0, k1, attempt, index)
  while (w < threshold) {
    attempt += 1
    w = threefryWord(k0, k1, attempt, index)
  }
  return w
}

/** Fills x[i] = low + (uniform integer below range) for i in [0, n). */
const fillIntegers = (key: Key, x: IntegerArray, low: number, range: number): void => {
  const k0 = key[0]
  const k1 = key[1]
  const threshold = thresholdOf(range)
  const n = x.length
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(k0, k1, 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      let w = wordAt(j)
      if (w < threshold) w = retryWord(k0, k1, start + j, threshold)
      x[start + j] = low + (w % range)
    }
  }
}

/**
 * Uniform integers on [low, high), exactly uniform (no modulo bias), with
 * 1 ≤ high − low ≤ 2^32.
 *
 * Element i takes the 32-bit word w of {@link bits} and returns
 * low + (w mod r), r = high − low, when w ≥ 2^32 mod r; otherwise it retries
 * with words from counters (a, i), a = 1, 2, …, that no other draw uses
 * (probability < r/2^32 per retry). With r = 2^32 this is `bits` shifted by
 * `low`. Not `jax.random.randint`'s algorithm.
 *
 * @example
 * integers(key(3), 5, { low: 1, high: 7 })   // five dice: [5, 4, 3, 1, 3]
 * @category samplers
 * @since 0.1.0
 */
export function integers(key: Key, out: number, options: IntegersOptions): Vector
export function integers<A extends IntegerArray>(key: Key, out: A, options: IntegersOptions): A
export function integers(key: Key, out: IntegerArray | number, options: IntegersOptions): IntegerArray {
  const operation = "Random.integers"
  checkKey(operation, key)
  const low = options.low ?? defaults.integers.low
  const high = options.high
  if (!Number.isSafeInteger(low)) throw invalid(operation, "low", low, "a safe integer")
  if (!Number.isSafeInteger(high) || high <= low || high - low > TWO32) {
    throw invalid(operation, "high", high, `an integer with 1 ≤ high − low ≤ 2^32 (low = ${low})`)
  }
  const x = target(operation, out)
  checkFits(operation, x, low, high - 1)
  fillIntegers(key, x, low, high - low)
  return x
}

/**
 * Runs the first `steps` swaps of the forward Fisher–Yates shuffle of
 * [0, 1, …, n − 1] held densely in `work`, writing position i to `out[i]`.
 * Step i swaps positions i and i + U_i, U_i uniform below n − i from draw i.
 */
const fisherYatesDense = (
  key: Key,
  n: number,
  steps: number,
  work: IntegerArray,
  out: IntegerArray
): void => {
  const k0 = key[0]
  const k1 = key[1]
  for (let start = 0; start < steps; start += CHUNK) {
    const m = Math.min(CHUNK, steps - start)
    threefryBlocks(k0, k1, 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      const i = start + j
      const range = n - i
      const threshold = thresholdOf(range)
      let w = wordAt(j)
      if (w < threshold) w = retryWord(k0, k1, i, threshold)
      const t = i + (w % range)
      const vt = work[t]!
      work[t] = work[i]!
      work[i] = vt
      out[i] = vt
    }
  }
}

/**
 * The same swaps as {@link fisherYatesDense} on a virtual array, storing only
 * displaced entries in an open-addressing table (linear probing, at most one
 * insertion per step, load ≤ 1/2): O(steps) memory instead of O(n), for drawing
 * a few indices out of a large population. Position i is never read after
 * step i, so only position t needs writing.
 */
const fisherYatesSparse = (key: Key, n: number, steps: number, out: IntegerArray): void => {
  const k0 = key[0]
  const k1 = key[1]
  let capacity = 16
  let shift = 28 // 32 − log2(capacity): the hash keeps the top log2(capacity) bits
  while (capacity < 2 * steps) {
    capacity *= 2
    shift -= 1
  }
  const mask = capacity - 1
  const keys = zeros(capacity)
  keys.fill(-1)
  const values = zeros(capacity)
  for (let start = 0; start < steps; start += CHUNK) {
    const m = Math.min(CHUNK, steps - start)
    threefryBlocks(k0, k1, 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      const i = start + j
      const range = n - i
      const threshold = thresholdOf(range)
      let w = wordAt(j)
      if (w < threshold) w = retryWord(k0, k1, i, threshold)
      const t = i + (w % range)
      // Look up positions i and t (absent = never displaced = its own index).
      let slotI = Math.imul(i, 0x9e3779b1) >>> shift
      while (keys[slotI] !== -1 && keys[slotI] !== i) slotI = (slotI + 1) & mask
      const vi = keys[slotI] === i ? values[slotI]! : i
      let slotT = Math.imul(t, 0x9e3779b1) >>> shift
      while (keys[slotT] !== -1 && keys[slotT] !== t) slotT = (slotT + 1) & mask
      const vt = keys[slotT] === t ? values[slotT]! : t
      out[i] = vt
      keys[slotT] = t
      values[slotT] = vi
    }
  }
}

/**
 * A uniformly random permutation of 0, 1, …, n − 1 (n = the length), by the
 * forward Fisher–Yates shuffle (Durstenfeld 1964) in O(n): step i swaps
 * position i with i + U_i, U_i exactly uniform below n − i from draw i (as in
 * {@link integers}), so each of the n! orders has probability 1/n!.
 *
 * `choice(key, n, k, { replace: false })` is the first k entries of
 * `permutation(key, n)`. Not `jax.random.permutation`'s algorithm.
 *
 * @category samplers
 * @since 0.1.0
 */
export function permutation(key: Key, out: number): Vector
export function permutation<A extends IntegerArray>(key: Key, out: A): A
export function permutation(key: Key, out: IntegerArray | number): IntegerArray {
  const operation = "Random.permutation"
  checkKey(operation, key)
  const x = target(operation, out)
  const n = x.length
  if (n === 0) return x
  checkFits(operation, x, 0, n - 1)
  for (let i = 0; i < n; i++) x[i] = i
  fisherYatesDense(key, n, n - 1, x, x)
  return x
}

/**
 * Writes to `out` the indices of the k = out.length earliest arrival times
 * E_j / p_j (E_j standard exponential from draw j; indices with p_j = 0 never
 * arrive), earliest first, ties broken by index. A max-heap of the k earliest so
 * far keeps it O(n log k) time and O(k) memory; heap sort orders them at the end.
 */
const exponentialRace = (key: Key, p: ArrayLike<number>, out: IntegerArray): void => {
  const n = p.length
  const k = out.length
  const times = zeros(k)
  const index = zeros(k)
  let size = 0
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      const pj = p[start + j]!
      if (pj === 0) continue
      const time = (0 - log(1 - unitAt(j))) / pj
      const id = start + j
      let slot: number
      if (size < k) {
        // Sift up from the new leaf.
        slot = size
        size += 1
        while (slot > 0) {
          const parent = (slot - 1) >> 1
          const tp = times[parent]!
          if (tp > time || (tp === time && index[parent]! > id)) break
          times[slot] = tp
          index[slot] = index[parent]!
          slot = parent
        }
      } else {
        // Keep the k smallest: replace the largest (the root) if this one is smaller.
        const t0 = times[0]!
        if (time > t0 || (time === t0 && id > index[0]!)) continue
        slot = 0
        for (;;) {
          let child = 2 * slot + 1
          if (child >= k) break
          const right = child + 1
          if (
            right < k &&
            (times[right]! > times[child]! ||
              (times[right] === times[child] && index[right]! > index[child]!))
          ) {
            child = right
          }
          const tc = times[child]!
          if (tc < time || (tc === time && index[child]! < id)) break
          times[slot] = tc
          index[slot] = index[child]!
          slot = child
        }
      }
      times[slot] = time
      index[slot] = id
    }
  }
  // Heap sort: repeatedly move the largest remaining to the back.
  for (let end = k - 1; end >= 0; end--) {
    out[end] = index[0]!
    const time = times[end]!
    const id = index[end]!
    let slot = 0
    for (;;) {
      let child = 2 * slot + 1
      if (child >= end) break
      const right = child + 1
      if (
        right < end &&
        (times[right]! > times[child]! || (times[right] === times[child] && index[right]! > index[child]!))
      ) {
        child = right
      }
      const tc = times[child]!
      if (tc < time || (tc === time && index[child]! < id)) break
      times[slot] = tc
      index[slot] = index[child]!
      slot = child
    }
    times[slot] = time
    index[slot] = id
  }
}

/**
 * Indices drawn from the population 0, 1, …, population − 1; `out` (or a
 * length) sets how many.
 *
 * - With replacement, uniform: as `integers(key, out, { high: population })`.
 * - With replacement and `probabilities` p: index j with probability p_j by
 *   inversion, the first j with P_j > u·P_{n−1} for the cumulative sums P and
 *   the element-i uniform u of {@link uniform}.
 * - Without replacement, uniform: the first k steps of the Fisher–Yates shuffle
 *   of {@link permutation} (so the result is a prefix of the permutation), in
 *   O(k) memory when k is small against the population.
 * - Without replacement and p: successive draws proportional to p among the
 *   indices not yet drawn (NumPy's semantics), as an exponential race: index j
 *   arrives at E_j / p_j, E_j standard exponential from draw j, and the k
 *   earliest arrivals are returned in order of arrival (the Gumbel-top-k trick
 *   in another guise; Efraimidis & Spirakis 2006).
 *
 * Throws `InvalidOptions` when k exceeds the population (or the number of
 * positive p_j) without replacement, or p is not a probability vector. Not
 * `jax.random.choice`'s algorithm.
 *
 * @example
 * choice(key(5), 1000, 32, { replace: false })   // a minibatch of 32 indices
 * @category samplers
 * @since 0.1.0
 */
export function choice(key: Key, population: number, out: number, options?: ChoiceOptions): Vector
export function choice<A extends IntegerArray>(
  key: Key,
  population: number,
  out: A,
  options?: ChoiceOptions
): A
export function choice(
  key: Key,
  population: number,
  out: IntegerArray | number,
  options: ChoiceOptions = {}
): IntegerArray {
  const operation = "Random.choice"
  checkKey(operation, key)
  const replace = options.replace ?? defaults.choice.replace
  const p = options.probabilities
  if (!Number.isSafeInteger(population) || population < 0 || population > TWO32) {
    throw invalid(operation, "population", population, "an integer in [0, 2^32]")
  }
  const x = target(operation, out)
  const k = x.length
  if (k === 0) return x
  if (population === 0) {
    throw invalid(operation, "population", population, "at least 1 when drawing one or more indices")
  }
  checkFits(operation, x, 0, population - 1)
  let positive = population
  if (p !== undefined) {
    if (p.length !== population) {
      throw invalid(operation, "probabilities", `length ${p.length}`, `of length population = ${population}`)
    }
    let sum = 0
    positive = 0
    for (let j = 0; j < population; j++) {
      const pj = p[j]!
      if (typeof pj !== "number" || !(pj >= 0 && pj <= 1)) {
        throw invalid(operation, `probabilities[${j}]`, pj, "a number in [0, 1]")
      }
      sum += pj
      if (pj > 0) positive += 1
    }
    if (!(Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE)) {
      throw invalid(operation, "probabilities", `sum ${sum}`, "summing to 1 (within 1.5e-8, as NumPy)")
    }
  }
  if (!replace && k > positive) {
    throw invalid(
      operation,
      "out",
      k,
      p === undefined
        ? `at most population = ${population} draws without replacement`
        : `at most ${positive} draws without replacement (the number of positive probabilities)`
    )
  }
  if (p === undefined) {
    if (replace) {
      fillIntegers(key, x, 0, population)
    } else if (4 * k < population) {
      fisherYatesSparse(key, population, k, x)
    } else {
      const work = zeros(population)
      for (let j = 0; j < population; j++) work[j] = j
      fisherYatesDense(key, population, k, work, x)
    }
    return x
  }
  if (!replace) {
    exponentialRace(key, p, x)
    return x
  }
  // With replacement: inversion on the cumulative sums.
  const cumulative = zeros(population)
  let total = 0
  let last = 0
  for (let j = 0; j < population; j++) {
    total += p[j]!
    cumulative[j] = total
    if (p[j]! > 0) last = j
  }
  for (let start = 0; start < k; start += CHUNK) {
    const m = Math.min(CHUNK, k - start)
    threefryBlocks(key[0], key[1], 0, start, m, scratch)
    for (let j = 0; j < m; j++) {
      const level = unitAt(j) * total
      // Smallest index with cumulative > level; zero-probability indices never qualify.
      let lo = 0
      let hi = population
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (cumulative[mid]! > level) hi = mid
        else lo = mid + 1
      }
      // level ≥ total only by rounding of u·total: take the last possible index.
      x[start + j] = lo < population ? lo : last
    }
  }
  return x
}
