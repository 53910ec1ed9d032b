/**
 * The errors specific to structure-learning inputs, next to core's
 * (`DimensionMismatch`, `NonFiniteInput`, `EmptyInput`, `InvalidOptions`):
 * too few samples to estimate anything, and a constant (zero-variance) column,
 * which makes every score-based learner's scale estimate degenerate.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * The data matrix has fewer samples (rows) than a learner needs.
 *
 * @category errors
 * @since 0.1.0
 */
export class TooFewSamples extends Data.TaggedError("TooFewSamples")<{
  readonly operation: string
  readonly samples: number
  readonly required: number
  readonly message: string
}> {
  constructor(args: { readonly operation: string; readonly samples: number; readonly required: number }) {
    super({
      ...args,
      message: `${args.operation}: ${args.samples} sample(s); at least ${args.required} are needed`
    })
  }
}

/**
 * A column of the data matrix is constant (zero sample variance).
 *
 * @category errors
 * @since 0.1.0
 */
export class ConstantColumn extends Data.TaggedError("ConstantColumn")<{
  readonly operation: string
  /** The column (variable) index. */
  readonly column: number
  readonly value: number
  readonly message: string
}> {
  constructor(args: { readonly operation: string; readonly column: number; readonly value: number }) {
    super({
      ...args,
      message: `${args.operation}: column ${args.column} is constant (every sample equals ${args.value}); drop it or add noise`
    })
  }
}

/**
 * A graph that must be acyclic (a DAG) has a directed cycle; `cycle` lists its
 * nodes in order, e.g. `[2, 5, 7]` for 2 → 5 → 7 → 2 (a self-loop is `[i]`).
 *
 * @category errors
 * @since 0.1.0
 */
export class CyclicGraph extends Data.TaggedError("CyclicGraph")<{
  readonly operation: string
  /** Which input holds the cycle, in the words of the function's signature. */
  readonly what: string
  /** The nodes of one directed cycle, in order. */
  readonly cycle: ReadonlyArray<number>
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly what: string
    readonly cycle: ReadonlyArray<number>
  }) {
    const path = [...args.cycle, args.cycle[0]].join(" → ")
    super({
      ...args,
      message: `${args.operation}: ${args.what} is not acyclic; it has the directed cycle ${path}`
    })
  }
}
