/**
 * Child process of the cross-process hash test (`hash.test.ts`): prints the
 * hash and the cell ids of {@link childExperiment} as JSON.
 */

import { Schedules } from "@descent/optim"
import * as Evaluators from "../src/Evaluators.ts"
import * as Experiment from "../src/Experiment.ts"
import * as Stopping from "../src/Stopping.ts"

/** An experiment touching every kind of field (grids, schedules, pipelines, nested rules). */
export const childExperiment = (): Experiment.Experiment =>
  Experiment.make({ name: "cross-process", seed: 123_456_789 }).pipe(
    Experiment.withProblems(
      Experiment.problem("quadratic", { dimension: 20, condition: 1e3 }),
      Experiment.problem("logisticRegression", { samples: 100 }).pipe(
        Experiment.withGrid({ features: [5, 10] })
      )
    ),
    Experiment.withSolvers(
      Experiment.solver("adam", {
        learningRate: Schedules.warmupCosine({
          initValue: 0,
          peakValue: 0.1,
          warmupSteps: 10,
          decaySteps: 100,
          endValue: 1e-4
        })
      }),
      Experiment.solver("sgd", { momentum: 0.9 }).pipe(Experiment.withGrid({ learningRate: [0.01, 0.1] })),
      Experiment.pipeline([
        Experiment.stage(Experiment.solver("adam", { learningRate: 0.01 }), Stopping.maxIterations(10)),
        Experiment.stage(Experiment.solver("lbfgs", { memory: 5 }))
      ])
    ),
    Experiment.withRepetitions(2),
    Experiment.withStopping(
      Stopping.anyOf(
        Stopping.maxIterations(100),
        Stopping.allOf(Stopping.tolerance("gradientNorm", 1e-6), Stopping.targetObjective(-0.5))
      )
    ),
    Experiment.withEvaluators(Evaluators.suboptimality({ reference: "known" }), Evaluators.stateSize)
  )

if (import.meta.main) {
  const experiment = childExperiment()
  process.stdout.write(
    JSON.stringify({
      hash: Experiment.hashOf(experiment),
      cellIds: Experiment.expand(experiment).map((c) => c.cellId)
    })
  )
}
