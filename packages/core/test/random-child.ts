/**
 * Child process of the cross-process test in `Random.test.ts`.
 *
 * `node packages/core/test/random-child.ts <seed>` prints, as one JSON line,
 * the SHA-256 of every sampler's output (and its first values) for keys derived
 * from `seed`. The test computes the same with `draws` in its own process and
 * compares: same key, same numbers, whatever the process.
 */
import { createHash } from "node:crypto"
import * as Random from "../src/Random.ts"

/** An odd length that spans several internal chunks of 256 blocks. */
const LENGTH = 10_007

const digest = (x: Float64Array | Uint32Array | Int32Array): string =>
  createHash("sha256")
    .update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
    .digest("hex")

const summary = (x: Float64Array | Uint32Array | Int32Array): { sha256: string; head: Array<number> } => ({
  sha256: digest(x),
  head: Array.from(x.subarray(0, 3))
})

/** Every sampler's output for keys split from `key(seed)`, summarized. */
export const draws = (seed: number): Record<string, unknown> => {
  const root = Random.key(seed)
  const keys = Random.split(root, 12)
  const k = (i: number): Random.Key => keys[i]!
  return {
    keys: keys.map(Random.keyData),
    foldIn: Random.keyData(Random.foldIn(root, 123_456)),
    bits: summary(Random.bits(k(0), new Uint32Array(LENGTH))),
    uniform: summary(Random.uniform(k(1), LENGTH, { low: -3, high: 5.5 })),
    normal: summary(Random.normal(k(2), LENGTH, { location: 1, scale: 2 })),
    exponential: summary(Random.exponential(k(3), LENGTH)),
    gumbel: summary(Random.gumbel(k(4), LENGTH)),
    laplace: summary(Random.laplace(k(5), LENGTH)),
    bernoulli: summary(Random.bernoulli(k(6), new Int32Array(LENGTH), { probability: 0.25 })),
    integers: summary(
      Random.integers(k(7), new Int32Array(LENGTH), { low: -1_610_612_736, high: 1_610_612_736 })
    ),
    permutation: summary(Random.permutation(k(8), new Int32Array(LENGTH))),
    choice: summary(Random.choice(k(9), 1_000_000, new Int32Array(100), { replace: false })),
    weighted: summary(
      Random.choice(k(10), 4, new Int32Array(LENGTH), { probabilities: [0.1, 0.2, 0.3, 0.4] })
    ),
    weightedWithoutReplacement: summary(
      Random.choice(k(11), 4, new Int32Array(3), { replace: false, probabilities: [0.1, 0.2, 0.3, 0.4] })
    )
  }
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(draws(Number(process.argv[2])))}\n`)
}
