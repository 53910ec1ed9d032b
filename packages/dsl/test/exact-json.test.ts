/**
 * ExactJson: every accepted value round-trips exactly (NaN, ±∞, −0,
 * undefined, tag-like keys, "__proto__"); on plain JSON data it writes what
 * JSON.stringify writes; what it cannot carry exactly is refused with a path.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as ExactJson from "../src/ExactJson.ts"
import { firstDifference, PROPERTY_SEED, value } from "./storeKit.ts"

const roundTrip = (x: unknown): unknown => ExactJson.parse(ExactJson.stringify(x))

const errorOf = (f: () => unknown): ExactJson.ExactJsonError => {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(ExactJson.ExactJsonError)
    return error as ExactJson.ExactJsonError
  }
  throw new Error("expected an ExactJsonError")
}

describe("ExactJson", () => {
  it("round-trips generated values exactly, 300 runs", () => {
    fc.assert(
      fc.property(value, (x) => {
        const text = ExactJson.stringify(x)
        expect(() => JSON.parse(text)).not.toThrow()
        expect(firstDifference(ExactJson.parse(text), x)).toBeUndefined()
      }),
      { seed: PROPERTY_SEED, numRuns: 300 }
    )
  })

  it("round-trips every double bit for bit, 2000 runs", () => {
    const bits = (x: number) => new BigUint64Array(new Float64Array([x]).buffer)[0]
    fc.assert(
      fc.property(fc.double(), (x) => {
        const back = roundTrip([x]) as Array<number>
        // NaN payloads are not preserved by JavaScript itself; every other double is.
        if (Number.isNaN(x)) expect(Number.isNaN(back[0])).toBe(true)
        else expect(bits(back[0])).toBe(bits(x))
      }),
      { seed: PROPERTY_SEED, numRuns: 2000 }
    )
  })

  it("writes the documented tagged forms", () => {
    expect(
      ExactJson.stringify([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, undefined])
    ).toBe('[{"$v":"NaN"},{"$v":"Infinity"},{"$v":"-Infinity"},{"$v":"-0"},0,{"$v":"undefined"}]')
    expect(ExactJson.stringify({ loss: Number.NaN, best: -0, xs: [1, Number.POSITIVE_INFINITY] })).toBe(
      '{"loss":{"$v":"NaN"},"best":{"$v":"-0"},"xs":[1,{"$v":"Infinity"}]}'
    )
    expect(ExactJson.stringify(undefined)).toBe('{"$v":"undefined"}')
    expect(Object.is(ExactJson.parse('{"$v":"-0"}'), -0)).toBe(true)
  })

  it("escapes data that looks like a tag, and reads it back as data", () => {
    const tricky = [{ $v: "NaN" }, { $o: { $v: "-0" } }, { $v: 1, other: 2 }, { $o: 3 }]
    const text = ExactJson.stringify(tricky)
    expect(text).toBe(
      '[{"$o":{"$v":"NaN"}},{"$o":{"$o":{"$o":{"$v":"-0"}}}},{"$v":1,"other":2},{"$o":{"$o":3}}]'
    )
    expect(firstDifference(ExactJson.parse(text), tricky)).toBeUndefined()
  })

  it("keeps a '__proto__' key as data", () => {
    const x = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')
    const back = roundTrip(x) as Record<string, unknown>
    expect(Object.keys(back)).toEqual(["__proto__", "a"])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(firstDifference(back, x)).toBeUndefined()
  })

  it("writes what JSON.stringify writes on plain JSON data, 300 runs", () => {
    const plain = fc
      .jsonValue()
      .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
      .filter((v) => !JSON.stringify(v).match(/"\$[vo]":/))
    fc.assert(
      fc.property(plain, (x) => {
        expect(ExactJson.stringify(x)).toBe(JSON.stringify(x))
      }),
      { seed: PROPERTY_SEED, numRuns: 300 }
    )
  })

  it("accepts shared (acyclic) references", () => {
    const shared = { a: 1 }
    expect(ExactJson.stringify([shared, shared])).toBe('[{"a":1},{"a":1}]')
  })

  it.each([
    ["a bigint", { a: [1, 2n] }, "$.a[1]", "bigint"],
    ["a function", { f: () => 1 }, "$.f", "function"],
    ["a symbol", { s: Symbol("s") }, "$.s", "symbol"],
    ["a Date", { when: new Date(0) }, "$.when", "Date"],
    ["a Map", { m: new Map() }, "$.m", "Map"],
    ["a typed array", { x: new Float64Array(2) }, "$.x", "Float64Array"],
    ["a key that is not an identifier", { "a b": 1n }, '$["a b"]', "bigint"]
  ])("refuses %s, naming the path", (_, input, path, reason) => {
    const error = errorOf(() => ExactJson.stringify(input))
    expect(error.path).toBe(path)
    expect(error.reason).toContain(reason)
    expect(error.message).toContain(path)
  })

  it("refuses a cycle", () => {
    const a: Record<string, unknown> = { list: [] }
    ;(a.list as Array<unknown>).push(a)
    const error = errorOf(() => ExactJson.stringify(a))
    expect(error.path).toBe("$.list[0]")
    expect(error.reason).toBe("cyclic value")
  })

  it.each([
    ["text that is not JSON", "{nope", "$", "not JSON"],
    ["an unknown value tag", '{"a":{"$v":"nan"}}', "$.a", 'unknown value tag "nan"'],
    ["a non-string value tag", '[{"$v":0}]', "$[0]", "unknown value tag 0"],
    ["an escape that wraps no object", '{"$o":[1]}', "$", '"$o" must wrap an object']
  ])("refuses %s when parsing", (_, text, path, reason) => {
    const error = errorOf(() => ExactJson.parse(text))
    expect(error.path).toBe(path)
    expect(error.reason).toContain(reason)
  })
})
