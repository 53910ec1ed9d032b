/**
 * An adapter for fp-ts codebases (`@descent/dsl/fp-ts`). fp-ts is in the
 * project's stack and Effect is its successor, so nothing inside descent uses
 * fp-ts; this module turns descent's Effect values — a run, a store query, a
 * decoded experiment — into fp-ts `Either` and `TaskEither` values whose
 * `Left` is the same typed, tagged error (`StoreError`, a Schema error, …).
 *
 * fp-ts is an optional peer dependency: import this module only where fp-ts
 * is installed.
 *
 * Defects (thrown exceptions, which are bugs, not domain errors) and
 * interruptions are not turned into `Left`s: `toEither` throws them and the
 * task of `toTaskEither` rejects with them, as fp-ts expects of a task that
 * "cannot fail" outside its `Left`.
 *
 * ```ts
 * import { toTaskEither } from "@descent/dsl/fp-ts"
 * const task = toTaskEither(program) // TaskEither<StoreError, RunRecord>
 * const either = await task()
 * ```
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, Result } from "effect"
import * as Either from "fp-ts/lib/Either.js"
import type * as TaskEither from "fp-ts/lib/TaskEither.js"

/** The typed error of a failed exit, or the defect/interruption rethrown. */
const leftOf = <E>(cause: Cause.Cause<E>): E => {
  const found = Cause.findError(cause)
  if (Result.isSuccess(found)) return found.success
  throw Cause.squash(cause)
}

/**
 * An Effect `Exit` as an fp-ts `Either`: success → `Right`, typed failure →
 * `Left`; a defect or interruption is thrown.
 *
 * @category conversions
 * @since 0.1.0
 */
export const fromExit = <A, E>(exit: Exit.Exit<A, E>): Either.Either<E, A> =>
  Exit.isSuccess(exit) ? Either.right(exit.value) : Either.left(leftOf(exit.cause))

/**
 * Runs a synchronous Effect (no services required) and returns its result as
 * an fp-ts `Either`.
 *
 * @category conversions
 * @since 0.1.0
 */
export const toEither = <A, E>(effect: Effect.Effect<A, E>): Either.Either<E, A> =>
  fromExit(Effect.runSyncExit(effect))

/**
 * An Effect (with its services provided) as an fp-ts `TaskEither`: the task
 * runs the effect each time it is called.
 *
 * @category conversions
 * @since 0.1.0
 */
export const toTaskEither =
  <A, E>(effect: Effect.Effect<A, E>): TaskEither.TaskEither<E, A> =>
  () =>
    Effect.runPromiseExit(effect).then(fromExit)

/**
 * An fp-ts `Either` as an Effect that succeeds with the `Right` or fails with
 * the `Left`, for the other direction (feeding fp-ts results into descent's
 * Effect APIs).
 *
 * @category conversions
 * @since 0.1.0
 */
export const fromEither = <E, A>(either: Either.Either<E, A>): Effect.Effect<A, E> =>
  Either.isRight(either) ? Effect.succeed(either.right) : Effect.fail(either.left)
