/**
 * Typed, tagged errors for precondition failures.
 *
 * Every descent package reports bad input with one of these classes instead of a
 * bare `Error`: each carries the offending values as fields (shapes, index,
 * value) and a message a user understands. They are Effect 4 tagged errors, so
 * the plain API throws them and the Effect API puts them on the error channel,
 * where `Effect.catchTag("DimensionMismatch", …)` recovers from them.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

const shapeText = (shape: ReadonlyArray<number>): string => `(${shape.join(", ")})`

/**
 * Two operands whose shapes do not fit together.
 *
 * @example
 * new DimensionMismatch({ operation: "gemv", expected: [3], actual: [4], what: "x" })
 * // message: "gemv: x has shape (4), expected (3)"
 * @category errors
 * @since 0.1.0
 */
export class DimensionMismatch extends Data.TaggedError("DimensionMismatch")<{
  /** The function that detected the mismatch. */
  readonly operation: string
  /** Which operand is wrong, in the words of the function's signature. */
  readonly what: string
  /** The shape the operation needed. */
  readonly expected: ReadonlyArray<number>
  /** The shape it was given. */
  readonly actual: ReadonlyArray<number>
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly what: string
    readonly expected: ReadonlyArray<number>
    readonly actual: ReadonlyArray<number>
  }) {
    super({
      ...args,
      message: `${args.operation}: ${args.what} has shape ${shapeText(args.actual)}, expected ${shapeText(args.expected)}`
    })
  }
}

/**
 * A NaN or ±Infinity where only finite numbers are allowed.
 *
 * @category errors
 * @since 0.1.0
 */
export class NonFiniteInput extends Data.TaggedError("NonFiniteInput")<{
  readonly operation: string
  /** Which input holds the value. */
  readonly what: string
  /** Flat index of the first non-finite entry. */
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
      message: `${args.operation}: ${args.what} has the non-finite value ${args.value} at index ${args.index}`
    })
  }
}

/**
 * An option outside its allowed range (negative step size, β ≥ 1, zero tolerance, …).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidOptions extends Data.TaggedError("InvalidOptions")<{
  readonly operation: string
  /** The option's name as written in the options object. */
  readonly field: string
  readonly value: unknown
  /** What the option must satisfy, e.g. "a finite number > 0". */
  readonly requirement: string
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly field: string
    readonly value: unknown
    readonly requirement: string
  }) {
    super({
      ...args,
      message: `${args.operation}: option ${args.field} = ${String(args.value)} is invalid; it must be ${args.requirement}`
    })
  }
}

/**
 * A matrix that was required to be symmetric positive definite but is not.
 *
 * @category errors
 * @since 0.1.0
 */
export class NotPositiveDefinite extends Data.TaggedError("NotPositiveDefinite")<{
  readonly operation: string
  /** The column at which the factorization met a non-positive pivot. */
  readonly column: number
  /** The pivot value found there. */
  readonly pivot: number
  readonly message: string
}> {
  constructor(args: { readonly operation: string; readonly column: number; readonly pivot: number }) {
    super({
      ...args,
      message: `${args.operation}: the matrix is not positive definite (pivot ${args.pivot} at column ${args.column})`
    })
  }
}

/**
 * A matrix that is (numerically) singular: a zero pivot or zero diagonal entry.
 *
 * @category errors
 * @since 0.1.0
 */
export class Singular extends Data.TaggedError("Singular")<{
  readonly operation: string
  /** The index of the zero pivot or diagonal entry. */
  readonly index: number
  readonly message: string
}> {
  constructor(args: { readonly operation: string; readonly index: number }) {
    super({
      ...args,
      message: `${args.operation}: the matrix is singular (zero pivot at index ${args.index})`
    })
  }
}

/**
 * An input with no elements where at least one is needed.
 *
 * @category errors
 * @since 0.1.0
 */
export class EmptyInput extends Data.TaggedError("EmptyInput")<{
  readonly operation: string
  readonly what: string
  readonly message: string
}> {
  constructor(args: { readonly operation: string; readonly what: string }) {
    super({ ...args, message: `${args.operation}: ${args.what} is empty` })
  }
}

/**
 * Every error class in this module, as one union for exhaustive handling.
 *
 * @category errors
 * @since 0.1.0
 */
export type DescentError =
  | DimensionMismatch
  | NonFiniteInput
  | InvalidOptions
  | NotPositiveDefinite
  | Singular
  | EmptyInput
