import { Data, Effect } from "effect"
import * as Either from "fp-ts/lib/Either.js"
import { describe, expect, it } from "vitest"
import { fromEither, toEither, toTaskEither } from "../src/FpTs.ts"
import { StoreError } from "../src/Store.ts"

class Boom extends Data.TaggedError("Boom")<{ readonly reason: string }> {}

describe("fp-ts adapter", () => {
  it("turns successes into Right and typed errors into Left (sync and async)", async () => {
    expect(toEither(Effect.succeed(3))).toEqual(Either.right(3))
    const missing = new StoreError({ kind: "missing", message: "no run abc" })
    const left = toEither(Effect.fail(missing))
    expect(Either.isLeft(left) && left.left._tag === "StoreError" && left.left.kind === "missing").toBe(true)
    expect(await toTaskEither(Effect.succeed("ok"))()).toEqual(Either.right("ok"))
    const asyncLeft = await toTaskEither(
      Effect.fail(new Boom({ reason: "x" })).pipe(Effect.delay("1 millis"))
    )()
    expect(Either.isLeft(asyncLeft) && asyncLeft.left.reason === "x").toBe(true)
  })

  it("rethrows defects instead of hiding them in a Left", async () => {
    expect(() => toEither(Effect.die(new Error("bug")))).toThrow("bug")
    await expect(toTaskEither(Effect.die(new Error("bug")))()).rejects.toThrow("bug")
  })

  it("goes back from Either to Effect", () => {
    expect(Effect.runSync(fromEither(Either.right(1)))).toBe(1)
    expect(Effect.runSync(Effect.flip(fromEither(Either.left("no"))))).toBe("no")
  })
})
