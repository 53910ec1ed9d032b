import { Errors } from "@descent/core"
import { assertClose, loadFixture } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Schedules from "../src/Schedules.ts"

/** Pinned fast-check seed: property tests are reproducible. */
const PROPERTY_SEED = 20_260_422
const runs = { seed: PROPERTY_SEED, numRuns: 300 }

interface Case {
  readonly name: string
  readonly source: string
  readonly schedule: unknown
  readonly steps: ReadonlyArray<number>
  readonly values: ReadonlyArray<number>
}
const fixture = loadFixture<{ readonly cases: ReadonlyArray<Case> }>(
  import.meta.url,
  "./fixtures/schedules.json"
)

/**
 * Whether a schedule calls `cos` anywhere. Those are the only kinds that are
 * not bit for bit with Optax: V8's Math.cos (fdlibm) and XLA's cos can differ
 * by one ulp of the cosine (≤ 2⁻⁵³ absolute, as |cos| ≤ 1). Everything else
 * (±, ×, ÷, min/max/floor and `**`) is the same IEEE float64 sequence of
 * operations as Optax's and agrees exactly, including `pow` on every fixture
 * step and the dense sweeps.
 */
const usesCos = (s: Schedules.Schedule): boolean => {
  switch (s.kind) {
    case "cosine":
    case "warmupCosine":
    case "oneCycle":
      return true
    case "warmupStableDecay":
      return s.decayShape === "cosine"
    case "join":
      return s.schedules.some(usesCos)
    default:
      return false
  }
}

/**
 * Tolerance for the cosine kinds. Relative: 1e-15 (≈ 4.5 ε) covers the final
 * roundings. Absolute: one ulp of cos (2⁻⁵³) propagates to the value as
 * |I|·(1 − α)·p·dᵖ⁻¹·2⁻⁵⁴ for cosine decay (d = ½(1 + cos) ∈ [0, 1]) and as
 * |a − b|·2⁻⁵⁴ for one-cycle's cosine interpolation: at most
 * max(1, p)·max|value|·2⁻⁵⁴ for p ≥ 1; we allow 2⁻⁵² (4×) for the one or two
 * roundings after it. The absolute term matters only where the value is near
 * α·I (the cosine's cancellation 1 + cos(π·t/T) ≈ 0), where a relative bound
 * would be meaningless; elsewhere the observed error is ≤ 1 ulp.
 */
const COS_RTOL = 1e-15
const cosAtol = (s: Schedules.Schedule, values: ReadonlyArray<number>): number => {
  const p = "exponent" in s ? Math.max(1, s.exponent) : 1
  return p * Math.max(...values.map(Math.abs)) * 2 ** -52
}

describe("Schedules vs optax.schedules (float64)", () => {
  for (const c of fixture.cases) {
    const schedule = Schedules.fromJSON(c.schedule)
    const exact = !usesCos(schedule)
    it(`${c.name} (${c.source})${exact ? ", bit for bit" : ""}`, () => {
      const actual = c.steps.map((t) => Schedules.evaluate(schedule, t))
      if (exact) {
        // Bit for bit: rtol = atol = 0 passes only on identical values.
        assertClose(actual, c.values, { rtol: 0, atol: 0, label: c.name })
      } else {
        assertClose(actual, c.values, { rtol: COS_RTOL, atol: cosAtol(schedule, c.values), label: c.name })
      }
    })
  }

  it("covers every kind", () => {
    const seen = new Set(fixture.cases.map((c) => Schedules.fromJSON(c.schedule).kind))
    // `tabulated` has no Optax function (see test/refined-schedule.test.ts).
    expect([...seen].sort()).toEqual(Schedules.kinds.filter((k) => k !== "tabulated").sort())
  })

  it("the cosine kinds are bit for bit at the sampled (non-dense) steps", () => {
    for (const c of fixture.cases.filter((c) => !c.name.startsWith("dense"))) {
      const s = Schedules.fromJSON(c.schedule)
      const actual = c.steps.map((t) => Schedules.evaluate(s, t))
      assertClose(actual, c.values, { rtol: 0, atol: 0, label: c.name })
    }
  })
})

// ---------------------------------------------------------------------------
// Arbitraries: one per kind, always valid.

const value = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true })
const nonNeg = fc.double({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true })
const steps = (min: number, max = 5000) => fc.integer({ min, max })

const arbitraries: { readonly [K in Schedules.Schedule["kind"]]: fc.Arbitrary<Schedules.Schedule> } = {
  constant: value.map(Schedules.constant),
  linear: fc
    .record({ initValue: value, endValue: value, transitionSteps: steps(1), transitionBegin: steps(0, 100) })
    .map(Schedules.linear),
  polynomial: fc
    .record({
      initValue: value,
      endValue: value,
      power: fc.double({ min: 0.1, max: 5, noNaN: true }),
      transitionSteps: steps(1),
      transitionBegin: steps(0, 100)
    })
    .map(Schedules.polynomial),
  exponential: fc
    .record(
      {
        initValue: value,
        transitionSteps: steps(1, 200),
        decayRate: fc.double({ min: 0.01, max: 2, noNaN: true }),
        transitionBegin: steps(0, 100),
        staircase: fc.boolean(),
        endValue: value
      },
      { requiredKeys: ["initValue", "transitionSteps", "decayRate"] }
    )
    .map(Schedules.exponential),
  cosine: fc
    .record({
      initValue: value,
      decaySteps: steps(1),
      alpha: fc.double({ min: 0, max: 1, noNaN: true }),
      exponent: fc.double({ min: 0.25, max: 4, noNaN: true })
    })
    .map(Schedules.cosine),
  warmupCosine: fc
    .record({
      initValue: value,
      peakValue: value,
      warmupSteps: steps(0, 500),
      extra: steps(1),
      endValue: value
    })
    .map(({ extra, ...o }) => Schedules.warmupCosine({ ...o, decaySteps: o.warmupSteps + extra })),
  warmupLinear: fc
    .record({
      initValue: value,
      peakValue: value,
      warmupSteps: steps(0, 500),
      extra: steps(1),
      endValue: value
    })
    .map(({ extra, ...o }) => Schedules.warmupLinear({ ...o, decaySteps: o.warmupSteps + extra })),
  warmupStableDecay: fc
    .record({
      initValue: value,
      peakValue: value,
      totalSteps: steps(10),
      decayFraction: fc.double({ min: 0.1, max: 1, noNaN: true }),
      warmFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      endValue: value,
      decayShape: fc.constantFrom("linear" as const, "cosine" as const)
    })
    .map(({ warmFraction, ...o }) =>
      Schedules.warmupStableDecay({
        ...o,
        warmupSteps: Math.floor(warmFraction * (o.totalSteps - Math.trunc(o.decayFraction * o.totalSteps)))
      })
    ),
  piecewiseConstant: fc
    .record({
      initValue: value,
      pieces: fc.uniqueArray(fc.tuple(steps(0), nonNeg), { maxLength: 5, selector: ([b]) => b })
    })
    .map(({ initValue, pieces }) => {
      const sorted = [...pieces].sort((a, b) => a[0] - b[0])
      return Schedules.piecewiseConstant({
        initValue,
        boundaries: sorted.map(([b]) => b),
        scales: sorted.map(([, s]) => s)
      })
    }),
  join: fc.constant(null).chain(() =>
    fc
      .array(
        fc.oneof(
          value.map(Schedules.constant),
          fc.record({ initValue: value, decaySteps: steps(1, 100) }).map(Schedules.cosine)
        ),
        { minLength: 1, maxLength: 4 }
      )
      .chain((schedules) =>
        fc
          .array(steps(0, 1000), { minLength: schedules.length - 1, maxLength: schedules.length - 1 })
          .map((bs) =>
            Schedules.join(
              schedules,
              [...bs].sort((a, b) => a - b)
            )
          )
      )
  ),
  oneCycle: fc
    .record({
      transitionSteps: steps(1),
      peakValue: value,
      pctStart: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      divFactor: fc.double({ min: 1, max: 100, noNaN: true }),
      finalDivFactor: fc.double({ min: 1, max: 1e4, noNaN: true })
    })
    .map(Schedules.oneCycle),
  rex: fc.record({ initValue: value, totalSteps: steps(1) }).map(Schedules.rex),
  tabulated: fc.array(value, { minLength: 1, maxLength: 50 }).map(Schedules.tabulated)
}

const anySchedule = fc.oneof(...Object.values(arbitraries))
const step = fc.integer({ min: -10, max: 20_000 })

describe("serialization", () => {
  for (const kind of Schedules.kinds) {
    it(`${kind}: JSON round-trip is lossless and evaluates identically`, () => {
      fc.assert(
        fc.property(arbitraries[kind], fc.array(step, { maxLength: 8 }), (s, ts) => {
          const back = JSON.parse(JSON.stringify(s)) as unknown
          expect(back).toStrictEqual(s)
          expect(Schedules.isSchedule(back)).toBe(true)
          const parsed = Schedules.fromJSON(back)
          for (const t of ts)
            expect(Object.is(Schedules.evaluate(parsed, t), Schedules.evaluate(s, t))).toBe(true)
        }),
        runs
      )
    })
  }

  it("toFunction agrees with evaluate", () => {
    fc.assert(
      fc.property(anySchedule, step, (s, t) => {
        expect(Object.is(Schedules.toFunction(s)(t), Schedules.evaluate(s, t))).toBe(true)
      }),
      runs
    )
  })

  it("isSchedule rejects non-schedules", () => {
    for (const v of [
      null,
      3,
      "cosine",
      [],
      {},
      { kind: "nope" },
      { kind: "constant" },
      { kind: "constant", value: Number.NaN },
      { kind: "constant", value: 1, extra: 2 },
      { kind: "cosine", initValue: 1, decaySteps: 0, alpha: 0, exponent: 1 },
      { kind: "join", schedules: [{ kind: "constant", value: 1 }, { kind: "bad" }], boundaries: [3] }
    ]) {
      expect(Schedules.isSchedule(v)).toBe(false)
    }
  })
})

// ---------------------------------------------------------------------------
// Properties of the formulas.

const nonIncreasing = (s: Schedules.Schedule, from: number, to: number): void => {
  let prev = Schedules.evaluate(s, from)
  for (let t = from + 1; t <= to; t++) {
    const v = Schedules.evaluate(s, t)
    expect(v).toBeLessThanOrEqual(prev)
    prev = v
  }
}
const nonDecreasing = (s: Schedules.Schedule, from: number, to: number): void => {
  let prev = Schedules.evaluate(s, from)
  for (let t = from + 1; t <= to; t++) {
    const v = Schedules.evaluate(s, t)
    expect(v).toBeGreaterThanOrEqual(prev)
    prev = v
  }
}
const positiveValue = fc.double({ min: 1e-6, max: 10, noNaN: true })
const fraction = fc.double({ min: 0, max: 1, noNaN: true })
const monotoneRuns = { seed: PROPERTY_SEED, numRuns: 60 }

describe("monotonicity", () => {
  it("cosine decay is non-increasing, from I to α·I", () => {
    fc.assert(
      fc.property(
        positiveValue,
        steps(1, 800),
        fraction,
        fc.double({ min: 0.25, max: 4, noNaN: true }),
        (i, T, alpha, p) => {
          const s = Schedules.cosine({ initValue: i, decaySteps: T, alpha, exponent: p })
          nonIncreasing(s, 0, T + 3)
          expect(Schedules.evaluate(s, 0)).toBe(i)
          expect(Schedules.evaluate(s, T + 10)).toBeCloseTo(alpha * i, 14)
        }
      ),
      monotoneRuns
    )
  })

  it("warmup increases to the peak, then the decay is non-increasing (warmupCosine, warmupLinear, WSD)", () => {
    fc.assert(
      fc.property(positiveValue, fraction, fraction, steps(1, 200), steps(1, 400), (peak, a, b, W, extra) => {
        const initValue = a * peak
        const endValue = b * peak
        const D = W + extra
        for (const s of [
          Schedules.warmupCosine({ initValue, peakValue: peak, warmupSteps: W, decaySteps: D, endValue }),
          Schedules.warmupLinear({ initValue, peakValue: peak, warmupSteps: W, decaySteps: D, endValue }),
          Schedules.warmupStableDecay({
            initValue,
            peakValue: peak,
            warmupSteps: W,
            totalSteps: D + W,
            decayFraction: 0.5,
            endValue
          })
        ]) {
          nonDecreasing(s, 0, W)
          expect(Schedules.evaluate(s, W)).toBe(peak)
          nonIncreasing(s, W, D + W + 3)
        }
      }),
      monotoneRuns
    )
  })

  it("linear, exponential (r < 1), piecewise (scales ≤ 1) and REX are non-increasing when decaying", () => {
    fc.assert(
      fc.property(positiveValue, fraction, steps(1, 300), fraction, (i, a, T, r) => {
        nonIncreasing(Schedules.linear({ initValue: i, endValue: a * i, transitionSteps: T }), 0, T + 3)
        nonIncreasing(
          Schedules.polynomial({ initValue: i, endValue: a * i, power: 2, transitionSteps: T }),
          0,
          T
        )
        const rate = 0.01 + 0.98 * r
        nonIncreasing(Schedules.exponential({ initValue: i, transitionSteps: T, decayRate: rate }), 0, 3 * T)
        nonIncreasing(
          Schedules.exponential({ initValue: i, transitionSteps: 7, decayRate: rate, staircase: true }),
          0,
          50
        )
        nonIncreasing(
          Schedules.piecewiseConstant({ initValue: i, boundaries: [3, T + 3], scales: [a, r] }),
          0,
          T + 5
        )
        const rx = Schedules.rex({ initValue: i, totalSteps: T })
        nonIncreasing(rx, 0, T + 3)
        expect(Schedules.evaluate(rx, 0)).toBe(i)
        expect(Schedules.evaluate(rx, T)).toBe(0)
      }),
      monotoneRuns
    )
  })

  it("oneCycle rises to the peak at ⌊pctStart·T⌋ and falls to peak/(div·finalDiv) at T", () => {
    const s = Schedules.oneCycle({
      transitionSteps: 1000,
      peakValue: 2,
      pctStart: 0.25,
      divFactor: 10,
      finalDivFactor: 100
    })
    expect(Schedules.evaluate(s, 0)).toBeCloseTo(0.2, 15)
    nonDecreasing(s, 0, 250)
    expect(Schedules.evaluate(s, 250)).toBe(2)
    nonIncreasing(s, 250, 1010)
    expect(Schedules.evaluate(s, 1000)).toBeCloseTo(2 / 1000, 15)
  })
})

describe("semantics", () => {
  it("join: a later schedule sees step − boundary", () => {
    const inner = Schedules.linear({ initValue: 1, endValue: 0, transitionSteps: 10 })
    const j = Schedules.join([Schedules.constant(5), inner], [100])
    expect(Schedules.evaluate(j, 99)).toBe(5)
    for (const t of [100, 103, 110, 200])
      expect(Schedules.evaluate(j, t)).toBe(Schedules.evaluate(inner, t - 100))
  })

  it("linearDecay goes to zero", () => {
    const s = Schedules.linearDecay(0.1, 50)
    expect(Schedules.evaluate(s, 0)).toBe(0.1)
    expect(Schedules.evaluate(s, 50)).toBe(0)
    expect(Schedules.evaluate(s, 500)).toBe(0)
  })

  it("exponential endValue is a floor when r < 1 and a ceiling when r > 1", () => {
    const down = Schedules.exponential({ initValue: 1, transitionSteps: 1, decayRate: 0.5, endValue: 0.1 })
    expect(Schedules.evaluate(down, 100)).toBe(0.1)
    const up = Schedules.exponential({ initValue: 1, transitionSteps: 1, decayRate: 2, endValue: 10 })
    expect(Schedules.evaluate(up, 100)).toBe(10)
  })

  it("REX follows lr·(1 − z)/(½ + (1 − z)/2)", () => {
    const s = Schedules.rex({ initValue: 3, totalSteps: 100 })
    expect(Schedules.evaluate(s, 50)).toBe((3 * 0.5) / (0.5 + 0.25))
  })
})

// ---------------------------------------------------------------------------
// Bad parameters.

const expectInvalid = (thunk: () => unknown, field: string): void => {
  try {
    thunk()
  } catch (e) {
    expect(e).toBeInstanceOf(Errors.InvalidOptions)
    expect((e as Errors.InvalidOptions).field).toBe(field)
    return
  }
  throw new Error(`expected InvalidOptions on ${field}`)
}

describe("bad parameters throw InvalidOptions naming the field", () => {
  it("constructors", () => {
    expectInvalid(() => Schedules.constant(Number.NaN), "value")
    expectInvalid(
      () => Schedules.linear({ initValue: 1, endValue: 0, transitionSteps: 0 }),
      "transitionSteps"
    )
    expectInvalid(
      () => Schedules.linear({ initValue: 1, endValue: 0, transitionSteps: 2.5 }),
      "transitionSteps"
    )
    expectInvalid(
      () => Schedules.linear({ initValue: 1, endValue: 0, transitionSteps: 5, transitionBegin: -1 }),
      "transitionBegin"
    )
    expectInvalid(
      () => Schedules.linear({ initValue: Infinity, endValue: 0, transitionSteps: 5 }),
      "initValue"
    )
    expectInvalid(
      () => Schedules.polynomial({ initValue: 1, endValue: 0, power: 0, transitionSteps: 5 }),
      "power"
    )
    expectInvalid(
      () => Schedules.exponential({ initValue: 1, transitionSteps: 5, decayRate: 0 }),
      "decayRate"
    )
    expectInvalid(
      () => Schedules.exponential({ initValue: 1, transitionSteps: 5, decayRate: -0.5 }),
      "decayRate"
    )
    expectInvalid(
      () => Schedules.exponential({ initValue: 1, transitionSteps: 5, decayRate: 0.5, endValue: Number.NaN }),
      "endValue"
    )
    expectInvalid(() => Schedules.cosine({ initValue: 1, decaySteps: 0 }), "decaySteps")
    expectInvalid(() => Schedules.cosine({ initValue: 1, decaySteps: 10, alpha: 1.5 }), "alpha")
    expectInvalid(() => Schedules.cosine({ initValue: 1, decaySteps: 10, exponent: -1 }), "exponent")
    expectInvalid(
      () => Schedules.warmupCosine({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 10 }),
      "decaySteps"
    )
    expectInvalid(
      () => Schedules.warmupLinear({ initValue: 0, peakValue: 1, warmupSteps: -1, decaySteps: 10 }),
      "warmupSteps"
    )
    expectInvalid(
      () =>
        Schedules.warmupStableDecay({ peakValue: 1, warmupSteps: 90, totalSteps: 100, decayFraction: 0.2 }),
      "warmupSteps"
    )
    expectInvalid(
      () =>
        Schedules.warmupStableDecay({ peakValue: 1, warmupSteps: 0, totalSteps: 100, decayFraction: 0.001 }),
      "decayFraction"
    )
    expectInvalid(
      () =>
        Schedules.warmupStableDecay({ peakValue: 1, warmupSteps: 0, totalSteps: 100, decayFraction: 1.5 }),
      "decayFraction"
    )
    expectInvalid(
      () => Schedules.piecewiseConstant({ initValue: 1, boundaries: [10, 5], scales: [0.1, 0.1] }),
      "boundaries"
    )
    expectInvalid(
      () => Schedules.piecewiseConstant({ initValue: 1, boundaries: [10, 20], scales: [0.1, -1] }),
      "scales"
    )
    expectInvalid(() => Schedules.piecewiseConstant({ initValue: 1, boundaries: [10], scales: [] }), "scales")
    expectInvalid(() => Schedules.join([], []), "schedules")
    expectInvalid(() => Schedules.join([Schedules.constant(1), Schedules.constant(2)], []), "boundaries")
    expectInvalid(
      () => Schedules.join([Schedules.constant(1), Schedules.constant(2), Schedules.constant(3)], [10, 5]),
      "boundaries"
    )
    expectInvalid(() => Schedules.oneCycle({ transitionSteps: 100, peakValue: 1, pctStart: 1 }), "pctStart")
    expectInvalid(() => Schedules.oneCycle({ transitionSteps: 0, peakValue: 1 }), "transitionSteps")
    expectInvalid(() => Schedules.oneCycle({ transitionSteps: 10, peakValue: 1, divFactor: 0 }), "divFactor")
    expectInvalid(() => Schedules.rex({ initValue: 1, totalSteps: 0 }), "totalSteps")
  })

  it("fromJSON", () => {
    expectInvalid(() => Schedules.fromJSON({ kind: "step" }), "kind")
    expectInvalid(() => Schedules.fromJSON(null), "schedule")
    expectInvalid(() => Schedules.fromJSON({ kind: "constant", value: 1, typo: 2 }), "typo")
    expectInvalid(
      () =>
        Schedules.fromJSON({
          kind: "linear",
          initValue: 1,
          endValue: 0,
          transitionSteps: 3,
          transitionBegin: 0,
          power: 2
        }),
      "power"
    )
    expectInvalid(
      () =>
        Schedules.fromJSON({
          kind: "exponential",
          initValue: 1,
          transitionSteps: 3,
          decayRate: 0.5,
          transitionBegin: 0,
          staircase: "yes"
        }),
      "staircase"
    )
    expectInvalid(
      () =>
        Schedules.fromJSON({
          kind: "join",
          schedules: [
            { kind: "constant", value: 1 },
            { kind: "rex", initValue: 1, totalSteps: -3 }
          ],
          boundaries: [5]
        }),
      "totalSteps"
    )
  })
})
