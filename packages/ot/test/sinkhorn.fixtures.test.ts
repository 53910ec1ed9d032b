/**
 * The entropic solvers against POT (fixtures from test/fixtures/generate_sinkhorn.py).
 */
import { Matrix } from "@descent/core"
import { assertClose, loadFixture, matrixFromRows } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as EpsilonScaling from "../src/EpsilonScaling.ts"
import * as Geometry from "../src/Geometry.ts"
import * as Greenkhorn from "../src/Greenkhorn.ts"
import * as LinearProblem from "../src/LinearProblem.ts"
import * as Sinkhorn from "../src/Sinkhorn.ts"
import * as SinkhornAnderson from "../src/SinkhornAnderson.ts"
import * as SinkhornLog from "../src/SinkhornLog.ts"
import * as SinkhornNewtonSparse from "../src/SinkhornNewtonSparse.ts"
import * as SinkhornStabilized from "../src/SinkhornStabilized.ts"

interface PotRun {
  readonly plan: number[][]
  readonly f?: number[]
  readonly g?: number[]
  readonly iterations: number
  readonly cost?: number
}
interface Run {
  readonly epsilon: number
  readonly sinkhorn?: PotRun
  readonly sinkhorn2?: number
  readonly sinkhorn_log?: PotRun
  readonly sinkhorn_stabilized?: PotRun
  readonly sinkhorn_epsilon_scaling?: PotRun
  readonly greenkhorn?: PotRun
}
interface Case {
  readonly name: string
  readonly a: number[]
  readonly b: number[]
  readonly C: number[][]
  readonly runs: Run[]
}
interface Fixture {
  readonly versions: Record<string, string>
  readonly cases: Case[]
  readonly lp: {
    readonly a: number[]
    readonly b: number[]
    readonly C: number[][]
    readonly lpCost: number
    readonly epsilons: number[]
    readonly entropicCosts: number[]
  }
}

const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/sinkhorn.json")

// The acceptance: plans agree with POT to 1e-8 (absolute; entries are
// O(1/(n·m)) ≥ 1e-5 on the medium problems, so this is also ≈ 1e-3 relative
// on the smallest relevant entries and far tighter on the large ones).
const PLAN_ATOL = 1e-8
// Both sides stop at a marginal error ≤ 1e-13 (POT at 1e-15 in norm 2); the
// potentials then agree to ε·δ/min(a, b) ≈ 1e-11·ε for δ ≈ 1e-13 and masses
// ≥ 1e-3, up to the additive constant (f + t, g − t) removed below. 1e-9 in
// cost units leaves room for the conditioning of the small-ε runs.
const POTENTIAL_ATOL = 1e-9
// ⟨C, P⟩ is a sum of n·m entries of P times costs ≤ 1, so a plan within
// PLAN_ATOL entrywise and the rounding of n·m terms bound it by 1e-10 here.
const COST_ATOL = 1e-10
// Our stopping tolerance: far below the plan tolerance, as POT's.
const SOLVER_TOLERANCE = 1e-13

const problemOf = (c: Case) =>
  LinearProblem.make(
    Geometry.fromCostMatrix(Matrix.fromData(c.C.length, c.C[0]!.length, matrixFromRows(c.C).data)),
    {
      a: c.a,
      b: c.b
    }
  )

/** Removes the additive constant: f − mean(f), g + mean(f) over finite entries. */
const centered = (f: ArrayLike<number>, g: ArrayLike<number>) => {
  let s = 0
  let k = 0
  for (let i = 0; i < f.length; i++)
    if (Number.isFinite(f[i]!)) {
      s += f[i]!
      k++
    }
  const t = s / k
  return { f: Array.from(f, (v) => v - t), g: Array.from(g, (v) => v + t) }
}

const checkRun = (
  label: string,
  result: { f: Float64Array; g: Float64Array; cost: number; plan: () => Matrix.Matrix },
  pot: PotRun,
  cost: number | undefined
) => {
  const P = result.plan()
  for (let i = 0; i < P.data.length; i++) expect(Number.isNaN(P.data[i]!)).toBe(false)
  assertClose(P, matrixFromRows(pot.plan), { rtol: 0, atol: PLAN_ATOL, label: `${label} plan` })
  if (pot.f !== undefined && pot.g !== undefined) {
    const ours = centered(result.f, result.g)
    const theirs = centered(pot.f, pot.g)
    assertClose(ours.f, theirs.f, { rtol: 0, atol: POTENTIAL_ATOL, label: `${label} f` })
    assertClose(ours.g, theirs.g, { rtol: 0, atol: POTENTIAL_ATOL, label: `${label} g` })
  }
  if (cost !== undefined) assertClose(result.cost, cost, { rtol: 0, atol: COST_ATOL, label: `${label} cost` })
}

describe(`Sinkhorn and SinkhornLog vs POT ${fixture.versions.pot}`, () => {
  for (const c of fixture.cases) {
    for (const run of c.runs) {
      const problem = problemOf(c)
      const reference = run.sinkhorn ?? run.sinkhorn_log!
      const referenceCost = run.sinkhorn2 ?? run.sinkhorn_log?.cost
      const maxIterations = 300_000
      it(`${c.name}, ε = ${run.epsilon}: scaling form (with fallback) = ot.sinkhorn / sinkhorn2`, () => {
        const r = Sinkhorn.solve(problem, {
          epsilon: run.epsilon,
          tolerance: SOLVER_TOLERANCE,
          maxIterations
        })
        expect(r.status).toBe("converged")
        checkRun(`${c.name} ${run.epsilon} Sinkhorn`, r, reference, referenceCost)
        if (run.epsilon < 1.4e-3) expect(r.domain).toBe("log")
      })
      it(`${c.name}, ε = ${run.epsilon}: log domain = sinkhorn_log`, () => {
        const r = SinkhornLog.solve(problem, {
          epsilon: run.epsilon,
          tolerance: SOLVER_TOLERANCE,
          maxIterations
        })
        expect(r.status).toBe("converged")
        checkRun(`${c.name} ${run.epsilon} SinkhornLog`, r, run.sinkhorn_log ?? reference, referenceCost)
      })
    }
  }
})

// The other solvers converge to the same entropic optimum: each is checked
// against POT's own solver of that name where POT has one (plans and
// potentials), and against ot.sinkhorn's plan otherwise (Anderson, SNS).
type Solve = (
  problem: LinearProblem.LinearProblem,
  options: { epsilon: number; tolerance: number; maxIterations: number }
) => { status: string; f: Float64Array; g: Float64Array; cost: number; plan: () => Matrix.Matrix }

const others: ReadonlyArray<{ name: string; solve: Solve; pot: keyof Run; tinyOnly?: boolean }> = [
  { name: "SinkhornStabilized", solve: SinkhornStabilized.solve, pot: "sinkhorn_stabilized" },
  { name: "EpsilonScaling", solve: EpsilonScaling.solve, pot: "sinkhorn_epsilon_scaling" },
  { name: "Greenkhorn", solve: Greenkhorn.solve, pot: "greenkhorn", tinyOnly: true },
  { name: "SinkhornAnderson", solve: SinkhornAnderson.solve, pot: "sinkhorn" },
  { name: "SinkhornNewtonSparse", solve: SinkhornNewtonSparse.solve, pot: "sinkhorn" }
]

describe("the other entropic solvers vs POT", () => {
  for (const c of fixture.cases) {
    if (c.name.includes("small epsilon") || c.name.includes("forbidden")) continue
    for (const run of c.runs) {
      for (const solver of others) {
        const pot = run[solver.pot] as PotRun | undefined
        if (pot === undefined || (solver.tinyOnly === true && !c.name.startsWith("tiny"))) continue
        it(`${solver.name} = ${solver.pot}: ${c.name}, ε = ${run.epsilon}`, () => {
          const r = solver.solve(problemOf(c), {
            epsilon: run.epsilon,
            tolerance: SOLVER_TOLERANCE,
            maxIterations: 100_000
          })
          expect(r.status).toBe("converged")
          checkRun(`${c.name} ${run.epsilon} ${solver.name}`, r, pot, run.sinkhorn2)
        })
      }
    }
  }
})

describe("small ε and forbidden pairs in the log domain", () => {
  for (const c of fixture.cases) {
    if (!(c.name.includes("small epsilon") || c.name.includes("forbidden"))) continue
    for (const run of c.runs) {
      it(`stabilized and ε-scaling solvers, ${c.name}, ε = ${run.epsilon}`, () => {
        for (const solve of [
          SinkhornStabilized.solve,
          EpsilonScaling.solve,
          SinkhornNewtonSparse.solve
        ] as Solve[]) {
          const r = solve(problemOf(c), {
            epsilon: run.epsilon,
            tolerance: SOLVER_TOLERANCE,
            maxIterations: 300_000
          })
          expect(r.status).toBe("converged")
          checkRun(`${c.name} ${run.epsilon}`, r, run.sinkhorn_log!, run.sinkhorn_log!.cost)
        }
      })
    }
  }
})
