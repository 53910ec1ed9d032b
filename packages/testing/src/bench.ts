/**
 * A small benchmark harness shared by every package's `bench/`: time a function
 * robustly (best of several batches after warm-up) and run the Python anchor in
 * the same run when it is importable.
 *
 * Benchmarks never run in `test`; `pnpm bench` runs them on demand.
 */
import { spawnSync } from "node:child_process"

export interface MeasureOptions {
  /** Minimum time per batch in milliseconds (default 200). */
  readonly minTimeMs?: number
  /** Number of batches; the fastest is kept (default 5). */
  readonly batches?: number
  /** Calls before timing, so the JIT has compiled the hot path (default 3). */
  readonly warmup?: number
}

/** Seconds per call of `fn`: the best batch mean after warm-up. */
export const measure = (fn: () => void, options: MeasureOptions = {}): number => {
  const minTime = options.minTimeMs ?? 200
  const batches = options.batches ?? 5
  for (let i = 0; i < (options.warmup ?? 3); i++) fn()
  // Calibrate the batch size so one batch takes at least minTime.
  let reps = 1
  for (;;) {
    const t0 = performance.now()
    for (let i = 0; i < reps; i++) fn()
    const dt = performance.now() - t0
    if (dt >= minTime / 4 || reps > 1e7) break
    reps *= 2
  }
  let best = Number.POSITIVE_INFINITY
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now()
    let done = 0
    let dt = 0
    do {
      for (let i = 0; i < reps; i++) fn()
      done += reps
      dt = performance.now() - t0
    } while (dt < minTime)
    best = Math.min(best, dt / done)
  }
  return best / 1000
}

/** The Python interpreter for anchors: `$DESCENT_PYTHON`, else `python3`. */
export const pythonExecutable = (): string => process.env.DESCENT_PYTHON ?? "python3"

/**
 * Runs `script` with the anchor interpreter and parses the JSON it prints on
 * its last line; `undefined` when Python or a module it imports is missing.
 * BLAS threads are pinned to one, to compare with single-threaded JavaScript.
 */
export const runPythonAnchor = <A>(script: string, modules: ReadonlyArray<string>): A | undefined => {
  const probe = spawnSync(pythonExecutable(), ["-c", modules.map((m) => `import ${m}`).join(";")], {
    encoding: "utf8"
  })
  if (probe.status !== 0) return undefined
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" }
  const result = spawnSync(pythonExecutable(), ["-c", script], { encoding: "utf8", env, maxBuffer: 1 << 26 })
  if (result.status !== 0) {
    process.stderr.write(`anchor failed: ${result.stderr}\n`)
    return undefined
  }
  const lines = result.stdout.trim().split("\n")
  return JSON.parse(lines[lines.length - 1]!) as A
}

/**
 * A Python function `best(f)` with the same method as `measure` (calibrated
 * batches after warm-up, best batch mean in seconds), for anchor scripts.
 */
export const PYTHON_BEST = `
import time as _time
def best(f, min_time=0.2, batches=5):
    f(); f(); f()
    reps = 1
    while True:
        t0 = _time.perf_counter()
        for _ in range(reps): f()
        if _time.perf_counter() - t0 >= min_time / 4 or reps > 1e7: break
        reps *= 2
    out = float("inf")
    for _ in range(batches):
        t0 = _time.perf_counter(); done = 0
        while True:
            for _ in range(reps): f()
            done += reps
            dt = _time.perf_counter() - t0
            if dt >= min_time: break
        out = min(out, dt / done)
    return out
`

/** A fixed-width table row for bench output. */
export const row = (cells: ReadonlyArray<string | number>, widths: ReadonlyArray<number>): string =>
  cells
    .map((c, i) => {
      const s = typeof c === "number" ? (Number.isInteger(c) ? String(c) : c.toPrecision(3)) : c
      return i === 0 ? s.padEnd(widths[i] ?? 12) : s.padStart(widths[i] ?? 12)
    })
    .join(" ")
