/**
 * The errors specific to optimal transport inputs, next to core's
 * (`DimensionMismatch`, `NonFiniteInput`, `EmptyInput`, `InvalidOptions`):
 * a negative mass in a marginal, and a balanced problem whose marginals carry
 * different total masses. Both are tagged Effect errors that name the problem
 * and carry the offending values, so a user sees "a sums to 1 and b to 0.98"
 * rather than a NaN fifty iterations later.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A marginal (a weight vector) has a negative entry.
 *
 * @category errors
 * @since 0.1.0
 */
export class NegativeMass extends Data.TaggedError("NegativeMass")<{
  readonly operation: string
  /** Which marginal: "a", "b", or e.g. "weights[2]" for a barycenter's inputs. */
  readonly what: string
  /** Index of the first negative entry. */
  readonly index: number
  readonly value: number
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly what: string
    readonly index: number
    readonly value: number
  }) {
    super({
      ...args,
      message: `${args.operation}: ${args.what}[${args.index}] = ${args.value} is negative; masses must be ≥ 0`
    })
  }
}

/**
 * A balanced problem's marginals have total masses that differ by more than
 * the tolerance. Normalize them, or pose an unbalanced problem.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnbalancedMarginals extends Data.TaggedError("UnbalancedMarginals")<{
  readonly operation: string
  readonly sumA: number
  readonly sumB: number
  /** The relative tolerance |Σa − Σb| ≤ tolerance · max(Σa, Σb) that failed. */
  readonly tolerance: number
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly sumA: number
    readonly sumB: number
    readonly tolerance: number
  }) {
    super({
      ...args,
      message:
        `${args.operation}: the marginals' masses differ: a sums to ${args.sumA} and b to ${args.sumB} ` +
        `(relative tolerance ${args.tolerance}); normalize them or use an unbalanced problem`
    })
  }
}

/**
 * A balanced problem with forbidden pairs (+∞ costs) that admits no
 * transport plan: some mass cannot reach any target it is allowed to go to.
 *
 * @category errors
 * @since 0.1.0
 */
export class InfeasibleTransport extends Data.TaggedError("InfeasibleTransport")<{
  readonly operation: string
  /** The mass left unmatched by the best plan over the allowed pairs. */
  readonly unmatchedMass: number
  readonly message: string
}> {
  constructor(args: { readonly operation: string; readonly unmatchedMass: number }) {
    super({
      ...args,
      message:
        `${args.operation}: no transport plan avoids the forbidden (+∞ cost) pairs; ` +
        `a mass of ${args.unmatchedMass} cannot be matched`
    })
  }
}
