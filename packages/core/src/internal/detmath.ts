/**
 * Deterministic elementary functions: the same bits in every JavaScript engine
 * and in the WebAssembly kernels.
 *
 * `Math.log` and `Math.log1p` are only "implementation-approximated" by the
 * ECMAScript specification: V8, SpiderMonkey and JavaScriptCore may differ in the
 * last bit, and V8 itself has changed implementations. The samplers therefore use
 * `log` and `log1p` from this module, which need nothing beyond IEEE 754
 * `+ − × ÷` (correctly rounded everywhere) and bit access to doubles. They follow
 * the method of fdlibm's `__ieee754_log`/`log1p` (Sun Microsystems, 1993):
 * reduce to 2^k·(1 + f) with √2/2 ≤ 1 + f < √2, put s = f/(2 + f), and evaluate
 * log(1 + f) = 2s + s·R(s²) with fdlibm's degree-14 Remez polynomial; the error
 * is below one ulp. `probitSymmetric` is the normal quantile of Wichura's
 * Algorithm AS 241 (Applied Statistics 37(3), 1988, relative accuracy ~1e-16),
 * built on the same `log` and on `Math.sqrt` (correctly rounded by IEEE 754).
 *
 * `exp` is Cody–Waite range reduction x = k·ln 2 + r, |r| ≤ ln2/2, a degree-13
 * Taylor polynomial evaluated by Estrin's scheme (truncation error < 5·10⁻¹⁸
 * relative), and
 * an exact scaling by 2^k done as two multiplications by 2^⌊k/2⌋ and
 * 2^(k−⌊k/2⌋) so that every intermediate is normal; the WebAssembly SIMD
 * kernels perform the same operations in the same order, so both give
 * identical bits. Error ≤ 1 ulp against `Math.exp` in the tests (≤ 2 required).
 *
 * @internal
 */
// ---------------------------------------------------------------------------
// Bit access to doubles. The index of the high word depends on the platform's
// byte order, found once at load time.

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)
f64[0] = 1
/** Index of the high (sign, exponent, top of mantissa) word in `u32`. */
const HI = u32[1] === 0x3ff00000 ? 1 : 0
const LO = 1 - HI

/**
 * POW2[e + 1024] = 2^e for e in [−1024, 1023], all exact (repeated doubling and
 * halving of 1; 2^−1024 is subnormal but exact). Scaling by a table entry is
 * exact whenever the product is a normal double, and avoids writing bits into
 * a double, which costs a store-forwarding stall on every call.
 */
const POW2 = new Float64Array(2048)
{
  let up = 1
  let down = 1
  for (let e = 0; e <= 1024; e++) {
    if (e <= 1023) POW2[1024 + e] = up
    POW2[1024 - e] = down
    up *= 2
    down *= 0.5
  }
}

/**
 * The largest double below `x` (IEEE 754 `nextDown`), for finite `x`.
 */
export const nextDown = (x: number): number => {
  if (x === 0) return -Number.MIN_VALUE
  f64[0] = x
  let hi = u32[HI]!
  let lo = u32[LO]!
  if (x > 0) {
    // Decrease the magnitude by one unit in the last place.
    if (lo === 0) {
      hi = hi - 1
      lo = 0xffffffff
    } else {
      lo = lo - 1
    }
  } else if (lo === 0xffffffff) {
    hi = hi + 1
    lo = 0
  } else {
    lo = lo + 1
  }
  u32[HI] = hi
  u32[LO] = lo
  return f64[0]
}

/** The smallest double above `x` (IEEE 754 `nextUp`), for finite `x`. */
export const nextUp = (x: number): number => -nextDown(-x)

// ---------------------------------------------------------------------------
// Fused multiply-add: RN(a·b + c) with a single rounding.
//
// XLA fuses `floats * (maxval − minval) + minval` in `jax.random.uniform` into
// one FMA on CPU, so matching it bit for bit needs an FMA, which JavaScript lacks.
// `fusedMultiplyAdd` emulates it with error-free transformations and rounding
// to odd (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums:
// proved algorithms using rounding to odd", IEEE Trans. Computers 57(4), 2008):
//   (uh, ul) = a·b exactly (Dekker's product with Veltkamp's split),
//   (th, tl) = c + uh exactly (Knuth's TwoSum),
//   v = RO(tl + ul),  result = RN(th + v).
// It is exact when no intermediate value overflows and Dekker's product does not
// underflow; `fusedMultiplyAddExact` (BigInt arithmetic) covers the rest.

/** Veltkamp's splitter 2^27 + 1: x = hi + lo with hi, lo of 26 and 27 bits. */
const SPLITTER = 134217729

/** RO(x + y): the sum rounded to odd (truncate, then force the last bit to 1 if inexact). */
const sumRoundedToOdd = (x: number, y: number): number => {
  const s = x + y
  const yv = s - x
  const error = x - (s - yv) + (y - yv)
  if (error === 0) return s
  f64[0] = s
  if ((u32[LO]! & 1) === 1) return s
  // s is even and the exact sum lies strictly between s and its neighbour
  // towards `error`; that neighbour is odd.
  return error > 0 ? nextUp(s) : nextDown(s)
}

/**
 * RN(a·b + c), correctly rounded, when |a|, |b|, |c| ≤ 2^900 and a·b = 0 or
 * |a·b| ≥ 2^−950 (so Veltkamp's split cannot overflow and Dekker's error term
 * is exact); Boldo–Melquiond's emulation, see above.
 */
export const fusedMultiplyAdd = (a: number, b: number, c: number): number => {
  // Dekker's exact product a·b = uh + ul.
  const uh = a * b
  let t = SPLITTER * a
  const ah = t - (t - a)
  const al = a - ah
  t = SPLITTER * b
  const bh = t - (t - b)
  const bl = b - bh
  const ul = ah * bh - uh + ah * bl + al * bh + al * bl
  // TwoSum: c + uh = th + tl.
  const th = c + uh
  const z = th - c
  const tl = c - (th - z) + (uh - z)
  return th + sumRoundedToOdd(tl, ul)
}

/** ±M·2^E with M an integer below 2^53, for a finite double. */
const decompose = (x: number): { readonly mantissa: bigint; readonly exponent: number } => {
  f64[0] = x
  const hi = u32[HI]!
  const lo = u32[LO]!
  const biased = (hi >>> 20) & 0x7ff
  let mantissa = (BigInt(hi & 0x000fffff) << 32n) | BigInt(lo)
  let exponent = -1074
  if (biased !== 0) {
    mantissa |= 1n << 52n
    exponent = biased - 1075
  }
  return { mantissa: hi >>> 31 === 1 ? -mantissa : mantissa, exponent }
}

/** RN(m·2^e) for a BigInt m, subnormals and ties-to-even included. */
const roundScaled = (m: bigint, e: number): number => {
  if (m === 0n) return 0
  const negative = m < 0n
  let magnitude = negative ? -m : m
  const leading = magnitude.toString(2).length - 1 + e
  // The unit in the last place of the result: 53 significant bits, or the subnormal grid.
  const q = Math.max(leading - 52, -1074)
  if (q > e) {
    const shift = BigInt(q - e)
    const kept = magnitude >> shift
    const rest = magnitude - (kept << shift)
    const half = 1n << (shift - 1n)
    magnitude = rest > half || (rest === half && (kept & 1n) === 1n) ? kept + 1n : kept
    e = q
  }
  // magnitude ≤ 2^53 now: converting it is exact, and so is each power-of-two
  // scaling step below (table entries are exact; `**` is only approximated by
  // the specification). The result is representable, or overflows as it should.
  let value = Number(magnitude)
  while (e > 0) {
    const step = Math.min(e, 1000)
    value *= POW2[1024 + step]!
    e -= step
  }
  while (e < 0) {
    const step = Math.max(e, -1000)
    value *= POW2[1024 + step]!
    e -= step
  }
  return negative ? -value : value
}

/**
 * RN(a·b + c) by exact BigInt arithmetic, for any finite doubles. Slow; the
 * fallback of `fusedMultiplyAdd` for extreme magnitudes.
 */
export const fusedMultiplyAddExact = (a: number, b: number, c: number): number => {
  const x = decompose(a)
  const y = decompose(b)
  const z = decompose(c)
  const productExponent = x.exponent + y.exponent
  const e = Math.min(productExponent, z.exponent)
  const sum =
    ((x.mantissa * y.mantissa) << BigInt(productExponent - e)) + (z.mantissa << BigInt(z.exponent - e))
  if (sum === 0n) return a * b + c // exact zero: let IEEE decide the sign of zero
  return roundScaled(sum, e)
}

// ---------------------------------------------------------------------------
// Logarithms (fdlibm's method and coefficients; see the module comment).

// The coefficients are written as literals inside the functions: module-level
// constants are not folded by V8 and cost a load per use in these hot paths.
// Each literal is the shortest decimal that rounds to the published constant
// (fdlibm gives them in hex, e.g. Lg1 = 0x3FE5555555555593; AS 241 to 20
// digits), so it is the same double.

const TWO54 = 18014398509481984 // 2^54

/**
 * The exponent k such that x·2^−k lies in [√2/2, √2), for a positive normal x.
 *
 * The biased exponent gives x = 2^e·1.m; when the mantissa 1.m is at least about
 * √2 (its top 20 bits at least 0x6a09c, fdlibm's cut), k = e + 1 instead.
 */
const reducedExponent = (x: number): number => {
  f64[0] = x
  const hx = u32[HI]!
  return (hx >>> 20) - 1023 + ((((hx & 0x000fffff) + 0x95f64) & 0x100000) >>> 20)
}

/**
 * k·ln 2 + log(1 + f) + c for √2/2 − 1 ≤ f < √2 − 1, where c is a small
 * correction for a rounded 1 + f. With s = f/(2 + f), z = s², w = z² and
 * hfsq = f²/2, log(1 + f) = f − (hfsq − s·(hfsq + R)), R = Lg1·z + … + Lg7·z⁷
 * split into odd and even powers of w; ln 2 = ln2_hi + ln2_lo with k·ln2_hi
 * exact for |k| < 2000. This keeps the error below one ulp.
 */
const logReduced = (f: number, k: number, c: number): number => {
  const s = f / (2 + f)
  const z = s * s
  const w = z * z
  // Lg1, Lg3, Lg5, Lg7 on z·(…) and Lg2, Lg4, Lg6 on w·(…).
  const r =
    z * (0.6666666666666735 + w * (0.2857142874366239 + w * (0.1818357216161805 + w * 0.14798198605116586))) +
    w * (0.3999999999940942 + w * (0.22222198432149784 + w * 0.15313837699209373))
  const hfsq = 0.5 * f * f
  // ln2_hi = 0.6931471803691238 (0x3FE62E42FEE00000), ln2_lo = 1.9082149292705877e-10.
  return k * 0.6931471803691238 - (hfsq - (s * (hfsq + r) + (k * 1.9082149292705877e-10 + c)) - f)
}

/** log x for a positive normal finite x. */
const logNormal = (x: number): number => {
  const k = reducedExponent(x)
  // x·2^−k is exact and within [√2/2, √2), so subtracting 1 is exact (Sterbenz).
  return logReduced(x * POW2[1024 - k]! - 1, k, 0)
}

/** log x for zero, negative, subnormal, infinite or NaN x. */
const logSpecial = (x: number): number => {
  if (!(x > 0)) return x === 0 ? Number.NEGATIVE_INFINITY : Number.NaN
  if (x === Number.POSITIVE_INFINITY) return x
  // Subnormal: scale into the normal range first.
  const y = x * TWO54
  const k = reducedExponent(y)
  return logReduced(y * POW2[1024 - k]! - 1, k - 54, 0)
}

/**
 * Natural logarithm, identical in every engine, error below one ulp.
 * log(±0) = −∞, log(x < 0) = NaN, log(+∞) = +∞. The common case is a small
 * function that V8 inlines into sampling loops.
 */
export const log = (x: number): number =>
  x >= 2.2250738585072014e-308 && x < Number.POSITIVE_INFINITY ? logNormal(x) : logSpecial(x)

/** log(1 + x) for √2/2 − 1 < x < √2 − 1: no reduction needed, f = x is exact. */
const log1pSmall = (x: number): number =>
  // |x| < 2^−54: log1p(x) rounds to x (this also keeps the sign of −0).
  Math.abs(x) < 5.551115123125783e-17 ? x : logReduced(x, 0, 0)

/** log(1 + x) for x outside (√2/2 − 1, √2 − 1), including the special values. */
const log1pLarge = (x: number): number => {
  if (!(x > -1)) return x === -1 ? Number.NEGATIVE_INFINITY : Number.NaN
  if (x === Number.POSITIVE_INFINITY) return x
  if (x >= 9007199254740992) return log(x) // 1 + x rounds to x and the correction vanishes
  const u = 1 + x
  // c = (1 + x) − u exactly (one of the two differences is exact by Sterbenz's
  // lemma, depending on the side of 1 that u lies on); log(1 + x) ≈ log(u) + c/u.
  const c = (u >= 2 ? 1 - (u - x) : x - (u - 1)) / u
  const k = reducedExponent(u)
  return logReduced(u * POW2[1024 - k]! - 1, k, c)
}

/**
 * log(1 + x), accurate for small |x|, identical in every engine, error below
 * one ulp. log1p(−1) = −∞, log1p(x < −1) = NaN, log1p(+∞) = +∞.
 */
export const log1p = (x: number): number =>
  x > -0.2928932188134524 && x < 0.41421356237309503 ? log1pSmall(x) : log1pLarge(x)

// ---------------------------------------------------------------------------
// The standard normal quantile (Wichura's AS 241, PPND16).

// The two regions are separate functions so that V8 inlines `probitSymmetric`
// and the central branch into the sampling loop (a double returned from a call
// that is not inlined is boxed on the heap); the tails take 15% of draws.

/** Φ⁻¹(1/2 + q) for |q| ≤ 0.425. */
const probitCentral = (q: number): number => {
  const r = 0.180625 - q * q
  // A7…A0 over B7…B1, 1.
  const a =
    ((((((2509.0809287301227 * r + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) * r +
      13731.69376550946) *
      r +
      1971.5909503065513) *
      r +
      133.14166789178438) *
      r +
    3.3871328727963665
  const b =
    ((((((5226.495278852854 * r + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) * r +
      5394.196021424751) *
      r +
      687.1870074920579) *
      r +
      42.31333070160091) *
      r +
    1
  return (q * a) / b
}

/** Φ⁻¹((1 + v)/2) for 0.85 < |v| < 1. */
const probitTail = (v: number): number => {
  let r = Math.sqrt(-log(0.5 * (1 - Math.abs(v))))
  let value: number
  if (r <= 5) {
    r -= 1.6
    // C7…C0 over D7…D1, 1.
    value =
      (((((((0.0007745450142783414 * r + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) *
        r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
        1.4234371107496835) /
      (((((((1.0507500716444169e-9 * r + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) *
        r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
        1)
  } else {
    r -= 5
    // E7…E0 over F7…F1, 1.
    value =
      (((((((2.0103343992922881e-7 * r + 2.7115555687434876e-5) * r + 0.0012426609473880784) * r +
        0.026532189526576124) *
        r +
        0.29656057182850487) *
        r +
        1.7848265399172913) *
        r +
        5.463784911164114) *
        r +
        6.657904643501103) /
      (((((((2.0442631033899397e-15 * r + 1.421511758316446e-7) * r + 1.8463183175100548e-5) * r +
        0.0007868691311456133) *
        r +
        0.014875361290850615) *
        r +
        0.1369298809227358) *
        r +
        0.599832206555888) *
        r +
        1)
  }
  return v < 0 ? -value : value
}

/**
 * Φ⁻¹((1 + v)/2) = √2·erfinv(v) for v in (−1, 1): the standard normal quantile
 * of the probability p = (1 + v)/2, evaluated without rounding p.
 *
 * AS 241 uses three rational approximations of degree 7/7:
 * - centre, |q| ≤ 0.425 with q = p − 1/2: Φ⁻¹(p) = q·A(r)/B(r), r = 0.180625 − q²;
 * - tails, r = √(−log min(p, 1 − p)): C(r − 1.6)/D(r − 1.6) for r ≤ 5, else
 *   E(r − 5)/F(r − 5), with the sign of q.
 * Here q = v/2 is exact, and in the tails min(p, 1 − p) = (1 − |v|)/2 is exact
 * too (|v| > 0.85, so 1 − |v| is exact by Sterbenz's lemma).
 */
export const probitSymmetric = (v: number): number =>
  Math.abs(0.5 * v) <= 0.425 ? probitCentral(0.5 * v) : probitTail(v)

// ---------------------------------------------------------------------------
// exp

/** 1.5·2^52: adding and subtracting it rounds a double to the nearest integer (ties to even). */
export const ROUNDING_SHIFTER = 6755399441055744
export const LOG2_E = 1.4426950408889634
/** ln 2 = EXP_LN2_HI + EXP_LN2_LO, with k·EXP_LN2_HI exact for |k| < 2^21 (fdlibm's split). */
export const EXP_LN2_HI = 0.6931471803691238
export const EXP_LN2_LO = 1.9082149292705877e-10
/** Inputs are clamped to [EXP_MIN_INPUT, EXP_MAX_INPUT]: outside it exp is 0 or +∞ in double precision. */
export const EXP_MIN_INPUT = -746
export const EXP_MAX_INPUT = 710
/** 1/n! for n = 0…13, the Taylor coefficients of exp. */
export const EXP_COEFFICIENTS: ReadonlyArray<number> = (() => {
  const c: number[] = [1]
  for (let n = 1; n <= 13; n++) c.push(c[n - 1]! / n)
  return c
})()
const C0 = EXP_COEFFICIENTS[0]!
const C1 = EXP_COEFFICIENTS[1]!
const C2 = EXP_COEFFICIENTS[2]!
const C3 = EXP_COEFFICIENTS[3]!
const C4 = EXP_COEFFICIENTS[4]!
const C5 = EXP_COEFFICIENTS[5]!
const C6 = EXP_COEFFICIENTS[6]!
const C7 = EXP_COEFFICIENTS[7]!
const C8 = EXP_COEFFICIENTS[8]!
const C9 = EXP_COEFFICIENTS[9]!
const C10 = EXP_COEFFICIENTS[10]!
const C11 = EXP_COEFFICIENTS[11]!
const C12 = EXP_COEFFICIENTS[12]!
const C13 = EXP_COEFFICIENTS[13]!

/**
 * e^x, identical in every engine and to the WebAssembly SIMD kernels' exp.
 * exp(NaN) = NaN, exp(−∞) = 0, exp(+∞) = +∞.
 */
export const exp = (x: number): number => {
  if (x !== x) return x
  const xc = x < EXP_MIN_INPUT ? EXP_MIN_INPUT : x > EXP_MAX_INPUT ? EXP_MAX_INPUT : x
  const kf = xc * LOG2_E + ROUNDING_SHIFTER - ROUNDING_SHIFTER
  const r = xc - kf * EXP_LN2_HI - kf * EXP_LN2_LO
  // Estrin's scheme (four multiply-add levels deep instead of thirteen); the
  // SIMD kernels evaluate the same expression tree.
  const r2 = r * r
  const r4 = r2 * r2
  const r8 = r4 * r4
  const q0 = C0 + C1 * r + (C2 + C3 * r) * r2
  const q1 = C4 + C5 * r + (C6 + C7 * r) * r2
  const q2 = C8 + C9 * r + (C10 + C11 * r) * r2
  const p = q0 + q1 * r4 + (q2 + (C12 + C13 * r) * r4) * r8
  const k = kf | 0
  const k1 = k >> 1
  return p * POW2[1024 + k1]! * POW2[1024 + k - k1]!
}
