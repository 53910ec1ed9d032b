import { Random } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Experiment from "../src/Experiment.ts"
import { sha256Hex, words } from "../src/Hash.ts"
import * as Seeds from "../src/Seeds.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 100 } as const

describe("keys from content hashes", () => {
  it("fold the eight words of the digest into the root key, in order", () => {
    const digest = sha256Hex("a cell")
    let expected = Random.key(42)
    for (const w of words(digest)) expected = Random.foldIn(expected, w)
    expect(Seeds.cellKey(42, digest)).toEqual(expected)
    expect(Seeds.instanceKey(42, digest)).toEqual(expected)
  })

  it("differ between digests and between seeds", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.maxSafeNat(), (a, b, seed) => {
        fc.pre(a !== b)
        const ka = Seeds.cellKey(seed, sha256Hex(a))
        expect(ka).not.toEqual(Seeds.cellKey(seed, sha256Hex(b)))
        expect(ka).not.toEqual(Seeds.cellKey(seed + 1, sha256Hex(a)))
      }),
      FC
    )
  })

  it("stage 0 uses the cell key; later stages fold their index in", () => {
    const key = Seeds.cellKey(1, sha256Hex("x"))
    expect(Seeds.stageKey(key, 0)).toBe(key)
    expect(Seeds.stageKey(key, 2)).toEqual(Random.foldIn(key, 2))
  })

  it("a cell's key depends on its identity, not on its position or its neighbours", () => {
    const small = Experiment.make({ name: "a", seed: 9 }).pipe(
      Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 3 })),
      Experiment.withSolvers(Experiment.solver("lbfgs"))
    )
    const large = Experiment.make({ name: "b", seed: 9 }).pipe(
      Experiment.withProblems(Experiment.problem("quadratic", { dimension: 3 }), ...small.problems),
      Experiment.withSolvers(Experiment.solver("adam", { learningRate: 1 }), ...small.solvers),
      Experiment.withRepetitions(3)
    )
    const cell = Experiment.expand(small)[0]!
    const same = Experiment.expand(large).find((c) => c.cellId === cell.cellId)!
    expect(Seeds.cellKey(large.seed, same.cellId)).toEqual(Seeds.cellKey(small.seed, cell.cellId))
    expect(same.instanceId).toBe(cell.instanceId)
  })
})
