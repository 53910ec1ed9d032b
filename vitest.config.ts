import { defineConfig } from "vitest/config"

// One vitest project per package; `pnpm test` runs them all in one process so the
// summary counts every test once. Core and linalg run a second time with the
// TypeScript kernels forced (`core-ts`, `linalg-ts`), so both kernel backends
// are always tested.
export default defineConfig({
  test: {
    projects: [
      "packages/*",
      "apps/*",
      {
        root: "./packages/core",
        test: {
          name: "core-ts",
          include: ["test/**/*.test.ts"],
          env: { DESCENT_BACKEND: "typescript" },
          testTimeout: 60_000
        }
      },
      {
        root: "./packages/linalg",
        test: {
          name: "linalg-ts",
          include: ["test/**/*.test.ts"],
          env: { DESCENT_BACKEND: "typescript" },
          testTimeout: 60_000
        }
      }
    ]
  }
})
