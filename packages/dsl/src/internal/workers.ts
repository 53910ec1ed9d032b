/**
 * A pool of runner worker threads (Node's `node:worker_threads`): real
 * parallelism for the cells of a run. Each worker holds the experiment and
 * recomputes the cells it is sent (`worker.ts`); a cell's outcome does not
 * depend on the thread that computes it.
 *
 * Besides the workers, the pool has one local lane: the caller's own thread
 * (in-process, as a fiber that yields between chunks of steps). It computes
 * cells at once, while the workers load the library (about a second each),
 * so a short run is not slower on workers than in-process; the workers join
 * as they become ready.
 *
 * Interrupting a cell that runs on a worker terminates that worker (a
 * synchronous solver loop cannot be stopped from outside); a worker that dies
 * fails its cell with the error and is replaced.
 */
import { Effect, Queue, type Scope } from "effect"
import type { CellOutcome, Sample } from "./driver.ts"
import type { WorkerInit } from "./worker.ts"

/** The part of `node:worker_threads`' Worker the pool uses. */
interface NodeWorker {
  postMessage(message: unknown): void
  on(event: "message", listener: (message: WorkerMessage) => void): void
  on(event: "error", listener: (error: Error) => void): void
  on(event: "exit", listener: (code: number) => void): void
  off(event: string, listener: (...args: Array<never>) => void): void
  terminate(): Promise<number>
}

type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "sample"; readonly cellId: string; readonly sample: Sample }
  | { readonly type: "done"; readonly cellId: string; readonly outcome: CellOutcome }
  | { readonly type: "missing"; readonly cellId: string }

/** Computes a cell in the caller's thread. */
export type LocalLane = (
  cellId: string,
  onSample: ((sample: Sample) => void) | undefined
) => Effect.Effect<CellOutcome>

/** A pool of workers and a local lane, with a queue of the idle ones. */
export interface WorkerPool {
  /** Computes a cell on the first idle lane (the local one or a worker); `onLane` is told which. */
  readonly run: (
    cellId: string,
    onSample: ((sample: Sample) => void) | undefined,
    onLane: (local: boolean) => void
  ) => Effect.Effect<CellOutcome>
}

const LOCAL = "local" as const

/** In the idle queue when no worker can start and there is no local lane: every cell fails with it. */
class NoWorker {
  readonly error: unknown
  constructor(error: unknown) {
    this.error = error
  }
}

const failed = (message: string): CellOutcome => ({
  status: "failed",
  message,
  iterations: 0,
  metrics: {},
  trace: { iteration: [], values: {} },
  key: [0, 0],
  busyMs: 0
})

/**
 * Starts `size` workers for one run (terminated when the scope closes), in
 * the background: until they are ready, `local` (if given) computes the cells.
 */
export const makePool = (
  size: number,
  init: WorkerInit,
  local: LocalLane | undefined
): Effect.Effect<WorkerPool, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { Worker } = yield* Effect.promise(() => import("node:worker_threads"))
    const entry = new URL("./worker.ts", import.meta.url)
    const all = new Set<NodeWorker>()
    const idle = yield* Queue.unbounded<NodeWorker | typeof LOCAL | NoWorker>()
    if (local !== undefined) Queue.offerUnsafe(idle, LOCAL)

    const spawn = (): Promise<NodeWorker> =>
      new Promise((resolve, reject) => {
        const worker = new Worker(entry, { workerData: init }) as unknown as NodeWorker
        all.add(worker)
        const onReady = (message: WorkerMessage): void => {
          if (message.type !== "ready") return
          worker.off("message", onReady)
          worker.off("error", onError)
          resolve(worker)
        }
        const onError = (error: Error): void => {
          all.delete(worker)
          reject(error)
        }
        worker.on("message", onReady)
        worker.on("error", onError)
      })

    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        closed = true
        return Promise.all([...all].map((w) => w.terminate().catch(() => 0)))
      }).pipe(Effect.asVoid)
    )
    /**
     * Starts a worker in the background. One that cannot start leaves the
     * work to the others and the local lane; without either, the run dies
     * with its error instead of waiting for a worker forever.
     */
    const start = (): void => {
      spawn().then(
        (w) => {
          if (closed) void w.terminate().catch(() => 0)
          else Queue.offerUnsafe(idle, w)
        },
        (error: unknown) => {
          if (!closed && local === undefined && all.size === 0) Queue.offerUnsafe(idle, new NoWorker(error))
        }
      )
    }
    for (let i = 0; i < size; i++) start()

    /** Replaces a dead worker (in the background; the pool works with fewer until it is ready). */
    const replace = (dead: NodeWorker): void => {
      all.delete(dead)
      void dead.terminate().catch(() => 0)
      if (!closed) start()
    }

    const onWorker = (
      worker: NodeWorker,
      cellId: string,
      onSample: ((sample: Sample) => void) | undefined
    ): Effect.Effect<CellOutcome> => {
      let healthy = true
      return Effect.callback<CellOutcome>((resume) => {
        const cleanup = (): void => {
          worker.off("message", onMessage)
          worker.off("error", onError)
        }
        const onMessage = (message: WorkerMessage): void => {
          if (message.type === "ready" || message.cellId !== cellId) return
          if (message.type === "sample") {
            onSample?.(message.sample)
            return
          }
          cleanup()
          resume(
            Effect.succeed(
              message.type === "done" ? message.outcome : failed(`the worker does not know cell ${cellId}`)
            )
          )
        }
        const onError = (error: Error): void => {
          cleanup()
          healthy = false
          resume(Effect.succeed(failed(`worker thread died: ${error.message}`)))
        }
        worker.on("message", onMessage)
        worker.on("error", onError)
        worker.postMessage({ cellId })
        return Effect.sync(() => {
          // Interrupted: the worker is busy with this cell and cannot be stopped otherwise.
          cleanup()
          healthy = false
        })
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (healthy) Queue.offerUnsafe(idle, worker)
            else replace(worker)
          })
        )
      )
    }

    const run = (
      cellId: string,
      onSample: ((sample: Sample) => void) | undefined,
      onLane: (local: boolean) => void
    ): Effect.Effect<CellOutcome> =>
      Effect.flatMap(Queue.take(idle), (lane) => {
        if (lane instanceof NoWorker) {
          Queue.offerUnsafe(idle, lane)
          return Effect.die(lane.error)
        }
        onLane(lane === LOCAL)
        return lane === LOCAL
          ? local!(cellId, onSample).pipe(Effect.ensuring(Effect.sync(() => Queue.offerUnsafe(idle, LOCAL))))
          : onWorker(lane, cellId, onSample)
      })

    return { run }
  }).pipe(Effect.orDie)
