import { fileURLToPath } from "node:url"
import { assertReadmeExamplesRun } from "@descent/testing"
import { it } from "vitest"

it("the README examples run", () => assertReadmeExamplesRun(fileURLToPath(new URL("..", import.meta.url))))
