import { Errors } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as LineSearch from "../src/LineSearch.ts"

/**
 * A quartic restriction φ(α) = φ₀ + sα + aα² + bα³ + cα⁴ with s < 0 and
 * c > 0 (bounded below), optionally NaN beyond `nanBeyond`.
 */
const quartic = (s: number, a: number, b: number, c: number, nanBeyond = Number.POSITIVE_INFINITY) => {
  const phi0 = 1
  let calls = 0
  const phi: LineSearch.Restriction = (t) => {
    calls++
    if (t > nanBeyond) return { value: Number.NaN, derivative: Number.NaN }
    return {
      value: phi0 + s * t + a * t * t + b * t ** 3 + c * t ** 4,
      derivative: s + 2 * a * t + 3 * b * t * t + 4 * c * t ** 3
    }
  }
  return { phi, phi0, slope: s, calls: () => calls }
}

const coefficient = fc.double({ min: -10, max: 10, noNaN: true })
const restrictionArb = fc.record({
  s: fc.double({ min: -10, max: -1e-3, noNaN: true }),
  a: coefficient,
  b: coefficient,
  c: fc.double({ min: 1e-3, max: 10, noNaN: true }),
  initialStep: fc.double({ min: 1e-3, max: 100, noNaN: true }),
  nanBeyond: fc.option(fc.double({ min: 1e-2, max: 10, noNaN: true }), { nil: undefined })
})

describe("strongWolfe (Moré–Thuente)", () => {
  it("the result satisfies the conditions it reports (property)", () => {
    fc.assert(
      fc.property(restrictionArb, ({ s, a, b, c, initialStep, nanBeyond }) => {
        const q = quartic(s, a, b, c, nanBeyond)
        const options = { sufficientDecrease: 1e-4, curvature: 0.9, initialStep, maxTrials: 30 }
        const r = LineSearch.strongWolfe(q.phi, q.phi0, q.slope, options)
        expect(r.trials).toBe(q.calls())
        expect(r.trials).toBeLessThanOrEqual(30)
        if (r.termination === "nonFinite" || r.termination === "maxTrials") return
        // Every other termination returns a finite trial that φ reproduces.
        const again = q.phi(r.step)
        expect(again.value).toBe(r.value)
        expect(again.derivative).toBe(r.derivative)
        const armijo = r.value <= q.phi0 + 1e-4 * r.step * q.slope
        const curvature = Math.abs(r.derivative) <= 0.9 * Math.abs(q.slope)
        expect(r.satisfiesArmijo).toBe(armijo)
        expect(r.satisfiesCurvature).toBe(curvature)
        if (r.termination === "strongWolfe") {
          expect(armijo && curvature).toBe(true)
        }
        if (r.termination === "stepAtMaximum") expect(armijo).toBe(true)
      }),
      { numRuns: 500, seed: 7 }
    )
  })

  it("finds a strong Wolfe step on smooth bounded-below restrictions without NaN regions (property)", () => {
    fc.assert(
      fc.property(restrictionArb, ({ s, a, b, c, initialStep }) => {
        const q = quartic(s, a, b, c)
        const r = LineSearch.strongWolfe(q.phi, q.phi0, q.slope, { initialStep, maxTrials: 40 })
        // Moré–Thuente's Theorem: a strong Wolfe point is found in finitely
        // many steps; the warnings need an interval below xtol = 0.1
        // relative, which these well-scaled quartics do not reach first.
        expect(["strongWolfe", "intervalTooSmall", "roundingErrors"]).toContain(r.termination)
        if (r.termination === "strongWolfe") expect(r.satisfiesArmijo && r.satisfiesCurvature).toBe(true)
      }),
      { numRuns: 300, seed: 11 }
    )
  })

  it("shrinks past a NaN region and never returns a non-finite step", () => {
    // φ(α) = 1 − α + α²/2 (minimizer 1), NaN for α > 0.3: the trials
    // α = 1 and 0.5 are NaN, each halving the distance to the best step (0);
    // α = 0.25 is finite. With c₂ = 0.9 it satisfies strong Wolfe
    // (|φ'| = 0.75); with c₂ = 0.1 it does not, but it is now the largest
    // step allowed and decreases φ enough: `stepAtMaximum`.
    const q = quartic(-1, 0.5, 0, 1e-12, 0.3)
    const loose = LineSearch.strongWolfe(q.phi, q.phi0, q.slope, { initialStep: 1 })
    expect([loose.termination, loose.step, loose.trials]).toEqual(["strongWolfe", 0.25, 3])
    const strict = LineSearch.strongWolfe(q.phi, q.phi0, q.slope, { initialStep: 1, curvature: 0.1 })
    expect([strict.termination, strict.step, strict.trials]).toEqual(["stepAtMaximum", 0.25, 3])
    expect(strict.satisfiesArmijo).toBe(true)
    expect(strict.satisfiesCurvature).toBe(false)
  })

  it("reports nonFinite when φ is NaN at every positive step", () => {
    const phi: LineSearch.Restriction = () => ({ value: Number.NaN, derivative: Number.NaN })
    const r = LineSearch.strongWolfe(phi, 0, -1, { maxTrials: 12 })
    expect(r.termination).toBe("nonFinite")
    expect(r.trials).toBe(12)
    expect(r.satisfiesArmijo).toBe(false)
  })

  it("reports notDescent without evaluating φ when φ'(0) ≥ 0", () => {
    let calls = 0
    const phi: LineSearch.Restriction = () => {
      calls++
      return { value: 0, derivative: 0 }
    }
    for (const slope of [0, 1, Number.NaN]) {
      expect(LineSearch.strongWolfe(phi, 0, slope).termination).toBe("notDescent")
      expect(LineSearch.backtracking(phi, 0, slope).termination).toBe("notDescent")
    }
    expect(calls).toBe(0)
  })

  it("ends at maxTrials when the budget is too small", () => {
    // A very flat start: φ(α) = 1 − 1e-6α + α⁴: many extrapolation steps from α₀ = 1e-8.
    const q = quartic(-1e-6, 0, 0, 1)
    const r = LineSearch.strongWolfe(q.phi, q.phi0, q.slope, { initialStep: 1e-8, maxTrials: 2 })
    expect(r.termination).toBe("maxTrials")
    expect(r.trials).toBe(2)
  })

  it("reproduces Moré and Thuente's Tables 1–6", () => {
    // The six test functions of Moré & Thuente (1994, §5) from α₀ = 1e-3,
    // 1e-1, 10, 1e3, with their (ftol, gtol) and xtol = 1e-10. Expected
    // (step, φ(α), φ'(α), evaluations) of the paper's Tables 1–6 (to five
    // digits, as reproduced by Dianne O'Leary's MATLAB translation and by
    // jlmelville/mize's test_more_thuente.R). Our search, written from the
    // paper's text, gives the paper's evaluation counts in all 24 cases. The
    // derivatives near a minimizer (Table 2) are differences of nearly equal
    // terms, so they agree to 2e-4 relative; the rest to the printed digits.
    const f1: LineSearch.Restriction = (t) => ({
      value: -t / (t * t + 2),
      derivative: (t * t - 2) / (t * t + 2) ** 2
    })
    const f2: LineSearch.Restriction = (t) => {
      const u = t + 0.004
      return { value: u ** 5 - 2 * u ** 4, derivative: 5 * u ** 4 - 8 * u ** 3 }
    }
    const f3: LineSearch.Restriction = (t) => {
      const b = 0.01
      const l = 39
      let value: number
      let derivative: number
      if (t <= 1 - b) {
        value = 1 - t
        derivative = -1
      } else if (t >= 1 + b) {
        value = t - 1
        derivative = 1
      } else {
        value = (t - 1) ** 2 / (2 * b) + b / 2
        derivative = (t - 1) / b
      }
      value += ((2 * (1 - b)) / (l * Math.PI)) * Math.sin((l * Math.PI * t) / 2)
      derivative += (1 - b) * Math.cos((l * Math.PI * t) / 2)
      return { value, derivative }
    }
    const yanai =
      (b1: number, b2: number): LineSearch.Restriction =>
      (t) => {
        const g = (b: number) => Math.sqrt(1 + b * b) - b
        const a = Math.sqrt((1 - t) ** 2 + b2 * b2)
        const c = Math.sqrt(t * t + b1 * b1)
        return { value: g(b1) * a + g(b2) * c, derivative: (-g(b1) * (1 - t)) / a + (g(b2) * t) / c }
      }
    const tables: ReadonlyArray<
      readonly [
        LineSearch.Restriction,
        number,
        number,
        ReadonlyArray<readonly [number, number, number, number]>
      ]
    > = [
      [
        f1,
        1e-3,
        0.1,
        [
          [1.365, -0.35333, -0.0091645, 6],
          [1.4414, -0.35349, 0.0046645, 3],
          [10, -0.098039, 0.0094195, 1],
          [36.888, -0.02707, 7.3169e-4, 4]
        ]
      ],
      [
        f2,
        0.1,
        0.1,
        [
          [1.596, -2.6214, 3.8113e-9, 12],
          [1.596, -2.6214, 1.0106e-10, 8],
          [1.596, -2.6214, -4.9725e-9, 8],
          [1.596, -2.6214, -2.3091e-8, 11]
        ]
      ],
      [
        f3,
        0.1,
        0.1,
        [
          [1.0, -0.01116, -5.144e-5, 12],
          [1.0, -0.01116, -1.9224e-4, 12],
          [1.0, -0.01116, -1.9892e-6, 10],
          [1.0, -0.01116, -1.5789e-5, 13]
        ]
      ],
      [
        yanai(0.001, 0.001),
        0.001,
        0.001,
        [
          [0.085, 0.99901, -6.8531e-5, 4],
          [0.1, 0.99901, -4.933e-5, 1],
          [0.3491, 0.999, -2.9195e-6, 3],
          [0.8294, 0.999, 1.6436e-5, 4]
        ]
      ],
      [
        yanai(0.01, 0.001),
        0.001,
        0.001,
        [
          [0.075011, 0.99138, 1.9025e-4, 6],
          [0.07751, 0.99139, 7.3935e-4, 3],
          [0.073142, 0.99138, -2.5691e-4, 7],
          [0.076159, 0.99139, 4.4913e-4, 8]
        ]
      ],
      [
        yanai(0.001, 0.01),
        0.001,
        0.001,
        [
          [0.9279, 0.99139, 5.2203e-4, 13],
          [0.92615, 0.99138, 8.3588e-5, 11],
          [0.92478, 0.99138, -2.3788e-4, 8],
          [0.9244, 0.99139, -3.2498e-4, 11]
        ]
      ]
    ]
    tables.forEach(([phi, ftol, gtol, rows], table) => {
      const start = phi(0)
      ;[1e-3, 1e-1, 10, 1e3].forEach((initialStep, k) => {
        const [step, value, derivative, trials] = rows[k]!
        const r = LineSearch.strongWolfe(phi, start.value, start.derivative, {
          sufficientDecrease: ftol,
          curvature: gtol,
          intervalTolerance: 1e-10,
          initialStep,
          maxTrials: 100
        })
        const label = `Table ${table + 1}, α₀ = ${initialStep}`
        expect(r.termination, label).toBe("strongWolfe")
        expect(r.trials, label).toBe(trials)
        expect(Math.abs(r.step - step), label).toBeLessThanOrEqual(5e-5 * Math.abs(step))
        expect(Math.abs(r.value - value), label).toBeLessThanOrEqual(5e-5 * Math.abs(value))
        expect(Math.abs(r.derivative - derivative), label).toBeLessThanOrEqual(2e-4 * Math.abs(derivative))
      })
    })
  })

  it("the reverse-communication form drives the same search as strongWolfe", () => {
    const q = quartic(-2, -1, 0.5, 0.3)
    const options = LineSearch.moreThuenteOptions("test", { sufficientDecrease: 1e-4, curvature: 0.1 })
    let s = LineSearch.moreThuenteStart(q.phi0, q.slope, 0.01, options)
    let last = { value: Number.NaN, derivative: Number.NaN }
    for (let k = 0; k < 30 && s.task === "evaluate"; k++) {
      last = q.phi(s.step)
      s = LineSearch.moreThuenteUpdate(s, last.value, last.derivative)
    }
    const r = LineSearch.strongWolfe(q.phi, q.phi0, q.slope, {
      sufficientDecrease: 1e-4,
      curvature: 0.1,
      initialStep: 0.01,
      maxTrials: 30
    })
    expect([s.task, s.termination, s.step, s.trials]).toEqual(["converged", "strongWolfe", r.step, r.trials])
    expect([last.value, last.derivative]).toEqual([r.value, r.derivative])
    // An ended search ignores further values; a start without descent throws.
    expect(LineSearch.moreThuenteUpdate(s, 0, 0)).toBe(s)
    expect(() => LineSearch.moreThuenteStart(q.phi0, 1, 1, options)).toThrow(Errors.InvalidOptions)
    expect(() => LineSearch.moreThuenteStart(q.phi0, -1, 2e10, options)).toThrow(Errors.InvalidOptions)
  })

  it("rejects out-of-range options", () => {
    const q = quartic(-1, 1, 0, 1)
    const bad: Array<LineSearch.StrongWolfeOptions> = [
      { sufficientDecrease: 0 },
      { sufficientDecrease: 1 },
      { curvature: 1.5 },
      { sufficientDecrease: 0.5, curvature: 0.4 },
      { sufficientDecrease: 0.5, curvature: Number.NaN },
      { intervalTolerance: -1 },
      { minStep: -1 },
      { minStep: 2, maxStep: 1 },
      { initialStep: 0 },
      { maxTrials: 0 },
      { maxTrials: 2.5 }
    ]
    for (const options of bad) {
      expect(() => LineSearch.strongWolfe(q.phi, q.phi0, q.slope, options)).toThrow(Errors.InvalidOptions)
    }
  })
})

describe("backtracking (Armijo)", () => {
  it("returns a step with sufficient decrease, the first of α₀ρᵏ (property)", () => {
    fc.assert(
      fc.property(
        restrictionArb,
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        ({ s, a, b, c, initialStep, nanBeyond }, shrink) => {
          const q = quartic(s, a, b, c, nanBeyond)
          const r = LineSearch.backtracking(q.phi, q.phi0, q.slope, { initialStep, shrink, maxTrials: 60 })
          expect(r.trials).toBe(q.calls())
          if (r.termination !== "armijo") return
          expect(r.satisfiesArmijo).toBe(true)
          expect(r.value).toBe(q.phi(r.step).value)
          // The step is α₀ρ^(trials−1): every larger candidate was rejected.
          let t = initialStep
          for (let k = 1; k < r.trials; k++) {
            const v = q.phi(t).value
            expect(Number.isFinite(v) && v <= q.phi0 + 1e-4 * t * s).toBe(false)
            t *= shrink
          }
          expect(r.step).toBe(t)
        }
      ),
      { numRuns: 400, seed: 5 }
    )
  })

  it("treats NaN as insufficient decrease and reports nonFinite when nothing is finite", () => {
    const q = quartic(-1, 0.5, 0, 1e-12, 0.1)
    const r = LineSearch.backtracking(q.phi, q.phi0, q.slope)
    expect(r.termination).toBe("armijo")
    expect(r.step).toBe(0.0625)
    const nan: LineSearch.Restriction = () => ({ value: Number.NaN, derivative: Number.NaN })
    const f = LineSearch.backtracking(nan, 0, -1, { maxTrials: 5 })
    expect(f.termination).toBe("nonFinite")
    expect(f.trials).toBe(5)
  })

  it("ends at maxTrials on an ascent restriction mislabelled as descent", () => {
    // φ increases (wrong slope passed): no step satisfies Armijo.
    const phi: LineSearch.Restriction = (t) => ({ value: 1 + t, derivative: 1 })
    const r = LineSearch.backtracking(phi, 1, -1, { maxTrials: 8 })
    expect(r.termination).toBe("maxTrials")
    expect(r.satisfiesArmijo).toBe(false)
    expect(r.trials).toBe(8)
  })
})
