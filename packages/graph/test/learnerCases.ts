/**
 * Shared cases of the learner tests (GOLEM, CoLiDE, TOPO, COSMO): seeded
 * linear-Gaussian ER2 data from `Simulate.linear`, and the bad inputs every
 * learner must reject with a typed error naming the problem; and the
 * reference results of generate_learner_refs_2.py on graph_data.json.
 */
import { Errors, Matrix, Random } from "@descent/core"
import { loadFixture } from "@descent/testing"
import { expect } from "vitest"
import { ConstantColumn, TooFewSamples } from "../src/Errors.ts"
import * as Simulate from "../src/Simulate.ts"

/** Pinned fast-check seed, so a failure reproduces exactly. */
export const PROPERTY_SEED = 20260611

/** ER2 linear-Gaussian data (unit noise, weights ±[0.5, 2]) from one seed. */
export const er2 = (seed: number, nodes: number, samples = 1000): Simulate.Sample =>
  Simulate.linear(Random.key(seed), { nodes, samples })

/** A 2-column data matrix of `n` samples: x, then 2x + small wiggle. */
const twoColumns = (n: number): Matrix.Matrix => {
  const X = Matrix.zeros(n, 2)
  for (let i = 0; i < n; i++) {
    X.data[2 * i] = i % 3
    X.data[2 * i + 1] = (i % 5) - 2
  }
  return X
}

/**
 * Every learner's input checks: NaN and ±Infinity in X, fewer than 2
 * samples, a constant column, and a negative λ (passed as `negativeLambda`).
 */
export const expectBadInputsRejected = <O>(
  fit: (X: Matrix.Matrix, options?: O) => unknown,
  negativeLambda: O
): void => {
  const nan = twoColumns(6)
  nan.data[3] = Number.NaN
  expect(() => fit(nan)).toThrow(Errors.NonFiniteInput)
  const inf = twoColumns(6)
  inf.data[0] = Number.POSITIVE_INFINITY
  expect(() => fit(inf)).toThrow(Errors.NonFiniteInput)
  expect(() => fit(twoColumns(1))).toThrow(TooFewSamples)
  const constant = twoColumns(6)
  for (let i = 0; i < 6; i++) constant.data[2 * i + 1] = 4
  expect(() => fit(constant)).toThrow(ConstantColumn)
  expect(() => fit(constant)).toThrow(/column 1 is constant/)
  expect(() => fit(twoColumns(6), negativeLambda)).toThrow(Errors.InvalidOptions)
  expect(() => fit(twoColumns(6), negativeLambda)).toThrow(/lambda/)
}

/** One reference result of learner_refs_2.json (see generate_learner_refs_2.py). */
export interface Reference {
  readonly dataset: string
  readonly learner: string
  readonly settings: Record<string, unknown>
  readonly shd: number
  readonly edges: number
  readonly W: number[][]
  readonly initialOrder?: number[]
  readonly order?: number[]
  readonly score?: number
  readonly initialScore?: number
  readonly noiseScale?: number[]
}

const graphData = loadFixture<{
  readonly datasets: ReadonlyArray<{
    readonly name: string
    readonly d: number
    readonly B_true: number[][]
    readonly X: number[][]
  }>
}>(import.meta.url, "fixtures/graph_data.json")

const references = loadFixture<{ readonly results: ReadonlyArray<Reference> }>(
  import.meta.url,
  "fixtures/learner_refs_2.json"
).results

const datasetOf = (ds: (typeof graphData.datasets)[number]) => ({
  name: ds.name,
  X: Matrix.fromRows(ds.X),
  B: Matrix.fromRows(ds.B_true),
  d: ds.d
})

/** A data set of graph_data.json: X (n × d), the true graph B (0/1) and d. */
export const fixtureDataset = (name: string) => datasetOf(graphData.datasets.find((x) => x.name === name)!)

/** The data set of graph_data.json with d nodes (d = 10 or 20). */
export const fixtureDatasetOfSize = (d: number) => datasetOf(graphData.datasets.find((x) => x.d === d)!)

/** One learner's result in learner_refs.json (the notears and DAGMA repositories, generate_learner_refs.py). */
export interface FirstReference {
  readonly accuracy: { readonly shd: number }
  readonly W_est: number[][]
  readonly h: number
}

const firstReferences = loadFixture<{
  readonly results: ReadonlyArray<{
    readonly name: string
    readonly notears: FirstReference
    readonly dagma: FirstReference & { readonly h_final: number }
  }>
}>(import.meta.url, "fixtures/learner_refs.json").results

/** The NOTEARS and DAGMA reference results on data set `name`. */
export const notearsDagmaReferencesOf = (name: string) => firstReferences.find((r) => r.name === name)!

/** The references of `learner` on data set `name` (GOLEM: of one `schedule`). */
export const referencesOf = (learner: string, name: string, schedule?: string): ReadonlyArray<Reference> =>
  references.filter(
    (r) =>
      r.learner === learner &&
      r.dataset === name &&
      (schedule === undefined || r.settings.schedule === schedule)
  )
