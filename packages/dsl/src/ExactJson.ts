/**
 * JSON text that round-trips every IEEE-754 double (and `undefined`) exactly.
 * Plain JSON has no NaN, no ±∞ and no −0 (`JSON.stringify(NaN)` is `null`,
 * `JSON.stringify(-0)` is `0`), but a diverged solver's last objective is NaN
 * or ∞ and the result stores promise to read back what was written, bit for
 * bit. This module is
 * the codec the stores (and `descent export --format json`) use.
 *
 * The tagged form: a value JSON cannot spell is written as a one-key object
 *
 * | value       | encoded as             |
 * |-------------|------------------------|
 * | NaN         | `{"$v":"NaN"}`         |
 * | +∞          | `{"$v":"Infinity"}`    |
 * | −∞          | `{"$v":"-Infinity"}`   |
 * | −0          | `{"$v":"-0"}`          |
 * | `undefined` | `{"$v":"undefined"}`   |
 *
 * (`undefined` is kept, not dropped as `JSON.stringify` drops it, because a
 * Schema struct field of type `Unknown` may hold `undefined` but may not be
 * missing.) Every other number is written by `JSON.stringify`, whose
 * shortest round-trip representation parses back to the same double. So
 * that a data object that happens to look like a tag is not misread, any
 * one-key object whose key is `"$v"` or `"$o"` is escaped as `{"$o": {…}}`
 * (its value encoded as usual); decoding unwraps it. All other objects are
 * written as they are, so the text stays readable and plain-JSON tools see
 * ordinary numbers for every finite value.
 *
 * What is accepted: `undefined`, `null`, booleans, strings, numbers, arrays
 * and plain objects (prototype `Object.prototype` or `null`) of these.
 * Anything else (bigint, symbols, functions, class instances such as `Date`,
 * `Map` or typed arrays, cycles) is rejected with an `ExactJsonError` naming
 * the path, instead of being silently changed. Array holes read back as
 * `undefined`; a null-prototype object reads back with `Object.prototype`.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A value could not be encoded, or a text could not be decoded: `path` is
 * where in the value (`$` is the root, then `.key` and `[index]`), `reason`
 * says what is wrong there.
 *
 * @category errors
 * @since 0.1.0
 */
export class ExactJsonError extends Data.TaggedError("ExactJsonError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.reason} at ${this.path}`
  }
}

/**
 * The key of the tagged form of a value JSON cannot spell (NaN, ±∞, −0,
 * `undefined`).
 *
 * @category constants
 * @since 0.1.0
 */
export const valueTag = "$v"

/**
 * The key that escapes a data object that would otherwise read as a tag.
 *
 * @category constants
 * @since 0.1.0
 */
export const escapeTag = "$o"

/** A JSON value as `JSON.stringify` writes it. */
type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

const pathKey = (path: string, key: string): string =>
  /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

const encodeNumber = (x: number): Json => {
  if (Number.isFinite(x)) return Object.is(x, -0) ? { [valueTag]: "-0" } : x
  return { [valueTag]: Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity" }
}

const isPlainObject = (value: object): boolean => {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** One-key objects whose key is a tag are the only ambiguous ones. */
const looksTagged = (keys: ReadonlyArray<string>): boolean =>
  keys.length === 1 && (keys[0] === valueTag || keys[0] === escapeTag)

const encodeValue = (value: unknown, path: string, ancestors: Set<object>): Json => {
  switch (typeof value) {
    case "number":
      return encodeNumber(value)
    case "string":
    case "boolean":
      return value
    case "undefined":
      return { [valueTag]: "undefined" }
    case "object": {
      if (value === null) return null
      if (ancestors.has(value)) throw new ExactJsonError({ path, reason: "cyclic value" })
      ancestors.add(value)
      try {
        if (Array.isArray(value)) {
          const out = new Array<Json>(value.length)
          for (let i = 0; i < value.length; i++) {
            const item: unknown = value[i]
            // Numbers (traces are long arrays of them) skip building a path.
            out[i] =
              typeof item === "number" ? encodeNumber(item) : encodeValue(item, `${path}[${i}]`, ancestors)
          }
          return out
        }
        if (!isPlainObject(value)) {
          const name = (value as { constructor?: { name?: unknown } }).constructor?.name
          throw new ExactJsonError({
            path,
            reason: `cannot encode an instance of ${typeof name === "string" ? name : "a class"} exactly`
          })
        }
        const entries: Array<[string, Json]> = []
        for (const key of Object.keys(value)) {
          entries.push([
            key,
            encodeValue((value as Record<string, unknown>)[key], pathKey(path, key), ancestors)
          ])
        }
        // Object.fromEntries defines own properties, so a "__proto__" key stays data.
        const encoded = Object.fromEntries(entries) as Json
        return looksTagged(entries.map(([k]) => k)) ? { [escapeTag]: encoded } : encoded
      } finally {
        ancestors.delete(value)
      }
    }
    default:
      throw new ExactJsonError({ path, reason: `cannot encode a value of type ${typeof value} as JSON` })
  }
}

const decodeValueTag = (token: unknown, path: string): number | undefined => {
  switch (token) {
    case "NaN":
      return Number.NaN
    case "Infinity":
      return Number.POSITIVE_INFINITY
    case "-Infinity":
      return Number.NEGATIVE_INFINITY
    case "-0":
      return -0
    case "undefined":
      return undefined
    default:
      throw new ExactJsonError({
        path,
        reason: `unknown value tag ${JSON.stringify(token)} (expected "NaN", "Infinity", "-Infinity", "-0" or "undefined")`
      })
  }
}

const decodeEntries = (value: object, path: string): unknown => {
  const entries: Array<[string, unknown]> = []
  for (const key of Object.keys(value)) {
    entries.push([key, decodeValue((value as Record<string, unknown>)[key], pathKey(path, key))])
  }
  return Object.fromEntries(entries)
}

const decodeValue = (value: unknown, path: string): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      out[i] = typeof item === "object" && item !== null ? decodeValue(item, `${path}[${i}]`) : item
    }
    return out
  }
  const keys = Object.keys(value)
  if (looksTagged(keys)) {
    const inner = (value as Record<string, unknown>)[keys[0]]
    if (keys[0] === valueTag) return decodeValueTag(inner, path)
    if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
      throw new ExactJsonError({ path, reason: `"${escapeTag}" must wrap an object` })
    }
    return decodeEntries(inner, path)
  }
  return decodeEntries(value, path)
}

/**
 * Encodes a value into a tree that `JSON.stringify` writes losslessly (the
 * tagged form of the module docs). Throws `ExactJsonError` for values JSON
 * cannot carry exactly.
 *
 * @category encoding
 * @since 0.1.0
 */
export const encode = (value: unknown): unknown => encodeValue(value, "$", new Set())

/**
 * The inverse of `encode`: turns a parsed JSON tree with tagged values back
 * into the original value. Throws `ExactJsonError` on a malformed tag.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decode = (json: unknown): unknown => decodeValue(json, "$")

/**
 * Writes a value as exact JSON text (compact, keys in insertion order).
 * `parse(stringify(x))` equals `x` for every accepted value, NaN, ±∞, −0 and
 * `undefined` included. Throws `ExactJsonError` for values JSON cannot carry exactly.
 *
 * @example
 * ```ts
 * import { ExactJson } from "@descent/dsl"
 *
 * ExactJson.stringify({ loss: Number.NaN, best: -0, xs: [1, Number.POSITIVE_INFINITY] })
 * // '{"loss":{"$v":"NaN"},"best":{"$v":"-0"},"xs":[1,{"$v":"Infinity"}]}'
 * ```
 *
 * @category encoding
 * @since 0.1.0
 */
export const stringify = (value: unknown, space?: number): string =>
  JSON.stringify(encode(value), null, space)

/**
 * Reads exact JSON text back. Throws `ExactJsonError` when the text is not
 * JSON (path `$`) or holds a malformed tag.
 *
 * @category decoding
 * @since 0.1.0
 */
export const parse = (text: string): unknown => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new ExactJsonError({
      path: "$",
      reason: `not JSON: ${cause instanceof Error ? cause.message : String(cause)}`
    })
  }
  return decode(json)
}
