import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "graph",
    include: ["test/**/*.test.ts"],
    // Property suites with fast-check take seconds; CI runs them on 2 shared cores.
    testTimeout: 60_000
  }
})
