/**
 * NOTEARS and DAGMA (linear, least squares) against their reference
 * implementations, on the same data in the same run (issue #10).
 *
 * Data: linear-Gaussian ER2 graphs, n = 1000 — d = 10 and 20 from
 * `test/fixtures/graph_data.json` (the NOTEARS simulator's data, the
 * acceptance fixtures), d = 50 from descent's `Simulate.linear` (seed 50).
 * Settings: the references' examples (NOTEARS λ₁ = 0.1, DAGMA λ₁ = 0.02,
 * everything else at the defaults, which descent shares). Time: one run of
 * each `fit` (wall clock; the runs last seconds, so no batching), each fit in
 * a fresh child process, as each reference runs in its own Python process. SHD counts
 * a reversed edge once (NOTEARS's `count_accuracy`).
 *
 * Issue goals: NOTEARS ≥ 10× faster than the reference at d = 20 and 50 with
 * SHD ≤ the reference's; DAGMA ≥ 3× faster at d = 50 with SHD ≤ the
 * reference's.
 *
 * The references (public repositories; their code is not part of descent)
 * are loaded by `test/fixtures/generate_learner_refs.py` from local git clones
 * at pinned commits — `$NOTEARS_REPO` and `$DAGMA_REPO`, else the clones
 * under /work/.mirror — and run with `$DESCENT_PYTHON` (else python3; numpy
 * and scipy needed), BLAS on one thread. Without them only descent's columns
 * are printed.
 *
 * Run on demand: `node packages/graph/bench/learners.ts [--quick] [--no-reference]`
 * (`--quick`: d = 10 and 20 only).
 */
import { execFileSync } from "node:child_process"
import { existsSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Matrix, Random } from "@descent/core"
import { loadFixture, row, runPythonAnchor } from "@descent/testing"
import * as Dagma from "../src/Dagma.ts"
import * as Metrics from "../src/Metrics.ts"
import * as Notears from "../src/Notears.ts"
import * as Simulate from "../src/Simulate.ts"

const quick = process.argv.includes("--quick")
const withReference = !process.argv.includes("--no-reference")
const sizes = quick ? [10, 20] : [10, 20, 50]
const SAMPLES = 1000
const D50_SEED = 50

const fixtures = new URL("../test/fixtures/", import.meta.url)
const notearsClone = process.env.NOTEARS_REPO ?? "/work/.mirror/xunzheng+notears/repo"
const dagmaClone = process.env.DAGMA_REPO ?? "/work/.mirror/kevinsbello+dagma/repo"

interface GraphData {
  readonly datasets: ReadonlyArray<{
    readonly d: number
    readonly X: number[][]
    readonly B_true: number[][]
  }>
}

/** The data of size d: the fixture's for d = 10, 20, else descent's simulator. */
const dataset = (d: number): { X: Matrix.Matrix; B: Matrix.Matrix } => {
  const fixture = loadFixture<GraphData>(fixtures, "graph_data.json").datasets.find((ds) => ds.d === d)
  if (fixture !== undefined) {
    return { X: Matrix.fromRows(fixture.X), B: Matrix.fromRows(fixture.B_true) }
  }
  const sample = Simulate.linear(Random.key(D50_SEED), { nodes: d, samples: SAMPLES, edgesPerNode: 2 })
  return { X: sample.X, B: sample.B }
}

interface Reference {
  readonly notears: { readonly seconds: number; readonly W: number[][] }
  readonly dagma: { readonly seconds: number; readonly W: number[][] }
}

const referenceScript = (file: string) => `
import json, sys
sys.path.insert(0, ${JSON.stringify(fileURLToPath(fixtures))})
import numpy as np
import generate_learner_refs as refs
notears_linear, _, dagma_linear = refs.load_references(${JSON.stringify(notearsClone)}, ${JSON.stringify(dagmaClone)})
X = np.array(json.load(open(${JSON.stringify(file)})))
W1, t1 = refs.run_notears(notears_linear, X)
W2, _, t2 = refs.run_dagma(dagma_linear, X)
print(json.dumps({"notears": {"seconds": t1, "W": W1.tolist()}, "dagma": {"seconds": t2, "W": W2.tolist()}}))
`

const runReference = (d: number, X: Matrix.Matrix): Reference | undefined => {
  if (!withReference) return undefined
  if (!existsSync(notearsClone) || !existsSync(dagmaClone)) {
    console.log(`(references skipped: no clone at ${notearsClone} or ${dagmaClone})`)
    return undefined
  }
  const file = join(tmpdir(), `descent-graph-bench-${process.pid}-${d}.json`)
  writeFileSync(file, JSON.stringify(Matrix.toRows(X)))
  try {
    return runPythonAnchor<Reference>(referenceScript(file), ["numpy", "scipy"])
  } finally {
    unlinkSync(file)
  }
}

interface Fit {
  readonly seconds: number
  readonly W: number[][]
  readonly status: string
  readonly h: number
  readonly adamSteps: number
}

/**
 * In a child process (`--child <method> <d>`): fits one learner on the data of
 * size d and prints its time, W and status as JSON. Each fit gets a fresh
 * process, as each reference does: one run's heap and JIT state (NOTEARS at
 * d = 50 runs for a minute) would otherwise weigh on the next.
 */
const childFit = (method: string, d: number): void => {
  const { X } = dataset(d)
  const t0 = performance.now()
  const result = method === "notears" ? Notears.fit(X) : Dagma.fit(X)
  const seconds = (performance.now() - t0) / 1e3
  const W: number[][] = []
  for (let i = 0; i < d; i++) W.push(Array.from(result.W.data.subarray(i * d, (i + 1) * d)))
  const fit: Fit = {
    seconds,
    W,
    status: result.status,
    h: "h" in result ? (result.h as number) : Number.NaN,
    adamSteps: "counts" in result ? (result.counts as { adamSteps: number }).adamSteps : 0
  }
  process.stdout.write(JSON.stringify(fit))
}

const fitInChild = (method: string, d: number): Fit =>
  JSON.parse(
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--child", method, String(d)], {
      encoding: "utf8",
      maxBuffer: 1 << 26
    })
  ) as Fit

const fmt = (x: number | undefined): string => (x === undefined ? "–" : x.toPrecision(3))
const count = (x: number | undefined): string => (x === undefined ? "–" : String(x))
const speedup = (ours: number, theirs: number | undefined): string =>
  theirs === undefined ? "–" : `${(theirs / ours).toFixed(1)}×`

const childAt = process.argv.indexOf("--child")
if (childAt >= 0) {
  childFit(process.argv[childAt + 1]!, Number(process.argv[childAt + 2]))
  process.exit(0)
}

const widths = [4, 8, 10, 10, 9, 9, 9, 20]
console.log(`n = ${SAMPLES}, ER2, linear Gaussian; time in seconds; SHD counts a reversal once`)
console.log(row(["d", "method", "descent s", "ref s", "speedup", "SHD", "ref SHD", "descent status"], widths))
for (const d of sizes) {
  const { X, B } = dataset(d)
  const reference = runReference(d, X)
  const notears = fitInChild("notears", d)
  const dagma = fitInChild("dagma", d)
  const refShd = (W: number[][] | undefined) =>
    W === undefined ? undefined : Metrics.shd(B, Matrix.fromRows(W))
  console.log(
    row(
      [
        String(d),
        "NOTEARS",
        fmt(notears.seconds),
        fmt(reference?.notears.seconds),
        speedup(notears.seconds, reference?.notears.seconds),
        String(Metrics.shd(B, Matrix.fromRows(notears.W))),
        count(refShd(reference?.notears.W)),
        `${notears.status} h=${notears.h.toExponential(1)}`
      ],
      widths
    )
  )
  console.log(
    row(
      [
        String(d),
        "DAGMA",
        fmt(dagma.seconds),
        fmt(reference?.dagma.seconds),
        speedup(dagma.seconds, reference?.dagma.seconds),
        String(Metrics.shd(B, Matrix.fromRows(dagma.W))),
        count(refShd(reference?.dagma.W)),
        `${dagma.status} ${dagma.adamSteps} steps`
      ],
      widths
    )
  )
}
