/**
 * The Threefry-2x32-20 block function behind `Random`, written so that every
 * JavaScript engine produces the same bits (the elementary functions the
 * samplers need are in `detmath.ts`).
 *
 * Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror & Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011) maps a 64-bit key and a 64-bit counter,
 * each held as two 32-bit words, to 64 random bits. It is a keyed bijection of
 * the counter: for a fixed key, distinct counters give distinct blocks. All
 * arithmetic is on int32 values (`| 0` wraps additions mod 2^32; rotations are
 * two shifts), so the results are exact in every engine.
 *
 * @internal
 */

/** The Skein key-schedule parity constant: k2 = k0 ⊕ k1 ⊕ 0x1BD11BDA. */
const SKEIN_PARITY = 0x1bd11bda

/**
 * Threefry-2x32-20 of `count` consecutive 64-bit counters, the first being
 * `(hi, lo)` (high word, low word), under the key `(key0, key1)`.
 *
 * Block j goes to `out[2j]` (first word) and `out[2j + 1]` (second word). The
 * counter's low word wraps into the high word. Two blocks are computed per
 * iteration, interleaved, which lets the CPU overlap their dependency chains
 * (about twice as fast as one block at a time); the 20 rounds are unrolled.
 */
export const threefryBlocks = (
  key0: number,
  key1: number,
  hi: number,
  lo: number,
  count: number,
  out: Uint32Array
): void => {
  const k0 = key0 | 0
  const k1 = key1 | 0
  const k2 = k0 ^ k1 ^ SKEIN_PARITY
  let c0 = hi | 0
  let c1 = lo | 0
  for (let j = 0; j < count; j += 2) {
    // Key injection 0 on the two counters (c0, c1) and (c0, c1) + 1.
    let x0 = (c0 + k0) | 0
    let x1 = (c1 + k1) | 0
    c1 = (c1 + 1) | 0
    if (c1 === 0) c0 = (c0 + 1) | 0
    let y0 = (c0 + k0) | 0
    let y1 = (c1 + k1) | 0
    c1 = (c1 + 1) | 0
    if (c1 === 0) c0 = (c0 + 1) | 0
    // Rounds 1–4, rotations 13, 15, 26, 6.
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 13) | (y1 >>> 19)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 15) | (y1 >>> 17)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 26) | (y1 >>> 6)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 6) | (y1 >>> 26)) ^ y0
    // Key injection 1: words (k1, k2) and the injection counter 1.
    x0 = (x0 + k1) | 0
    x1 = (x1 + k2 + 1) | 0
    y0 = (y0 + k1) | 0
    y1 = (y1 + k2 + 1) | 0
    // Rounds 5–8, rotations 17, 29, 16, 24.
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 17) | (y1 >>> 15)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 29) | (y1 >>> 3)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 16) | (y1 >>> 16)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 24) | (y1 >>> 8)) ^ y0
    // Key injection 2: words (k2, k0) and the injection counter 2.
    x0 = (x0 + k2) | 0
    x1 = (x1 + k0 + 2) | 0
    y0 = (y0 + k2) | 0
    y1 = (y1 + k0 + 2) | 0
    // Rounds 9–12, rotations 13, 15, 26, 6.
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 13) | (y1 >>> 19)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 15) | (y1 >>> 17)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 26) | (y1 >>> 6)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 6) | (y1 >>> 26)) ^ y0
    // Key injection 3: words (k0, k1) and the injection counter 3.
    x0 = (x0 + k0) | 0
    x1 = (x1 + k1 + 3) | 0
    y0 = (y0 + k0) | 0
    y1 = (y1 + k1 + 3) | 0
    // Rounds 13–16, rotations 17, 29, 16, 24.
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 17) | (y1 >>> 15)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 29) | (y1 >>> 3)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 16) | (y1 >>> 16)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 24) | (y1 >>> 8)) ^ y0
    // Key injection 4: words (k1, k2) and the injection counter 4.
    x0 = (x0 + k1) | 0
    x1 = (x1 + k2 + 4) | 0
    y0 = (y0 + k1) | 0
    y1 = (y1 + k2 + 4) | 0
    // Rounds 17–20, rotations 13, 15, 26, 6.
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 13) | (y1 >>> 19)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 15) | (y1 >>> 17)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 26) | (y1 >>> 6)) ^ y0
    x0 = (x0 + x1) | 0
    x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0
    y0 = (y0 + y1) | 0
    y1 = ((y1 << 6) | (y1 >>> 26)) ^ y0
    // Key injection 5: words (k2, k0) and the injection counter 5.
    x0 = (x0 + k2) | 0
    x1 = (x1 + k0 + 5) | 0
    y0 = (y0 + k2) | 0
    y1 = (y1 + k0 + 5) | 0
    out[2 * j] = x0
    out[2 * j + 1] = x1
    if (j + 1 < count) {
      out[2 * j + 2] = y0
      out[2 * j + 3] = y1
    }
  }
}

const wordScratch = new Uint32Array(4)

/**
 * One Threefry block `(key0, key1)` × `(hi, lo)` written to `out[offset]`,
 * `out[offset + 1]`.
 */
export const threefryBlock = (
  key0: number,
  key1: number,
  hi: number,
  lo: number,
  out: Uint32Array,
  offset: number
): void => {
  threefryBlocks(key0, key1, hi, lo, 1, wordScratch)
  out[offset] = wordScratch[0]!
  out[offset + 1] = wordScratch[1]!
}

/** The 32-bit word JAX draws from one block: first word XOR second word, as uint32. */
export const threefryWord = (key0: number, key1: number, hi: number, lo: number): number => {
  threefryBlocks(key0, key1, hi, lo, 1, wordScratch)
  return (wordScratch[0]! ^ wordScratch[1]!) >>> 0
}
