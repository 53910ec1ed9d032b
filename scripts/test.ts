/**
 * `pnpm test`: everything CI checks, in order, failing fast.
 *
 * 1. generated files are fresh (barrels and API reports, `pnpm generate`; the
 *    compiled WebAssembly kernels, `node scripts/wasm.ts`),
 * 2. type check of every package and of these scripts (turbo `check`, cached),
 * 3. lint and format check (Biome, turbo `lint`),
 * 4. every vitest project in one run.
 *
 * It ends with one line `tests: N passed, M failed` (plus skipped), the summary
 * CI reads.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")
const bin = (name: string): string => join(root, "node_modules", ".bin", name)

const step = (title: string, command: string, args: ReadonlyArray<string>): void => {
  console.log(`\n── ${title} ──`)
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" }
  })
  if (result.status !== 0) {
    console.error(`\n${title} failed (exit ${result.status ?? result.signal}).`)
    console.log("tests: 0 passed, 1 failed")
    process.exit(1)
  }
}

step("generated files are fresh", process.execPath, [join(root, "scripts", "generate.ts"), "--check"])
step("WebAssembly module is fresh", process.execPath, [join(root, "scripts", "wasm.ts"), "--check"])
step("type check", bin("turbo"), ["run", "check", "--output-logs=errors-only"])
step("type check (scripts)", bin("tsc"), ["-p", "scripts", "--noEmit"])
step("lint and format", bin("biome"), ["check", "."])

const outDir = join(root, "node_modules", ".cache", "descent")
mkdirSync(outDir, { recursive: true })
const report = join(outDir, "vitest.json")
console.log("\n── tests ──")
const run = spawnSync(
  bin("vitest"),
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
  {
    cwd: root,
    stdio: "inherit"
  }
)
let passed = 0
let failed = 0
let skipped = 0
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number
    numFailedTests: number
    numPendingTests: number
    numTodoTests: number
  }
  passed = r.numPassedTests
  failed = r.numFailedTests
  skipped = r.numPendingTests + r.numTodoTests
}
if (run.status !== 0 && failed === 0) failed = 1
console.log(`tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(run.status === 0 && failed === 0 ? 0 : 1)
