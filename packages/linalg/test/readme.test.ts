import { fileURLToPath } from "node:url"
import { runReadmeExamples } from "@descent/testing"
import { expect, it } from "vitest"

it("the README examples run", () => {
  const runs = runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)))
  expect(runs.length).toBeGreaterThan(0)
  for (const run of runs) {
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
  }
})
