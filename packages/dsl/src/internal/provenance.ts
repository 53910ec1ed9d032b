/**
 * Where a run happens: package versions, runtime, platform, core's kernel
 * backend, and the git commit of the working directory when there is one
 * (read from `.git` without spawning git). Works in Node; in a browser the
 * Node-only parts fall back ("browser", no commit).
 */
import { Memory } from "@descent/core"
import type { Provenance } from "../Records.ts"

const PACKAGES = ["@descent/core", "@descent/linalg", "@descent/optim", "@descent/dsl"] as const

interface NodeProcess {
  readonly version: string
  readonly platform: string
  readonly arch: string
  readonly versions?: { readonly node?: string }
  cwd(): string
}

const nodeProcess = (): NodeProcess | undefined => {
  const p = (globalThis as { readonly process?: NodeProcess }).process
  return p !== undefined && typeof p.versions?.node === "string" ? p : undefined
}

const packageVersion = async (name: string): Promise<string | undefined> => {
  try {
    const specifier = `${name}/package.json`
    const module = (await import(specifier, { with: { type: "json" } })) as {
      readonly default?: { readonly version?: unknown }
    }
    const version = module.default?.version
    return typeof version === "string" ? version : undefined
  } catch {
    return undefined
  }
}

/** The commit of the git repository containing `start` (HEAD resolved through refs and packed-refs), or null. */
export const gitCommit = async (start: string): Promise<string | null> => {
  try {
    const fs = await import("node:fs/promises")
    const path = await import("node:path")
    let dir = path.resolve(start)
    for (;;) {
      const candidate = path.join(dir, ".git")
      const info = await fs.stat(candidate).catch(() => undefined)
      if (info !== undefined) {
        let gitDir = candidate
        if (info.isFile()) {
          // A worktree or submodule: ".git" holds "gitdir: <path>".
          const text = (await fs.readFile(candidate, "utf8")).trim()
          if (!text.startsWith("gitdir:")) return null
          gitDir = path.resolve(dir, text.slice("gitdir:".length).trim())
        }
        const head = (await fs.readFile(path.join(gitDir, "HEAD"), "utf8")).trim()
        if (/^[0-9a-f]{40,64}$/.test(head)) return head
        if (!head.startsWith("ref:")) return null
        const ref = head.slice("ref:".length).trim()
        // A linked worktree keeps its refs in the common directory.
        const common = await fs
          .readFile(path.join(gitDir, "commondir"), "utf8")
          .then((c) => path.resolve(gitDir, c.trim()))
          .catch(() => gitDir)
        for (const base of [gitDir, common]) {
          const loose = await fs.readFile(path.join(base, ref), "utf8").catch(() => undefined)
          if (loose !== undefined && /^[0-9a-f]{40,64}$/.test(loose.trim())) return loose.trim()
        }
        const packed = await fs.readFile(path.join(common, "packed-refs"), "utf8").catch(() => "")
        for (const line of packed.split("\n")) {
          const [sha, name] = line.trim().split(" ")
          if (name === ref && sha !== undefined && /^[0-9a-f]{40,64}$/.test(sha)) return sha
        }
        return null
      }
      const parent = path.dirname(dir)
      if (parent === dir) return null
      dir = parent
    }
  } catch {
    return null
  }
}

/** The provenance of a run started now, in this process. */
export const collect = async (): Promise<Provenance> => {
  const packages: Record<string, string> = {}
  for (const name of PACKAGES) {
    const version = await packageVersion(name)
    if (version !== undefined) packages[name] = version
  }
  const node = nodeProcess()
  const navigatorAgent = (globalThis as { readonly navigator?: { readonly userAgent?: string } }).navigator
    ?.userAgent
  return {
    packages,
    runtime: node !== undefined ? `node ${node.version}` : (navigatorAgent ?? "unknown"),
    platform: node !== undefined ? `${node.platform}-${node.arch}` : "browser",
    backend: Memory.backend(),
    gitCommit: node !== undefined ? await gitCommit(node.cwd()) : null
  }
}
