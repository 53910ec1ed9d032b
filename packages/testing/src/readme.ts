/**
 * Runs the TypeScript examples of a package README, so documentation that no
 * longer works fails the tests.
 */
import { spawnSync } from "node:child_process"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** The ```ts blocks of a markdown file, in order. */
export const typescriptBlocks = (markdown: string): string[] => {
  const blocks: string[] = []
  const fence = /```ts\n([\s\S]*?)```/g
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) blocks.push(m[1]!)
  return blocks
}

export interface ExampleRun {
  readonly index: number
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Writes each ```ts block of `<packageDir>/README.md` to a temporary file inside
 * the package (so its imports resolve as a user's would) and runs it with the
 * current Node. Returns one record per block.
 */
export const runReadmeExamples = (packageDir: string): ExampleRun[] => {
  const blocks = typescriptBlocks(readFileSync(join(packageDir, "README.md"), "utf8"))
  return blocks.map((code, index) => {
    const file = join(packageDir, `.readme-example-${index}-${process.pid}.ts`)
    writeFileSync(file, code)
    try {
      const r = spawnSync(process.execPath, [file], { encoding: "utf8", cwd: packageDir, timeout: 60_000 })
      return { index, status: r.status, stdout: r.stdout, stderr: r.stderr }
    } finally {
      rmSync(file, { force: true })
    }
  })
}

/**
 * Runs a package's README examples and throws, naming the example and its
 * stderr, unless every one exits 0 with nothing on stderr (and at least one exists).
 */
export const assertReadmeExamplesRun = (packageDir: string): void => {
  const runs = runReadmeExamples(packageDir)
  if (runs.length === 0) throw new Error(`${packageDir}/README.md has no \`\`\`ts example`)
  for (const run of runs) {
    if (run.status !== 0 || run.stderr !== "") {
      throw new Error(`README example ${run.index} failed (exit ${run.status}):\n${run.stderr}`)
    }
  }
}
