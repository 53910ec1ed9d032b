/**
 * What the generators need to know about the workspace: which packages exist,
 * their manifest fields, their top-level modules and how their barrel is shaped.
 *
 * Everything here is plain `node:fs` so `barrels.ts` stays fast; only
 * `api-report.ts` loads the TypeScript compiler.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

/** Absolute path of the repository root (the parent of `scripts/`). */
export const repoRoot: string = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "")

/**
 * How `src/index.ts` re-exports the top-level modules:
 * - `namespace`: `export * as Vector from "./Vector.ts"` (the default);
 * - `flat`: `export * from "./assertClose.ts"`.
 */
export type BarrelStyle = "namespace" | "flat"

/** One top-level module of a package: `src/<name>.ts`. */
export interface Module {
  /** File name without `.ts`; also the namespace name in a namespace barrel. */
  readonly name: string
  /** Specifier used in the barrel, e.g. `./Vector.ts`. */
  readonly specifier: string
  /** Absolute path of the module file. */
  readonly path: string
}

export interface Package {
  /** Absolute path of `packages/<p>`. */
  readonly dir: string
  /** `dir` relative to the repo root, with forward slashes. */
  readonly relativeDir: string
  readonly name: string
  readonly version: string
  readonly description: string
  readonly barrel: BarrelStyle
  /** Top-level modules of `src/`, sorted by `compareNames` of their specifiers (as Biome sorts them). */
  readonly modules: ReadonlyArray<Module>
  /** Absolute path of `src/index.ts`. */
  readonly indexPath: string
  /** Absolute path of `api.md`. */
  readonly apiReportPath: string
  /** Absolute path of `tsconfig.json`. */
  readonly tsconfigPath: string
}

/**
 * Packages that get a flat barrel when their package.json says nothing.
 *
 * `@descent/testing` is private and its helpers are called bare in tests
 * (`assertClose(...)`, not `Testing.assertClose(...)`). The intended home of this
 * setting is the package's own manifest, `"descent": { "barrel": "flat" }`,
 * which `barrelStyle` reads first; this table only covers manifests that do not
 * carry it yet. Drop an entry once its package.json has the field.
 */
const defaultFlatBarrels: ReadonlySet<string> = new Set(["@descent/testing"])

interface Manifest {
  readonly name?: unknown
  readonly version?: unknown
  readonly description?: unknown
  readonly descent?: unknown
  readonly exports?: unknown
}

const barrelStyle = (name: string, manifest: Manifest, manifestPath: string): BarrelStyle => {
  const config = manifest.descent
  if (typeof config === "object" && config !== null && "barrel" in config) {
    const barrel = (config as { readonly barrel: unknown }).barrel
    if (barrel === "flat" || barrel === "namespace") return barrel
    throw new Error(
      `${manifestPath}: "descent.barrel" must be "flat" or "namespace", got ${JSON.stringify(barrel)}`
    )
  }
  return defaultFlatBarrels.has(name) ? "flat" : "namespace"
}

// Punctuation in the order Biome's organizeImports sorts it (measured against Biome 2.6).
const punctuationOrder = "/?#=&;,@:._-+*!%$()[]{}<>|^~'`"
const digitRank = 100
const isDigit = (code: number): boolean => code >= 48 && code <= 57

const charRank = (code: number): number => {
  const p = punctuationOrder.indexOf(String.fromCharCode(code))
  if (p >= 0) return p
  if (code >= 65 && code <= 90) return 200 + (code - 65) * 2 // A < a < B < b …
  if (code >= 97 && code <= 122) return 201 + (code - 97) * 2
  if (code < 128) return 50 + code // space, quote, backslash: rare, kept before digits
  return 1000 + code
}

/**
 * The natural order Biome's organizeImports uses for module sources: digit runs
 * compare as numbers, letters as `A < a < B < b`, punctuation before digits
 * before letters. Barrels are sorted with it so `biome check` accepts them as
 * generated; api.md uses it too. Never `localeCompare`, whose order depends on
 * the ICU data of the machine.
 */
export const compareNames = (a: string, b: string): number => {
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(j)
    if (isDigit(ca) && isDigit(cb)) {
      let iEnd = i
      while (iEnd < a.length && isDigit(a.charCodeAt(iEnd))) iEnd++
      let jEnd = j
      while (jEnd < b.length && isDigit(b.charCodeAt(jEnd))) jEnd++
      // Biome keeps leading zeros: a longer run is larger ("9" < "09" < "10").
      if (iEnd - i !== jEnd - j) return iEnd - i - (jEnd - j)
      const da = a.slice(i, iEnd)
      const db = b.slice(j, jEnd)
      if (da !== db) return da < db ? -1 : 1
      i = iEnd
      j = jEnd
      continue
    }
    const ra = isDigit(ca) ? digitRank : charRank(ca)
    const rb = isDigit(cb) ? digitRank : charRank(cb)
    if (ra !== rb) return ra - rb
    i++
    j++
  }
  return a.length - i - (b.length - j)
}

const isExcludedModuleFile = (file: string): boolean =>
  file === "index.ts" ||
  file.endsWith(".d.ts") ||
  file.endsWith(".test.ts") ||
  file.endsWith(".spec.ts") ||
  file.startsWith(".")

/**
 * The top-level modules of `srcDir`: every `*.ts` file directly inside it
 * except `index.ts` and the modules in `ownEntries` (files that the package
 * exports under a subpath of their own, such as `@descent/dsl/fp-ts`, kept
 * out of the main barrel because they need an optional peer dependency).
 */
export const listModules = (
  srcDir: string,
  ownEntries: ReadonlySet<string> = new Set()
): ReadonlyArray<Module> =>
  readdirSync(srcDir, { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isFile() &&
        entry.name.endsWith(".ts") &&
        !isExcludedModuleFile(entry.name) &&
        !ownEntries.has(entry.name)
    )
    .map((entry) => {
      const name = entry.name.slice(0, -".ts".length)
      return { name, specifier: `./${entry.name}`, path: join(srcDir, entry.name) }
    })
    .sort((a, b) => compareNames(a.specifier, b.specifier))

/** The `src/` files a manifest exports under subpaths other than "." (e.g. `"./fp-ts": "./src/FpTs.ts"`). */
const subpathEntryFiles = (manifest: Manifest): ReadonlySet<string> => {
  const files = new Set<string>()
  const exportsField = manifest.exports
  if (exportsField === null || typeof exportsField !== "object") return files
  for (const [subpath, target] of Object.entries(exportsField)) {
    if (subpath === "." || typeof target !== "string" || !target.startsWith("./src/")) continue
    const file = target.slice("./src/".length)
    if (!file.includes("/")) files.add(file)
  }
  return files
}

/** Reads one package directory; `undefined` when it has no `package.json` or no `src/`. */
export const readPackage = (dir: string): Package | undefined => {
  const manifestPath = join(dir, "package.json")
  const srcDir = join(dir, "src")
  if (!existsSync(manifestPath) || !existsSync(srcDir) || !statSync(srcDir).isDirectory()) return undefined
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest
  const relativeDir = relative(repoRoot, dir).split("\\").join("/")
  if (typeof manifest.name !== "string") throw new Error(`${relativeDir}/package.json has no "name"`)
  const name = manifest.name
  return {
    dir,
    relativeDir,
    name,
    version: typeof manifest.version === "string" ? manifest.version : "0.0.0",
    description: typeof manifest.description === "string" ? manifest.description.trim() : "",
    barrel: barrelStyle(name, manifest, `${relativeDir}/package.json`),
    modules: listModules(srcDir, subpathEntryFiles(manifest)),
    indexPath: join(srcDir, "index.ts"),
    apiReportPath: join(dir, "api.md"),
    tsconfigPath: join(dir, "tsconfig.json")
  }
}

/** Every `packages/<p>` with a `package.json` and a `src/`, sorted by directory name. */
export const listPackages = (): ReadonlyArray<Package> => {
  const packagesDir = join(repoRoot, "packages")
  if (!existsSync(packagesDir)) return []
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort(compareNames)
    .flatMap((name) => {
      const pkg = readPackage(join(packagesDir, name))
      return pkg === undefined ? [] : [pkg]
    })
}

/** A file the generators own, with the exact text it should contain. */
export interface GeneratedFile {
  /** Absolute path. */
  readonly path: string
  readonly content: string
}

/** Line endings normalized, so a CRLF checkout does not look stale. */
const normalize = (text: string): string => text.replace(/\r\n/g, "\n")

/** Whether `file` on disk differs from what it should contain (missing counts as stale). */
export const isStale = (file: GeneratedFile): boolean =>
  !existsSync(file.path) || normalize(readFileSync(file.path, "utf8")) !== normalize(file.content)

/** Writes `file` unless it is already up to date (keeps mtimes stable for turbo); true when written. */
export const writeIfStale = (file: GeneratedFile): boolean => {
  if (!isStale(file)) return false
  writeFileSync(file.path, file.content)
  return true
}

/** `path` relative to the repo root, with forward slashes, for messages. */
export const displayPath = (path: string): string => relative(repoRoot, path).split("\\").join("/")

/** Wraps `text` into lines of at most `width` characters (words longer than `width` stay whole). */
export const wrapWords = (text: string, width: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line.length > 0 ? `${line} ${word}` : word
    }
  }
  if (line.length > 0) lines.push(line)
  return lines
}
