/**
 * The runner's overhead per solver step: SGD on a 10-dimensional quadratic
 * (`quadratic`, condition 100, rotated: one 10×10 matrix-vector product per
 * gradient), 10,000 steps. Every variant builds the problem instance from the
 * generator first (as any run must), then drives it
 *
 *   I.  not at all (the instance alone: what every variant pays first),
 *   A.  by a hand-written loop over optim (`valueAndGradient` + `GradientTransform.step`),
 *   B.  by a bare loop over the registry's step machine (`machine.step`),
 *   BB. by a copy of that loop: an A/A control, whose difference from B is
 *       the measurement's own error,
 *   C.  by core's generic loop (`Solver.runFrom`, status and residual checked every step),
 *   W.  by the runner's cell driver as a runner worker thread runs each cell
 *       (the default): a check every step (residual; the stopping rule),
 *       log-spaced trace samples of the default evaluators (objective,
 *       gradient norm, wall time, oracle counts), chunks of steps; includes
 *       building the solver and deriving the cell's key (W1: the same for a
 *       1-step cell),
 *   D.  by the same driver in an Effect fiber that yields between chunks, as
 *       `Runner.run` runs each cell in process,
 *   E.  by `Runner.run` on the one-cell experiment with an in-memory store
 *       (adds validation against the registry, provenance, the store write).
 *
 * The figure of merit is (W − B)/B and (D − B)/B: what the runner adds to
 * the solver's own loop at 10,000 steps; the goal is ≤ 5 %. (BB − B)/B shows
 * how far the measurement itself is off. W1 − I is the runner's cost per
 * cell, E − D its cost per run.
 *
 * Two measurements, both in CPU time (this machine is shared: wall times of
 * a process waiting for a core are meaningless):
 *
 * 1. **Steady state** (`steady`): `TRIALS` trials; in each, every variant runs
 *    in a fresh process of its own at the same time as a fresh process of B
 *    (one per core, so that both share every slow stretch of the VM, whose
 *    speed drifts by up to 2×). Each process makes `WARMUP` unmeasured runs,
 *    so that V8 has finished optimizing the variant, then reports the median
 *    CPU time of `RUNS` runs; a trial's figure is the ratio to its B. The
 *    processes run under `node --single-threaded`: V8 then compiles and
 *    collects garbage on the main thread, so a process's CPU time is its
 *    variant's own work, all of it, and no background compilation of a code
 *    path lands in a later run. Measured otherwise, the figure moved with
 *    the method: with V8's background threads and 50 warm-up runs W was
 *    6–11 % above B; in worker threads of one process (each its own isolate,
 *    the CPU time the process's) W was 1.8 % among three isolates and 5.3 %
 *    among six, and over 16 single-threaded trials its quartiles spanned
 *    2.0–8.3 % while B's copy stayed within ±0.9 % of B.
 * 2. **Warm-up** (`warmup`): `PROCESSES` pairs of fresh processes (also
 *    single-threaded), each variant at the same time as a B, each process
 *    timing its first 10 runs; printed is the CPU time a variant takes
 *    beyond B over its first k runs, per run and in all (median over pairs):
 *    what the first cells of a worker thread pay for V8 to compile the
 *    runner's code.
 *
 * Run on demand: `node packages/dsl/bench/overhead.ts [steady|warmup]`
 * (both by default). Options (environment): `WARMUP` (default 2000),
 * `RUNS` (500), `TRIALS` (8), `PROCESSES` (5), `CHILD_FLAGS`
 * (`--single-threaded`), and `VARIANTS`, a list such as `W,D,W1,I` (the
 * default; B and BB are always measured) for the steady state.
 */
import { Random, Solver, Vector } from "@descent/core"
import { GradientTransform, Optimizers } from "@descent/optim"
import { Effect, Schema } from "effect"
import * as Experiment from "../src/Experiment.ts"
import { makeCaches, makeDriver } from "../src/internal/driver.ts"
import * as MemoryStore from "../src/MemoryStore.ts"
import * as Problems from "../src/Problems.ts"
import * as Registry from "../src/Registry.ts"
import * as Runner from "../src/Runner.ts"
import * as Seeds from "../src/Seeds.ts"
import * as Solvers from "../src/Solvers.ts"
import * as Stopping from "../src/Stopping.ts"

const STEPS = 10_000
const LEARNING_RATE = 0.1
/**
 * Unmeasured runs per process before the steady-state measurement: after
 * 2000 runs of W, V8 compiled about 20 more functions in the next 1500 runs
 * (`--trace-opt`), after 500 runs about 70.
 */
const WARMUP = Number(process.env.WARMUP ?? 2000)
const TRIALS = Number(process.env.TRIALS ?? 8)
const RUNS = Number(process.env.RUNS ?? 500)
const PROCESSES = Number(process.env.PROCESSES ?? 5)
/**
 * Runs timed by the warm-up measurement: the first cells, where V8 compiles
 * the runner's code. Over more runs the two processes of a pair drift apart
 * by more than that costs (B's copy came out 46 % below B over 50 runs).
 */
const COLD_RUNS = 10
/**
 * Node/V8 flags of the measuring processes (`CHILD_FLAGS`, space-separated;
 * `CHILD_FLAGS=` for V8's usual threads).
 */
const CHILD_FLAGS = (process.env.CHILD_FLAGS ?? "--single-threaded").split(" ").filter((f) => f !== "")

const experimentOf = (steps: number) =>
  Experiment.make({ name: "overhead", seed: 1 }).pipe(
    Experiment.withProblems(Experiment.problem("quadratic", { dimension: 10, condition: 100 })),
    Experiment.withSolvers(Experiment.solver("sgd", { learningRate: LEARNING_RATE })),
    Experiment.withStopping(Stopping.maxIterations(steps))
  )

const experiment = experimentOf(STEPS)
const cell = Experiment.expand(experiment)[0]!
const experiment1 = experimentOf(1)
const cell1 = Experiment.expand(experiment1)[0]!
const parameters = Schema.decodeUnknownSync(Problems.quadratic.parameters)(cell.problem.parameters)
const build = () => Problems.quadratic.make(parameters, Seeds.instanceKey(experiment.seed, cell.instanceId))

const optimLoop = (): number => {
  const instance = build()
  const x = Vector.clone(instance.x0)
  const g = Vector.zeros(x.length)
  const tx = Optimizers.sgd(LEARNING_RATE)
  let s = tx.init(x)
  for (let t = 0; t < STEPS; t++) {
    instance.objective.valueAndGradient(x, g)
    s = GradientTransform.step(tx, x, g, s)
  }
  return x[0]!
}

const machineLoop = (): number => {
  const instance = build()
  const machine = Solvers.sgd.make({ learningRate: LEARNING_RATE })
  let state = machine.init(instance, { x0: instance.x0, key: Random.key(0) })
  for (let t = 0; t < STEPS; t++) state = machine.step(state)
  return machine.iterate(state)[0]!
}

/** A copy of `machineLoop`: the A/A control. */
const machineLoopCopy = (): number => {
  const instance = build()
  const machine = Solvers.sgd.make({ learningRate: LEARNING_RATE })
  let state = machine.init(instance, { x0: instance.x0, key: Random.key(0) })
  for (let t = 0; t < STEPS; t++) state = machine.step(state)
  return machine.iterate(state)[0]!
}

const coreLoop = (): number => {
  const instance = build()
  const machine = Solvers.sgd.make({ learningRate: LEARNING_RATE })
  const result = Solver.runFrom(machine, machine.init(instance, { x0: instance.x0, key: Random.key(0) }), {
    maxIterations: STEPS
  })
  return result.output[0]!
}

/** The runner's cell driver of cell `c`, as `Runner.run` and its worker threads build it. */
const driverOf = (e: Experiment.Experiment, c: Experiment.Cell) =>
  makeDriver(e, c, {
    registry: Registry.builtins,
    caches: makeCaches([c]),
    yieldEvery: undefined,
    chunkMs: 5,
    cellTimeout: Number.POSITIVE_INFINITY,
    onSample: undefined,
    now: () => performance.now()
  })

/** The cell in a fiber that yields between chunks, as `Runner.run` runs it in process. */
const driverRun = (e: Experiment.Experiment, c: Experiment.Cell): Promise<number> =>
  Effect.runPromise(
    Effect.suspend(() => {
      const driver = driverOf(e, c)
      const loop: Effect.Effect<number> = Effect.suspend(() =>
        driver.advance() ? Effect.succeed(driver.outcome().iterations) : Effect.andThen(Effect.yieldNow, loop)
      )
      return loop
    })
  )

/** The cell as a runner worker thread drives it (the default): the same driver, advanced in a plain loop. */
const workerDriverRun = (e: Experiment.Experiment, c: Experiment.Cell): number => {
  const driver = driverOf(e, c)
  while (!driver.advance()) {
    // as in the worker: nothing to interleave with
  }
  return driver.outcome().iterations
}

const fullRun = (): Promise<number> =>
  Effect.runPromise(Runner.run(experiment).pipe(Effect.provide(MemoryStore.layer))).then((s) => s.computed)

const variants = {
  I: async () => build().x0[0]!,
  A: async () => optimLoop(),
  B: async () => machineLoop(),
  BB: async () => machineLoopCopy(),
  C: async () => coreLoop(),
  W: async () => workerDriverRun(experiment, cell),
  W1: async () => workerDriverRun(experiment1, cell1),
  D: () => driverRun(experiment, cell),
  D1: () => driverRun(experiment1, cell1),
  E: fullRun
} as const
type Variant = keyof typeof variants
const isVariant = (v: string): v is Variant => v in variants

/** CPU time of this process (user + system), in ms: not inflated by waiting for a core. */
const cpuMs = (): number => {
  const t = process.cpuUsage()
  return (t.user + t.system) / 1000
}

const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  const h = (s.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, s.length - 1)
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!)
}
const median = (xs: ReadonlyArray<number>): number => quantile(xs, 0.5)
const pct = (ratio: number): string => `${((ratio - 1) * 100).toFixed(1)} %`

// ---- 1. steady state ---------------------------------------------------------

/**
 * In a child process (started with `--single-threaded`): `WARMUP` unmeasured
 * runs, then `RUNS` timed runs; prints their median CPU time (ms) as JSON.
 */
const steadyChild = async (variant: Variant): Promise<void> => {
  const fn = variants[variant]
  for (let r = 0; r < WARMUP; r++) await fn()
  const times: Array<number> = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = cpuMs()
    await fn()
    times.push(cpuMs() - t0)
  }
  process.stdout.write(JSON.stringify(median(times)))
}

/** The median CPU time per run of each of `pair`, measured at the same time in two processes. */
const measurePair = async (pair: readonly [Variant, Variant]): Promise<readonly [number, number]> => {
  const { execFile } = await import("node:child_process")
  const { promisify } = await import("node:util")
  const run = promisify(execFile)
  const one = async (v: Variant) => {
    const { stdout } = await run(process.execPath, [
      ...CHILD_FLAGS,
      import.meta.filename,
      "--steady-child",
      v
    ])
    return Number(stdout)
  }
  const [a, b] = await Promise.all([one(pair[0]), one(pair[1])])
  return [a, b]
}

const describe: Record<Variant, string> = {
  I: "problem instance alone",
  A: "optim loop (hand-written)",
  B: "step machine, bare loop",
  BB: "copy of B (A/A control)",
  C: "core Solver.runFrom",
  W: "runner driver, worker thread (default)",
  W1: "runner driver, 1-step cell",
  D: "runner driver in a fiber",
  E: "Runner.run, one cell, memory store"
}

const steady = async (others: ReadonlyArray<Variant>): Promise<void> => {
  // Every variant is paired with B (W1 with I: both take microseconds).
  const pairs: Array<readonly [Variant, Variant]> = [["B", "BB"]]
  for (const v of others) {
    if (v === "B" || v === "BB" || v === "I") continue
    pairs.push(v === "W1" ? ["I", "W1"] : ["B", v])
  }
  const ms: Record<string, Array<number>> = {}
  const ratio: Record<string, Array<number>> = {}
  for (let t = 0; t < TRIALS; t++) {
    for (const pair of pairs) {
      const [a, b] = await measurePair(pair)
      ;(ms[pair[0]] ??= []).push(a)
      ;(ms[pair[1]] ??= []).push(b)
      ;(ratio[pair[1]] ??= []).push(b / a)
    }
  }
  console.log(
    `steady state: ${TRIALS} trials; in each, every variant runs in a process of its own (node --single-threaded) at the same time as B; median CPU time of ${RUNS} runs after ${WARMUP} unmeasured ones`
  )
  for (const v of Object.keys(ms) as Array<Variant>) {
    const q = ratio[v]
    const vsB =
      q === undefined || v === "W1"
        ? ""
        : `${pct(median(q)).padStart(8)} vs B (quartiles ${pct(quantile(q, 0.25))} … ${pct(quantile(q, 0.75))})`
    console.log(`${v.padEnd(3)}${describe[v].padEnd(40)}${median(ms[v]!).toFixed(3).padStart(8)} ms  ${vsB}`)
  }
  if (ms.W1 !== undefined && ms.I !== undefined) {
    const perCell = median(ms.W1.map((w, k) => w - ms.I![k]!))
    console.log(
      `runner per cell, W1 − I: ${(perCell * 1000).toFixed(0)} µs (${((perCell / median(ms.B!)) * 100).toFixed(1)} % of B)`
    )
  }
  if (ms.E !== undefined && ms.D !== undefined)
    console.log(`runner per run, E − D: ${(median(ms.E) - median(ms.D)).toFixed(3)} ms`)
  const goal = (v: Variant) => (ratio[v] === undefined ? "" : ` ${v} ${pct(median(ratio[v]!))}`)
  console.log(
    `runner overhead at ${STEPS} steps, goal ≤ 5 %:${goal("W")}${goal("D")} (A/A control: BB ${pct(median(ratio.BB!))})`
  )
}

// ---- 2. warm-up ----------------------------------------------------------------

/** In a child process: the CPU time of each of the first `COLD_RUNS` runs, as JSON. */
const warmupChild = async (variant: Variant): Promise<void> => {
  const fn = variants[variant]
  const times: Array<number> = []
  for (let r = 0; r < COLD_RUNS; r++) {
    const t0 = cpuMs()
    await fn()
    times.push(cpuMs() - t0)
  }
  process.stdout.write(JSON.stringify(times))
}

const warmup = async (names: ReadonlyArray<Variant>): Promise<void> => {
  const { execFile } = await import("node:child_process")
  const { promisify } = await import("node:util")
  const run = promisify(execFile)
  const firsts = [1, COLD_RUNS]
  /** A fresh process's CPU time over its first k runs, for each k of `firsts` (ms). */
  const sums = async (v: Variant): Promise<Array<number>> => {
    const { stdout } = await run(
      process.execPath,
      [...CHILD_FLAGS, import.meta.filename, "--warmup-child", v],
      {
        maxBuffer: 1 << 26
      }
    )
    const times = JSON.parse(stdout) as Array<number>
    let sum = 0
    const row: Array<number> = []
    for (let r = 0; r < times.length; r++) {
      sum += times[r]!
      if (firsts.includes(r + 1)) row.push(sum)
    }
    return row
  }
  // excess[v][p][j]: in pair p, v's CPU time over its first firsts[j] runs minus B's.
  const excess: Record<string, Array<Array<number>>> = {}
  const base: Array<Array<number>> = []
  for (let p = 0; p < PROCESSES; p++) {
    for (const v of names) {
      if (v === "B") continue
      // As in the steady state: each variant at the same time as a B.
      const [b, x] = await Promise.all([sums("B"), sums(v)])
      base.push(b)
      ;(excess[v] ??= []).push(x.map((t, j) => t - b[j]!))
    }
  }
  const others = names.filter((v) => v !== "B")
  console.log(
    `warm-up: a fresh process's first k runs (node --single-threaded), each variant at the same time as a B; CPU time beyond B's over those runs, per run and in all (median of ${PROCESSES} pairs)`
  )
  console.log(`${"k".padEnd(8)}${"B per run".padStart(12)}${others.map((v) => v.padStart(24)).join("")}`)
  firsts.forEach((k, j) => {
    const b = median(base.map((row) => row[j]!)) / k
    const cells = others.map((v) => {
      const extra = median(excess[v]!.map((row) => row[j]!))
      return `${pct(1 + extra / k / b)} (${extra.toFixed(0)} ms)`.padStart(24)
    })
    console.log(`${String(k).padEnd(8)}${`${b.toFixed(3)} ms`.padStart(12)}${cells.join("")}`)
  })
}

// ---- main ------------------------------------------------------------------------

/** The variants of the steady-state measurement besides B and BB (`VARIANTS`). */
const steadyVariants = (): Array<Variant> => (process.env.VARIANTS ?? "W,D,W1,I").split(",").filter(isVariant)

const main = async (method: string | undefined): Promise<void> => {
  // Agreement: the runner computes what the loops compute.
  const outcome = await Effect.runPromise(Runner.runCell(experiment, cell.cellId))
  if (outcome.iterations !== STEPS) throw new Error(`runner stopped after ${outcome.iterations} steps`)
  if (optimLoop() !== machineLoop() || machineLoop() !== coreLoop()) throw new Error("the loops disagree")
  console.log(`SGD on a 10-d quadratic, ${STEPS} steps (Node ${process.version})`)
  if (method === undefined || method === "steady") await steady(steadyVariants())
  if (method === undefined || method === "warmup") await warmup(["B", "BB", "W", "D"])
}

const [requested, variant] = process.argv.slice(2)
if (requested === "--steady-child" && variant !== undefined && isVariant(variant)) await steadyChild(variant)
else if (requested === "--warmup-child" && variant !== undefined && isVariant(variant))
  await warmupChild(variant)
else if (requested === undefined || requested === "steady" || requested === "warmup") await main(requested)
else throw new Error(`unknown method "${requested}" (steady or warmup)`)
