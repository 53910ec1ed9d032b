/**
 * `pnpm generate`: regenerates every package's `src/index.ts` barrel
 * (`barrels.ts`) and `api.md` report (`api-report.ts`).
 *
 * Usage:
 *   node scripts/generate.ts [--check] [package…]
 *
 * - no flag: writes the files that changed (untouched files keep their mtime);
 * - `--check`: writes nothing; exits 1 and lists every stale file when any
 *   generated file differs from what would be generated (for CI);
 * - `package…`: only these packages, by directory (`core`) or name
 *   (`@descent/core`); default all of `packages/*` that have a `src/`.
 *
 * Exit codes: 0 up to date / written, 1 stale files under `--check`, 2 when a
 * file could not be generated (bad module name, flat-barrel name clash, …).
 */
import { basename } from "node:path"
import type { Project } from "ts-morph"
import { apiReportFile, createProjects } from "./api-report.ts"
import { barrelFile } from "./barrels.ts"
import {
  displayPath,
  type GeneratedFile,
  isStale,
  listPackages,
  type Package,
  writeIfStale
} from "./workspace.ts"

interface Options {
  readonly check: boolean
  readonly only: ReadonlyArray<string>
}

const usage = "usage: node scripts/generate.ts [--check] [package…]"

const parseArgs = (args: ReadonlyArray<string>): Options => {
  const unknown = args.filter((a) => a.startsWith("-") && a !== "--check")
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage)
    process.exit(0)
  }
  if (unknown.length > 0) {
    console.error(`generate: unknown option ${unknown.join(", ")}\n${usage}`)
    process.exit(2)
  }
  return { check: args.includes("--check"), only: args.filter((a) => !a.startsWith("-")) }
}

const selectPackages = (only: ReadonlyArray<string>): ReadonlyArray<Package> => {
  const all = listPackages()
  if (only.length === 0) return all
  const missing = only.filter((o) => !all.some((p) => p.name === o || basename(p.dir) === o))
  if (missing.length > 0) {
    console.error(
      `generate: no package ${missing.join(", ")} (known: ${all.map((p) => basename(p.dir)).join(", ")})`
    )
    process.exit(2)
  }
  return all.filter((p) => only.includes(p.name) || only.includes(basename(p.dir)))
}

/** The files one package should have, each generated on its own so one failure does not hide the other. */
const generators = (pkg: Package, project: Project | undefined): ReadonlyArray<() => GeneratedFile> => [
  () => barrelFile(pkg),
  () => apiReportFile(pkg, project)
]

const main = (): void => {
  const started = performance.now()
  const options = parseArgs(process.argv.slice(2))
  const stale: Array<string> = []
  const written: Array<string> = []
  const failures: Array<string> = []
  let total = 0
  const packages = selectPackages(options.only)
  const projects = createProjects(packages)
  for (const pkg of packages) {
    for (const generate of generators(pkg, projects.get(pkg.dir))) {
      let file: GeneratedFile
      try {
        file = generate()
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        failures.push(message.includes(pkg.relativeDir) ? message : `${pkg.relativeDir}: ${message}`)
        continue
      }
      total++
      if (options.check) {
        if (isStale(file)) stale.push(displayPath(file.path))
      } else if (writeIfStale(file)) {
        written.push(displayPath(file.path))
      }
    }
  }
  for (const failure of failures) console.error(`generate: ${failure}`)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (options.check) {
    for (const path of stale) console.error(`stale: ${path}`)
    if (stale.length > 0) {
      console.error(`${stale.length} generated file(s) out of date; run pnpm generate`)
      process.exit(failures.length > 0 ? 2 : 1)
    }
    if (failures.length === 0)
      console.log(`generate --check: ${total} generated files up to date (${seconds} s)`)
  } else {
    for (const path of written) console.log(`wrote ${path}`)
    console.log(`generate: ${written.length} written, ${total - written.length} unchanged (${seconds} s)`)
  }
  if (failures.length > 0) process.exit(2)
}

main()
