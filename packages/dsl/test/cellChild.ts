/**
 * Child process of the cross-process determinism test (`runner.test.ts`):
 * computes every cell of {@link childExperiment} with `Runner.runCell` and
 * prints the outcomes (without the wall times) as JSON.
 */
import { Effect } from "effect"
import * as Evaluators from "../src/Evaluators.ts"
import * as Experiment from "../src/Experiment.ts"
import * as Runner from "../src/Runner.ts"
import * as Stopping from "../src/Stopping.ts"

/** A small experiment with random data, a schedule and a pipeline. */
export const childExperiment = Experiment.make({ name: "cross-process cells", seed: 77 }).pipe(
  Experiment.withProblems(
    Experiment.problem("logisticRegression", { samples: 120, features: 6, condition: 30 }),
    Experiment.problem("leastSquares", { samples: 40, features: 8, l1: 0.05 })
  ),
  Experiment.withSolvers(
    Experiment.solver("adam", { learningRate: 0.05 }),
    Experiment.solver("fista"),
    Experiment.pipeline([
      Experiment.stage(Experiment.solver("lion", { learningRate: 0.01 }), Stopping.maxIterations(20)),
      Experiment.stage(Experiment.solver("lbfgs"))
    ])
  ),
  Experiment.withEvaluators(Evaluators.suboptimality(), Evaluators.stateSize),
  Experiment.withStopping(Stopping.maxIterations(200))
)

/** The deterministic part of every cell's outcome, by cellId. */
export const outcomes = async (): Promise<Record<string, unknown>> => {
  const result: Record<string, unknown> = {}
  for (const cell of Experiment.expand(childExperiment)) {
    const o = await Effect.runPromise(Runner.runCell(childExperiment, cell.cellId))
    const { wallTimeMs: _m, ...metrics } = o.metrics
    const { wallTimeMs: _t, ...values } = o.trace.values
    result[cell.cellId] = { ...o, busyMs: 0, metrics, trace: { iteration: o.trace.iteration, values } }
  }
  return result
}

if (import.meta.main) process.stdout.write(JSON.stringify(await outcomes()))
