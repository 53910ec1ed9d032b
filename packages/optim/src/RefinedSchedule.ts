/**
 * Learning-rate schedules refined from a previous run's gradient norms
 * (Defazio, Cutkosky, Mehta & Mishchenko, "When, Why and How Much? Adaptive
 * Learning Rate Scheduling by Refinement", arXiv 2310.07831, 2023).
 *
 * The paper bounds the suboptimality of the LAST iterate of SGD (and of any
 * method with an online-learning regret bound) for an arbitrary step-size
 * sequence. In the worst case the bound is minimized by linear decay,
 * η_t ∝ 1 − t/T. Given the gradient norms ‖g_t‖ actually observed over a run
 * of T steps, the bound is minimized by
 *
 *   η_t ∝ w_t·Σ_{p=t+1}^{T−1} w_p,   w_t = ‖g_t‖⁻²   (SGD, Euclidean norm),
 *
 * and, for coordinate-wise methods like Adam, whose updates are controlled in
 * ℓ∞, by the same formula with w_t = ‖g_t‖₁⁻¹ (the ℓ1 norms of the
 * gradients). The refined schedule warms up automatically where gradient
 * norms fall early in training and anneals to 0 at the last step. Recipe:
 * run once with any schedule (e.g. linear decay), record ‖g_t‖ (or ‖g_t‖₁),
 * refine, and run again with the refined schedule and the same peak.
 *
 * Raw gradient norms are noisy; the paper first smooths them with a median
 * filter of width τ·T (τ = `smoothing`; the authors' scripts use τ = 0.1),
 * repeating the first norm before the start and reflecting the sequence
 * after its end. The schedule is normalized to its maximum and scaled to
 * `peakValue`, and returned as a serializable `Schedules.Tabulated`
 * (`{ kind: "tabulated", values }`), usable as any `StepSize`.
 *
 * @since 0.1.0
 */
import { Vector } from "@descent/core"
import { invalid, requirePositive } from "./internal/validate.ts"
import * as Schedules from "./Schedules.ts"

/**
 * Options of `fromGradientNorms` and `fromGradientL1Norms`.
 *
 * @category models
 * @since 0.1.0
 */
export interface RefineOptions {
  /** The largest value of the schedule, > 0. Default 1 (a multiplier of a peak learning rate). */
  readonly peakValue?: number
  /**
   * τ ∈ [0, 1]: the median filter spans the odd width 2⌊⌊τT⌋/2⌋ + 1 steps
   * (τ = 0: no smoothing, the paper's theorem as stated). Default 0.
   */
  readonly smoothing?: number
}

/**
 * Default options of the refinement (`peakValue` 1, no smoothing).
 *
 * @category models
 * @since 0.1.0
 */
export const refineDefaults = { peakValue: 1, smoothing: 0 } as const

/** The norms as a fresh vector; throws unless ≥ 2 finite positive entries. */
const checkedNorms = (operation: string, norms: ArrayLike<number>): Float64Array => {
  const n = norms.length
  if (typeof n !== "number" || n < 2) {
    throw invalid(operation, "gradientNorms", norms, "at least 2 gradient norms (one per step)")
  }
  const out = Vector.zeros(n)
  for (let t = 0; t < n; t++) {
    const g = norms[t]!
    if (typeof g !== "number" || !Number.isFinite(g) || g <= 0) {
      throw invalid(operation, "gradientNorms", norms, `finite positive numbers (entry ${t} is ${g})`)
    }
    out[t] = g
  }
  return out
}

const checkedSmoothing = (operation: string, smoothing: number): number => {
  if (typeof smoothing !== "number" || !Number.isFinite(smoothing) || smoothing < 0 || smoothing > 1) {
    throw invalid(operation, "smoothing", smoothing, "a number in [0, 1]")
  }
  return smoothing
}

/** The odd filter width 2⌊⌊τT⌋/2⌋ + 1 (1 when τT < 2). */
const filterWidth = (smoothing: number, length: number): number =>
  2 * Math.floor(Math.floor(smoothing * length) / 2) + 1

/**
 * Index `j` of an extended sequence of length n: the first entry before the
 * start ("nearest"), the mirror image about the last entry after the end
 * (NumPy's "reflect", period 2(n − 1)).
 */
const extendedIndex = (j: number, n: number): number => {
  if (j <= 0) return 0
  if (j < n) return j
  const period = 2 * (n - 1)
  const m = j % period
  return m < n ? m : period - m
}

/** First index in sorted `a[0, len)` with a[i] ≥ x. */
const lowerBound = (a: Float64Array, len: number, x: number): number => {
  let lo = 0
  let hi = len
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The paper's median smoothing of a sequence of gradient norms: entry t of
 * the result is the median of the window of odd width
 * w = 2⌊⌊τT⌋/2⌋ + 1 centred on t, where the sequence is extended by its first
 * entry before the start and by its reflection (about the last entry,
 * without repeating it) after the end. The median of an odd window is one of
 * its entries, so no rounding occurs. τ = 0 returns a copy. A sliding sorted
 * window makes it O(T·w) time (element shifts) and O(w) memory.
 *
 * Throws `Errors.InvalidOptions` naming `gradientNorms` unless there are at
 * least 2 finite positive entries, and `smoothing` unless τ ∈ [0, 1].
 *
 * @category kernels
 * @since 0.1.0
 */
export const medianSmooth = (gradientNorms: ArrayLike<number>, smoothing: number): Array<number> => {
  const op = "RefinedSchedule.medianSmooth"
  const g = checkedNorms(op, gradientNorms)
  const n = g.length
  const width = filterWidth(checkedSmoothing(op, smoothing), n)
  if (width === 1) return Array.from(g)
  const r = (width - 1) / 2
  const window = Vector.zeros(width)
  // The window of t = 0: indices −r … r.
  for (let j = -r; j <= r; j++) {
    const x = g[extendedIndex(j, n)]!
    const at = lowerBound(window, j + r, x)
    window.copyWithin(at + 1, at, j + r)
    window[at] = x
  }
  const out: number[] = new Array(n)
  out[0] = window[r]!
  for (let t = 1; t < n; t++) {
    const leaving = g[extendedIndex(t - 1 - r, n)]!
    const entering = g[extendedIndex(t + r, n)]!
    const from = lowerBound(window, width, leaving)
    window.copyWithin(from, from + 1, width)
    const at = lowerBound(window, width - 1, entering)
    window.copyWithin(at + 1, at, width - 1)
    window[at] = entering
    out[t] = window[r]!
  }
  return out
}

/**
 * η_t = w_t·Σ_{p>t} w_p (tail sums accumulated from the last step backwards),
 * then `peak·(η_t/max η)`.
 */
const refined = (operation: string, weights: Float64Array, peak: number): Array<number> => {
  const n = weights.length
  const eta = Vector.zeros(n)
  let tail = 0
  let max = 0
  for (let t = n - 1; t >= 0; t--) {
    const e = weights[t]! * tail
    eta[t] = e
    if (e > max) max = e
    tail += weights[t]!
  }
  if (!(max > 0 && max < Number.POSITIVE_INFINITY)) {
    throw invalid(operation, "gradientNorms", weights.length, "norms whose weights and tail sums are finite")
  }
  const out: number[] = new Array(n)
  for (let t = 0; t < n; t++) out[t] = peak * (eta[t]! / max)
  return out
}

const refine = (
  operation: string,
  gradientNorms: ArrayLike<number>,
  options: RefineOptions,
  weight: (g: number) => number
): Schedules.Tabulated => {
  const peak = requirePositive(operation, "peakValue", options.peakValue ?? refineDefaults.peakValue)
  const smoothing = checkedSmoothing(operation, options.smoothing ?? refineDefaults.smoothing)
  checkedNorms(operation, gradientNorms)
  const smoothed = medianSmooth(gradientNorms, smoothing)
  const weights = Vector.zeros(smoothed.length)
  for (let t = 0; t < smoothed.length; t++) weights[t] = weight(smoothed[t]!)
  return Schedules.tabulated(refined(operation, weights, peak))
}

/**
 * The refined schedule for SGD (Defazio et al., arXiv 2310.07831, the
 * paper's SGD refinement): from the Euclidean gradient norms ‖g_t‖ of a run
 * of T steps (t = 0 … T − 1), smoothed by {@link medianSmooth} when
 * `smoothing` τ > 0,
 *
 *   w_t = ‖g_t‖⁻²,   η_t = w_t·Σ_{p=t+1}^{T−1} w_p,   value_t = peak·η_t/max_s η_s.
 *
 * The last value is 0. Returns a `Schedules.Tabulated` whose value at step
 * count t is value_t (the learning rate of the (t+1)-th update, as for every
 * schedule); it is JSON-serializable. Throws `Errors.InvalidOptions` naming
 * `gradientNorms` (fewer than 2, or not all finite and positive), `peakValue`
 * or `smoothing`.
 *
 * @category schedules
 * @since 0.1.0
 */
export const fromGradientNorms = (
  gradientNorms: ArrayLike<number>,
  options: RefineOptions = {}
): Schedules.Tabulated =>
  refine("RefinedSchedule.fromGradientNorms", gradientNorms, options, (g) => 1 / (g * g))

/**
 * The refined schedule for coordinate-wise optimizers such as Adam
 * (Defazio et al., arXiv 2310.07831, the paper's refinement for general
 * optimizers, analysed in the ℓ∞ geometry): from the ℓ1 norms ‖g_t‖₁ of the
 * gradients of a run, smoothed as in {@link fromGradientNorms},
 *
 *   w_t = ‖g_t‖₁⁻¹,   η_t = w_t·Σ_{p=t+1}^{T−1} w_p,   value_t = peak·η_t/max_s η_s.
 *
 * Same output and errors as {@link fromGradientNorms}.
 *
 * @category schedules
 * @since 0.1.0
 */
export const fromGradientL1Norms = (
  gradientL1Norms: ArrayLike<number>,
  options: RefineOptions = {}
): Schedules.Tabulated =>
  refine("RefinedSchedule.fromGradientL1Norms", gradientL1Norms, options, (g) => 1 / g)
