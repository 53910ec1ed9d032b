#!/usr/bin/env node
/**
 * The `descent` executable: `main` from `@descent/dsl/cli` under Node's
 * runtime (exit code 0 on success, 1 on a failure, 130 when interrupted).
 * A TypeScript file: it needs a Node that strips types (≥ 22.18; the
 * workspace pins 24), e.g. `node packages/dsl/bin/descent.ts run …` or
 * `pnpm descent run …` from the repository root.
 *
 * Node's module compile cache is enabled before the CLI is imported (hence
 * the dynamic imports): it halves the start-up time of every later call.
 */
import { enableCompileCache } from "node:module"

enableCompileCache?.()
const { runMain } = await import("@effect/platform-node/NodeRuntime")
const { main } = await import("../src/Cli.ts")
runMain(main)
