/**
 * Content hashes of plain JSON values, identical in every process, engine and
 * platform: how experiments, cells and runs get their identities (`specHash`,
 * `cellId`, `runId`).
 *
 * Two parts:
 * - **Canonical JSON** ({@link canonicalJson}): one text per JSON value, in
 *   the spirit of RFC 8785 (JSON Canonicalization Scheme). Object keys are
 *   sorted by UTF-16 code units; there is no whitespace; strings are escaped
 *   as ECMAScript's `JSON.stringify` does; numbers are written in their
 *   shortest round-trip form (ECMAScript `Number::toString`, the same digits
 *   in every conforming engine, so `0.1` is `0.1` and `1e21` is `1e+21`).
 *   Two cases JSON leaves open are decided explicitly: −0 is written `0`
 *   (JSON cannot carry the sign of a zero through `JSON.stringify`, so −0 and
 *   0 get one identity), and NaN and ±∞ are rejected with
 *   {@link NonCanonicalValue} naming their path (JSON has no spelling for
 *   them; a spec that needs one should say so with a field of its own).
 *   `undefined` object properties are omitted, as `JSON.stringify` does;
 *   anything else that is not JSON (functions, bigints, symbols, typed arrays,
 *   maps, dates, cycles, `undefined` array entries) is rejected.
 * - **SHA-256** ({@link sha256}): FIPS 180-4, in TypeScript, synchronous and
 *   dependency-free, so it runs the same in Node, browsers and workers.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A JSON value.
 *
 * @category models
 * @since 0.1.0
 */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/**
 * A value that has no canonical JSON text: `path` locates it (e.g.
 * `["solvers", 2, "options", "learningRate"]`), `reason` says what it is.
 *
 * @category errors
 * @since 0.1.0
 */
export class NonCanonicalValue extends Data.TaggedError("NonCanonicalValue")<{
  readonly path: ReadonlyArray<string | number>
  readonly reason: string
  readonly message: string
}> {
  constructor(args: { readonly path: ReadonlyArray<string | number>; readonly reason: string }) {
    const where =
      args.path.length === 0 ? "the value" : args.path.map((p) => `[${JSON.stringify(p)}]`).join("")
    super({ ...args, message: `no canonical JSON for ${where}: ${args.reason}` })
  }
}

// ---------------------------------------------------------------------------
// Canonical JSON

const describe = (value: unknown): string => {
  if (value === undefined) return "undefined"
  if (typeof value === "number") return String(value)
  if (typeof value === "bigint") return `the bigint ${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "symbol") return "a symbol"
  const name = (value as object).constructor?.name
  return name === undefined ? "an object without prototype" : `a ${name}`
}

const isPlainRecord = (value: object): boolean => {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false
  if (value instanceof Map || value instanceof Set || value instanceof Date || value instanceof RegExp)
    return false
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet) return false
  return true
}

/**
 * The canonical JSON text of `value` (see the module description).
 *
 * @example
 * canonicalJson({ b: [1, 0.1, -0], a: "x" })   // '{"a":"x","b":[1,0.1,0]}'
 * @throws NonCanonicalValue for NaN, ±∞, and anything that is not JSON.
 * @category encoding
 * @since 0.1.0
 */
export const canonicalJson = (value: unknown): string => {
  const parts: Array<string> = []
  const path: Array<string | number> = []
  const open = new Set<object>()
  const write = (v: unknown): void => {
    if (v === null) {
      parts.push("null")
      return
    }
    switch (typeof v) {
      case "boolean":
        parts.push(v ? "true" : "false")
        return
      case "string":
        parts.push(JSON.stringify(v))
        return
      case "number":
        if (!Number.isFinite(v)) {
          throw new NonCanonicalValue({ path: [...path], reason: `${v} is not a finite number` })
        }
        // Number::toString is the shortest round-trip form; −0 prints as "0".
        parts.push(String(v))
        return
      case "object":
        break
      default:
        throw new NonCanonicalValue({ path: [...path], reason: `${describe(v)} is not JSON` })
    }
    const o = v as object
    if (open.has(o)) throw new NonCanonicalValue({ path: [...path], reason: "a cycle" })
    if (Array.isArray(o)) {
      open.add(o)
      parts.push("[")
      for (let i = 0; i < o.length; i++) {
        if (i > 0) parts.push(",")
        path.push(i)
        if (o[i] === undefined) {
          throw new NonCanonicalValue({ path: [...path], reason: "undefined is not JSON" })
        }
        write(o[i])
        path.pop()
      }
      parts.push("]")
      open.delete(o)
      return
    }
    if (!isPlainRecord(o))
      throw new NonCanonicalValue({ path: [...path], reason: `${describe(o)} is not JSON` })
    open.add(o)
    const record = o as { readonly [key: string]: unknown }
    const keys = Object.keys(record).sort()
    parts.push("{")
    let first = true
    for (const key of keys) {
      const item = record[key]
      if (item === undefined) continue
      if (!first) parts.push(",")
      first = false
      parts.push(JSON.stringify(key), ":")
      path.push(key)
      write(item)
      path.pop()
    }
    parts.push("}")
    open.delete(o)
  }
  write(value)
  return parts.join("")
}

// ---------------------------------------------------------------------------
// SHA-256 (FIPS 180-4, §6.2)

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2
])

const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

/** One compression of the 64-byte block at `offset` into `h` (FIPS 180-4 §6.2.2). */
const compress = (h: Int32Array, w: Int32Array, bytes: Uint8Array, offset: number): void => {
  for (let t = 0; t < 16; t++) {
    const j = offset + 4 * t
    w[t] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!
    const y = w[t - 2]!
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0
  }
  let a = h[0]!
  let b = h[1]!
  let c = h[2]!
  let d = h[3]!
  let e = h[4]!
  let f = h[5]!
  let g = h[6]!
  let hh = h[7]!
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const ch = (e & f) ^ (~e & g)
    const t1 = (hh + S1 + ch + K[t]! + w[t]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const maj = (a & b) ^ (a & c) ^ (b & c)
    const t2 = (S0 + maj) | 0
    hh = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  h[0] = (h[0]! + a) | 0
  h[1] = (h[1]! + b) | 0
  h[2] = (h[2]! + c) | 0
  h[3] = (h[3]! + d) | 0
  h[4] = (h[4]! + e) | 0
  h[5] = (h[5]! + f) | 0
  h[6] = (h[6]! + g) | 0
  h[7] = (h[7]! + hh) | 0
}

/**
 * The SHA-256 digest (32 bytes) of `message` (FIPS 180-4).
 *
 * @category hashing
 * @since 0.1.0
 */
export const sha256 = (message: Uint8Array): Uint8Array => {
  const h = new Int32Array(H0)
  const w = new Int32Array(64)
  const n = message.length
  const full = n - (n % 64)
  for (let offset = 0; offset < full; offset += 64) compress(h, w, message, offset)
  // Padding: the remaining bytes, 0x80, zeros, and the bit length as a 64-bit big-endian integer.
  const rest = n - full
  const tail = new Uint8Array(rest < 56 ? 64 : 128)
  tail.set(message.subarray(full))
  tail[rest] = 0x80
  const bits = n * 8
  const view = new DataView(tail.buffer)
  view.setUint32(tail.length - 8, Math.floor(bits / 0x100000000))
  view.setUint32(tail.length - 4, bits >>> 0)
  for (let offset = 0; offset < tail.length; offset += 64) compress(h, w, tail, offset)
  const out = new Uint8Array(32)
  const outView = new DataView(out.buffer)
  for (let i = 0; i < 8; i++) outView.setInt32(4 * i, h[i]!)
  return out
}

const encoder = new TextEncoder()

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/**
 * Lower-case hexadecimal of `bytes`.
 *
 * @category encoding
 * @since 0.1.0
 */
export const toHex = (bytes: Uint8Array): string => {
  let s = ""
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]
  return s
}

/**
 * The SHA-256 digest of the UTF-8 encoding of `text`, as 64 hexadecimal digits.
 *
 * @example
 * sha256Hex("abc")   // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * @category hashing
 * @since 0.1.0
 */
export const sha256Hex = (text: string): string => toHex(sha256(encoder.encode(text)))

/**
 * The content hash of a JSON value: `sha256Hex(canonicalJson(value))`.
 * Equal values (in the canonical sense: key order and −0 do not matter) have
 * equal hashes, in every process.
 *
 * @throws NonCanonicalValue when `value` is not JSON (see {@link canonicalJson}).
 * @category hashing
 * @since 0.1.0
 */
export const hash = (value: unknown): string => sha256Hex(canonicalJson(value))

/**
 * The eight big-endian 32-bit words of a 64-digit SHA-256 hex digest, as
 * unsigned integers (what `Seeds` folds into a random key).
 *
 * @throws RangeError when `digest` is not 64 hexadecimal digits.
 * @category encoding
 * @since 0.1.0
 */
export const words = (digest: string): Array<number> => {
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new RangeError(
      `Hash.words: expected 64 lower-case hexadecimal digits, got ${JSON.stringify(digest)}`
    )
  }
  const out: Array<number> = []
  for (let i = 0; i < 8; i++) out.push(Number.parseInt(digest.slice(8 * i, 8 * i + 8), 16))
  return out
}
