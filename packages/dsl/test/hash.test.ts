import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Experiment from "../src/Experiment.ts"
import { canonicalJson, hash, NonCanonicalValue, sha256, sha256Hex, toHex, words } from "../src/Hash.ts"
import { childExperiment } from "./hashChild.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 200 } as const

const nodeSha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

describe("SHA-256", () => {
  // FIPS 180-4 examples (NIST CSRC "Example Algorithms", SHA-256) and the
  // 896-bit message of the SHA-2 test suite.
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    ]
  ]
  it.each(vectors)("FIPS 180-4 vector %#", (message, digest) => {
    expect(sha256Hex(message)).toBe(digest)
  })

  it("one million 'a' (FIPS 180-4)", () => {
    expect(toHex(sha256(new Uint8Array(1_000_000).fill(0x61)))).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    )
  })

  it("agrees with node:crypto at every length around the padding boundaries", () => {
    for (let n = 0; n <= 200; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff)
      expect(toHex(sha256(bytes))).toBe(nodeSha256(bytes))
    }
  })

  it("agrees with node:crypto on random messages", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => toHex(sha256(bytes)) === nodeSha256(bytes)),
      FC
    )
  })

  it("hashes the UTF-8 encoding of text", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }),
        (s) => sha256Hex(s) === nodeSha256(new TextEncoder().encode(s))
      ),
      FC
    )
  })
})

describe("canonical JSON", () => {
  it("sorts keys at every depth and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 0, y: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":1,"z":0}]},"b":1}'
    )
  })

  it("writes numbers in shortest round-trip form", () => {
    expect(canonicalJson([0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, -1.5, 100, 2 ** 53])).toBe(
      "[0.1,1e+21,1e-7,5e-324,1.7976931348623157e+308,-1.5,100,9007199254740992]"
    )
  })

  it("writes −0 as 0 (one identity)", () => {
    expect(canonicalJson({ x: -0 })).toBe('{"x":0}')
    expect(hash([-0])).toBe(hash([0]))
  })

  it("rejects NaN and ±∞, naming their path", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      let error: unknown
      try {
        canonicalJson({ a: [1, { b: bad }] })
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(NonCanonicalValue)
      expect((error as NonCanonicalValue).path).toEqual(["a", 1, "b"])
      expect((error as NonCanonicalValue).message).toContain('["a"][1]["b"]')
    }
  })

  it("omits undefined properties and rejects what is not JSON", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const bad of [
      [undefined],
      new Float64Array(2),
      new Map(),
      new Date(0),
      () => 1,
      10n,
      Symbol("s"),
      cyclic
    ]) {
      expect(() => canonicalJson(bad)).toThrow(NonCanonicalValue)
    }
  })

  it("escapes strings exactly as JSON.stringify", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => canonicalJson(s) === JSON.stringify(s)),
      FC
    )
  })

  const json = fc.jsonValue({ maxDepth: 4 })

  it("parses back to the same value, and is a fixed point", () => {
    fc.assert(
      fc.property(json, (v) => {
        const text = canonicalJson(v)
        const back = JSON.parse(text)
        expect(back).toEqual(JSON.parse(JSON.stringify(v)))
        expect(canonicalJson(back)).toBe(text)
      }),
      FC
    )
  })

  it("does not depend on the order of keys", () => {
    const reverse = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverse)
      if (typeof v === "object" && v !== null) {
        return Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reverse(x)])
        )
      }
      return v
    }
    fc.assert(
      fc.property(json, (v) => hash(v) === hash(reverse(v))),
      FC
    )
  })

  it("splits a digest into its eight big-endian words", () => {
    const digest = sha256Hex("abc")
    expect(words(digest)).toEqual([
      0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223, 0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad
    ])
    expect(() => words("abc")).toThrow(RangeError)
  })
})

describe("stability across processes", () => {
  it("a child process computes the same experiment hash and cell ids", () => {
    const child = join(import.meta.dirname, "hashChild.ts")
    const output = execFileSync(process.execPath, [child], { encoding: "utf8" })
    const theirs = JSON.parse(output) as { readonly hash: string; readonly cellIds: ReadonlyArray<string> }
    const experiment = childExperiment()
    expect(theirs.hash).toBe(Experiment.hashOf(experiment))
    expect(theirs.cellIds).toEqual(Experiment.expand(experiment).map((c) => c.cellId))
  })

  it("pins the identity of a cell (a change here changes every stored cellId)", () => {
    // If this fails, the canonical form of cell identities changed: stored
    // runs would no longer resume. Change it only deliberately.
    const identity =
      '{"problem":{"name":"quadratic","parameters":{"condition":1000,"dimension":20}},"repetition":0,' +
      '"solver":{"_tag":"Solver","name":"adam","options":{"learningRate":{"decaySteps":100,"endValue":0.0001,' +
      '"exponent":1,"initValue":0,"kind":"warmupCosine","peakValue":0.1,"warmupSteps":10}}}}'
    const cell = Experiment.expand(childExperiment())[0]!
    expect(canonicalJson({ problem: cell.problem, solver: cell.solver, repetition: cell.repetition })).toBe(
      identity
    )
    expect(cell.cellId).toBe(nodeSha256(new TextEncoder().encode(identity)))
  })
})
