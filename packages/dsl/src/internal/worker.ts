/**
 * The entry of a runner worker thread (`node:worker_threads`). A cell is a
 * pure function of (experiment, cellId), so the worker receives the
 * experiment once (as JSON, with the module of its registry) and then cell
 * ids; it recomputes each cell with the same driver as the in-process runner
 * and posts the outcome back (and, on request, the telemetry samples).
 *
 * Messages in: `{ cellId }`. Messages out: `{ type: "ready" }` once, then per
 * cell `{ type: "sample", cellId, sample }`* and `{ type: "done", cellId,
 * outcome }` (or `{ type: "missing", cellId }`).
 */
import { enableCompileCache } from "node:module"
import { parentPort, workerData } from "node:worker_threads"
import type * as Registry from "../Registry.ts"
import type { Caches } from "./driver.ts"

/** What the runner passes to a worker. */
export interface WorkerInit {
  /** The experiment's JSON text. */
  readonly experiment: string
  /** A module whose `registry` export is the run's registry (default: the built-ins). */
  readonly registryModule: string | undefined
  readonly cellTimeout: number
  readonly chunkMs: number
  readonly forwardSamples: boolean
  /** The parent's module compile cache directory, if it has one: loading the library from it takes half the time. */
  readonly compileCache: string | undefined
}

/** Caches that keep the `capacity` most recently used instances (cells sharing one may land on other workers). */
const recentCaches = (capacity: number): Caches => {
  const instances = new Map<string, ReturnType<Caches["instance"]>>()
  const optima = new Map<string, number>()
  const touch = <A>(map: Map<string, A>, id: string, make: () => A): A => {
    let value = map.get(id)
    if (value === undefined) {
      value = make()
      if (map.size >= capacity) map.delete(map.keys().next().value!)
    } else map.delete(id)
    map.set(id, value)
    return value
  }
  return {
    instance: (cell, build) => touch(instances, cell.instanceId, build),
    optimum: (cell, compute) => touch(optima, cell.instanceId, compute),
    release: () => {}
  }
}

const main = async (): Promise<void> => {
  const port = parentPort!
  const init = workerData as WorkerInit
  // Before the library is imported (hence the dynamic imports below).
  if (init.compileCache !== undefined) enableCompileCache?.(init.compileCache)
  const Experiment = await import("../Experiment.ts")
  const Registry = await import("../Registry.ts")
  const { makeDriver } = await import("./driver.ts")
  const registry =
    init.registryModule === undefined
      ? Registry.builtins
      : ((await import(init.registryModule)) as { readonly registry: Registry.Registry }).registry
  const experiment = Experiment.decodeSync(JSON.parse(init.experiment), registry)
  const cells = new Map(Experiment.expand(experiment, registry).map((c) => [c.cellId, c]))
  const caches = recentCaches(4)
  port.on("message", (message: { readonly cellId: string }) => {
    const cell = cells.get(message.cellId)
    if (cell === undefined) {
      port.postMessage({ type: "missing", cellId: message.cellId })
      return
    }
    const driver = makeDriver(experiment, cell, {
      registry,
      caches,
      yieldEvery: undefined,
      chunkMs: init.chunkMs,
      cellTimeout: init.cellTimeout,
      onSample: init.forwardSamples
        ? (sample) => port.postMessage({ type: "sample", cellId: cell.cellId, sample })
        : undefined,
      now: () => performance.now()
    })
    while (!driver.advance()) {
      // a worker has nothing to interleave with: run the cell to its end
    }
    port.postMessage({ type: "done", cellId: cell.cellId, outcome: driver.outcome() })
  })
  port.postMessage({ type: "ready" })
}

await main()
