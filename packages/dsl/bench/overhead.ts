/**
 * The runner's overhead per solver step: SGD on a 10-dimensional quadratic
 * (`quadratic`, condition 100, rotated: one 10×10 matrix-vector product per
 * gradient), 10,000 steps, each variant building the problem instance from
 * the generator first (as any run must), then driven
 *
 *   I. not at all (the instance alone: what every variant pays first),
 *   A. by a hand-written loop over optim (`valueAndGradient` + `GradientTransform.step`),
 *   B. by a bare loop over the registry's step machine (`machine.step`),
 *   C. by core's generic loop (`Solver.runFrom`, status and residual checked every step),
 *   W. by the runner's cell driver as a runner worker thread runs each cell
 *      (the default): a check every step (residual; the stopping rule),
 *      log-spaced trace samples of the default evaluators (objective,
 *      gradient norm, wall time, oracle counts), chunks of steps; includes
 *      building the instance and the solver, and deriving the cell's key
 *      (W1: the same for a 1-step cell; WC: checks every 100 steps); the
 *      cell's parameters and options are decoded once per specification
 *      object (the driver caches them, as the cells of a run share their
 *      specifications), so after the warm-up W reuses them,
 *   D. by the same driver in an Effect fiber that yields between chunks, as
 *      `Runner.run` runs each cell in process (D1: a 1-step cell, D2: 20,000
 *      steps),
 *   E. by `Runner.run` on the one-cell experiment with an in-memory store
 *      (adds validation against the registry, provenance, the store write).
 *
 * The figure of merit is (W − B)/B and (D − B)/B: what the runner adds to
 * the solver's own loop at 10,000 steps; the goal is ≤ 5 %. W1 − I is the
 * runner's cost per cell; the rest of W − B is its cost per step. E − D is
 * the per-run cost (paid once per run, not per cell).
 *
 * Everything is timed in CPU time, because this machine is shared: wall
 * times of processes waiting for a core are meaningless. Three methods,
 * because the JIT makes different code of the same function from one V8
 * isolate to the next (one process's B alone varies by ±10 %), and this VM's
 * speed drifts:
 *
 * 1. Paired isolates: every variant in `PAIRED_ISOLATES` worker threads of
 *    its own, each its own isolate, asked in turn for rounds of runs (see
 *    `paired`): no variant's call sites see another's objects, the
 *    isolates' JIT luck averages out, and all variants share every slow
 *    stretch of the VM. The CPU time is the process's, so the other
 *    isolates' background threads (GC, compilation) count towards the
 *    variant that runs: keep `ISOLATES` small.
 * 2. Separate processes: each variant in its own process, `REPEATS` times,
 *    the median of the per-process minima (see `child`).
 * 3. Interleaved: B and D alternate in one process (rounds of 20 runs each,
 *    median over rounds): the same JIT and GC state for both, but the step
 *    machine's call sites then see both runs' objects, which slows B.
 *
 * Run on demand: `node packages/dsl/bench/overhead.ts` (`REPEATS=n` processes
 * per variant, default 11; `WARMUP=n` unmeasured runs per process or thread,
 * default 50; `ROUNDS=n` measured runs per process, default 40;
 * `ISOLATES=n` threads per variant, default 3; `PAIRED_ROUNDS=n`, default 21;
 * `PAIRED_ONLY=1`, or a list such as `PAIRED_ONLY=W,D`: only the paired
 * measurement, of B and those variants).
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
const ROUNDS = Number(process.env.ROUNDS ?? 40)
/**
 * Unmeasured runs per process first: 50, so every variant is timed in steady
 * state, as the cells of a run are after the first few (with 10, TurboFan was
 * still optimizing the driver's larger code path in some processes, and D's
 * figure swung by ±5 % from process to process).
 */
const WARMUP = Number(process.env.WARMUP ?? 50)

const experimentOf = (steps: number) =>
  Experiment.make({ name: "overhead", seed: 1 }).pipe(
    Experiment.withProblems(Experiment.problem("quadratic", { dimension: 10, condition: 100 })),
    Experiment.withSolvers(Experiment.solver("sgd", { learningRate: LEARNING_RATE })),
    Experiment.withStopping(Stopping.maxIterations(steps))
  )

const experiment = experimentOf(STEPS)
const cell = Experiment.expand(experiment)[0]!
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
      return Effect.gen(function* () {
        while (!driver.advance()) yield* Effect.yieldNow
        return driver.outcome().iterations
      })
    })
  )

/** The cell as a runner worker thread drives it (the default): the same driver, advanced in a plain loop. */
const workerDriverRun = async (e: Experiment.Experiment, c: Experiment.Cell): Promise<number> => {
  const driver = driverOf(e, c)
  while (!driver.advance()) {
    // as in the worker: nothing to interleave with
  }
  return driver.outcome().iterations
}

const experimentC = experimentOf(STEPS).pipe(Experiment.withSampling({ checkEvery: 100 }))
const cellC = Experiment.expand(experimentC)[0]!
const experiment2 = experimentOf(2 * STEPS)
const cell2 = Experiment.expand(experiment2)[0]!
const experiment1 = experimentOf(1)
const cell1 = Experiment.expand(experiment1)[0]!

const fullRun = (): Promise<number> =>
  Effect.runPromise(Runner.run(experiment).pipe(Effect.provide(MemoryStore.layer))).then((s) => s.computed)

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const variants = {
  I: async () => build().x0[0]!,
  A: async () => optimLoop(),
  B: async () => machineLoop(),
  C: async () => coreLoop(),
  D: () => driverRun(experiment, cell),
  W: () => workerDriverRun(experiment, cell),
  W1: () => workerDriverRun(experiment1, cell1),
  WC: () => workerDriverRun(experimentC, cellC),
  D2: () => driverRun(experiment2, cell2),
  D1: () => driverRun(experiment1, cell1),
  E: fullRun
} as const
type Variant = keyof typeof variants

/**
 * In a child process: times one variant (warm-up, then ROUNDS runs) and
 * prints the fastest run in ms of CPU time (on a shared machine the minimum
 * is the best estimate of the uncontended time).
 */
const child = async (variant: Variant): Promise<void> => {
  const fn = variants[variant]
  for (let r = 0; r < WARMUP; r++) await fn()
  const times: Array<number> = []
  for (let r = 0; r < ROUNDS; r++) {
    // CPU time of this process (user + system): on a shared machine it is not
    // inflated by the time the process waits for a core, as wall time is.
    const t0 = process.cpuUsage()
    await fn()
    const t = process.cpuUsage(t0)
    times.push((t.user + t.system) / 1000)
  }
  process.stdout.write(JSON.stringify(Math.min(...times)))
}

/**
 * Each variant runs in its own process, so that one variant's call sites do
 * not see another's functions (a metered objective in the same process makes
 * the bare loops' calls polymorphic and slower); the processes alternate
 * over `REPEATS` passes and the median of the per-process minima is kept.
 */
const REPEATS = Number(process.env.REPEATS ?? 11)

const main = async (): Promise<void> => {
  // Agreement: the runner computes what the loops compute.
  const outcome = await Effect.runPromise(Runner.runCell(experiment, cell.cellId))
  if (outcome.iterations !== STEPS) throw new Error(`runner stopped after ${outcome.iterations} steps`)
  if (optimLoop() !== machineLoop() || machineLoop() !== coreLoop()) throw new Error("the loops disagree")
  const { execFileSync } = await import("node:child_process")
  const samples: Record<Variant, Array<number>> = {
    I: [],
    A: [],
    B: [],
    C: [],
    D: [],
    W: [],
    W1: [],
    WC: [],
    D2: [],
    D1: [],
    E: []
  }
  for (let r = 0; r < REPEATS; r++) {
    for (const v of Object.keys(variants) as Array<Variant>) {
      const out = execFileSync(process.execPath, [import.meta.filename, v], { encoding: "utf8" })
      samples[v].push(Number(out))
    }
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<
    Variant,
    number
  >
  const perStep = (ms: number): string => `${((ms * 1e6) / STEPS).toFixed(1)} ns/step`
  const pct = (x: number, base: number): string => `${(((x - base) / base) * 100).toFixed(1)} %`
  console.log(
    `SGD on a 10-d quadratic, ${STEPS} steps; median over ${REPEATS} processes of the best of ${ROUNDS} runs (Node ${process.version})`
  )
  console.log(`A  optim loop (hand-written)        ${m.A.toFixed(3)} ms  ${perStep(m.A)}`)
  console.log(
    `B  step machine, bare loop          ${m.B.toFixed(3)} ms  ${perStep(m.B)}  (adapter vs A: ${pct(m.B, m.A)})`
  )
  console.log(
    `C  core Solver.runFrom              ${m.C.toFixed(3)} ms  ${perStep(m.C)}  (vs B: ${pct(m.C, m.B)})`
  )
  console.log(
    `D  runner cell driver (fiber)       ${m.D.toFixed(3)} ms  ${perStep(m.D)}  (vs B: ${pct(m.D, m.B)})`
  )
  console.log(
    `W  runner cell driver (worker loop) ${m.W.toFixed(3)} ms  ${perStep(m.W)}  (vs B: ${pct(m.W, m.B)})`
  )
  const marginal = (m.D2 - m.D) / STEPS
  console.log(
    `   D marginal per step (20k − 10k)  ${(marginal * 1e6).toFixed(1)} ns/step; per-cell fixed cost ≈ ${(m.D - marginal * STEPS).toFixed(3)} ms; a 1-step cell ${m.D1.toFixed(3)} ms`
  )
  console.log(
    `E  Runner.run, one cell, memory store ${m.E.toFixed(3)} ms  (per-run cost E − D ≈ ${(m.E - m.D).toFixed(3)} ms)`
  )
  console.log(
    `separate processes, runner overhead at ${STEPS} steps: (W − B)/B ${pct(m.W, m.B)}, (D − B)/B ${pct(m.D, m.B)} (goal ≤ 5 %)`
  )
  const p = await paired(["W", "D", "WC", "W1", "I"])
  const pp = (v: string): string =>
    `${p[v]!.ms.toFixed(3)} ms (${((p[v]!.ratio - 1) * 100).toFixed(1)} % vs B)`
  console.log(
    `paired isolates (${PAIRED_ISOLATES} threads per variant, median of ${PAIRED_ROUNDS} rounds of ${PAIRED_RUNS} runs):`
  )
  console.log(`   B ${p.B!.ms.toFixed(3)} ms, I ${pp("I")}, W1 ${pp("W1")}`)
  console.log(`   runner per cell W1 − I ≈ ${(p.W1!.ms - p.I!.ms).toFixed(3)} ms`)
  console.log(
    `   W (worker thread, the default): ${pp("W")} (goal ≤ 5 %); WC (checks every 100 steps) ${pp("WC")}`
  )
  console.log(`   D (fiber, in process):          ${pp("D")} (goal ≤ 5 %)`)
  const { b, d } = await interleaved()
  console.log(
    `interleaved in one process (median of ${INTERLEAVED_ROUNDS} rounds): B ${b.toFixed(3)} ms, D ${d.toFixed(3)} ms, (D − B)/B: ${pct(d, b)}`
  )
}

const INTERLEAVED_ROUNDS = 41
const PER_ROUND = 20

/** Median per-run CPU time of B and D over rounds that alternate between them. */
const interleaved = async (): Promise<{ readonly b: number; readonly d: number }> => {
  const cpu = async (f: () => Promise<unknown> | unknown): Promise<number> => {
    const t0 = process.cpuUsage()
    for (let k = 0; k < PER_ROUND; k++) await f()
    const t = process.cpuUsage(t0)
    return (t.user + t.system) / 1000 / PER_ROUND
  }
  for (let k = 0; k < WARMUP; k++) {
    machineLoop()
    await driverRun(experiment, cell)
  }
  const bs: Array<number> = []
  const ds: Array<number> = []
  for (let r = 0; r < INTERLEAVED_ROUNDS; r++) {
    bs.push(await cpu(machineLoop))
    ds.push(await cpu(() => driverRun(experiment, cell)))
  }
  return { b: median(bs), d: median(ds) }
}

const PAIRED_ROUNDS = Number(process.env.PAIRED_ROUNDS ?? 21)
const PAIRED_RUNS = 10
const PAIRED_ISOLATES = Number(process.env.ISOLATES ?? 3)

/**
 * A worker thread that runs one variant on request: each message asks for
 * `runs` runs and gets back their fastest CPU time (ms; on a shared machine
 * the minimum is the best estimate of the uncontended time).
 */
const pairedWorker = async (variant: Variant): Promise<void> => {
  const { parentPort } = await import("node:worker_threads")
  const fn = variants[variant]
  // CPU time of the whole process: while this worker runs, the main thread
  // and the other worker wait for a message (`threadCpuUsage` would be
  // exact, but Linux reports it in scheduler ticks, too coarse for a run).
  const cpu = (): number => {
    const t = process.cpuUsage()
    return (t.user + t.system) / 1000
  }
  for (let r = 0; r < WARMUP; r++) await fn()
  parentPort!.on("message", async (runs: number) => {
    const times: Array<number> = []
    for (let r = 0; r < runs; r++) {
      const t0 = cpu()
      await fn()
      times.push(cpu() - t0)
    }
    parentPort!.postMessage(Math.min(...times))
  })
  parentPort!.postMessage("ready")
}

/**
 * Each variant in worker threads of its own — separate V8 isolates, so no
 * variant's call sites see another's objects (as in separate processes) —
 * `PAIRED_ISOLATES` of them per variant, because what the JIT makes of the
 * same code differs from isolate to isolate (one isolate's B alone varies by
 * ±10 %). Every thread is asked in turn for a round of runs (the order
 * rotating from round to round), so all variants run in the same time
 * windows (as when interleaved) and a slow stretch of this VM hits them
 * alike. Per round, a variant's time is the mean over its isolates of their
 * fastest run; the result is each variant's median over rounds and the
 * median over rounds of its per-round ratio to B.
 */
const paired = async (
  others: ReadonlyArray<Variant>
): Promise<Record<string, { readonly ms: number; readonly ratio: number }>> => {
  const { Worker } = await import("node:worker_threads")
  type Thread = import("node:worker_threads").Worker
  const start = (variant: Variant) =>
    new Promise<Thread>((resolve) => {
      const worker = new Worker(new URL(import.meta.url), { argv: ["--paired-worker", variant] })
      worker.once("message", () => resolve(worker))
    })
  const ask = (worker: Thread) =>
    new Promise<number>((resolve) => {
      worker.once("message", resolve)
      worker.postMessage(PAIRED_RUNS)
    })
  const names: Array<Variant> = ["B", ...others]
  // threads[k * names.length + v]: isolate k of variant v.
  const threads: Array<Thread> = []
  for (let k = 0; k < PAIRED_ISOLATES; k++) for (const v of names) threads.push(await start(v))
  const times = names.map((): Array<number> => [])
  const ratios = names.map((): Array<number> => [])
  for (let r = 0; r < PAIRED_ROUNDS; r++) {
    const sums = names.map(() => 0)
    for (let j = 0; j < threads.length; j++) {
      const t = (r + j) % threads.length
      sums[t % names.length]! += await ask(threads[t]!)
    }
    for (let v = 0; v < names.length; v++) {
      times[v]!.push(sums[v]! / PAIRED_ISOLATES)
      ratios[v]!.push(sums[v]! / sums[0]!)
    }
  }
  await Promise.all(threads.map((t) => t.terminate()))
  return Object.fromEntries(names.map((v, i) => [v, { ms: median(times[i]!), ratio: median(ratios[i]!) }]))
}

const requested = process.argv[2]
if (requested === "--paired-worker") await pairedWorker(process.argv[3] as Variant)
else if (requested !== undefined && requested in variants) await child(requested as Variant)
else if (process.env.PAIRED_ONLY !== undefined) {
  const list = process.env.PAIRED_ONLY === "1" ? "W,D,WC,W1,I" : process.env.PAIRED_ONLY!
  const r = await paired(list.split(",") as Array<Variant>)
  for (const [v, { ms, ratio }] of Object.entries(r))
    console.log(`${v} ${ms.toFixed(3)} ms (${((ratio - 1) * 100).toFixed(1)} % vs B)`)
} else await main()
