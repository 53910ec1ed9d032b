/**
 * The example behind the README's main job: a handful of optimizers — SGD,
 * heavy-ball momentum, Adam, Lion, L-BFGS, and an Adam → L-BFGS pipeline —
 * on L2-regularized logistic regression and the chained Rosenbrock function,
 * three repetitions each (each repetition draws its own problem instance and
 * solver keys from the root seed). Suboptimality is measured against a
 * high-accuracy reference solve of each instance.
 *
 * Run it from the repository root — live progress, the summary table, the
 * run stored in `.descent/descent.sqlite`, and the HTML report:
 *
 * ```sh
 * pnpm descent run packages/dsl/examples/optimizers.ts --report .descent/optimizers.html
 * ```
 *
 * Running it again resumes the run (every cell is already stored);
 * `pnpm descent verify optimizers` recomputes each cell and checks the stored
 * numbers bit for bit.
 */
import { Evaluators, Experiment, Stopping } from "@descent/dsl"

/**
 * The experiment: 2 problems × 6 solvers × 3 repetitions = 36 cells.
 */
export const experiment: Experiment.Experiment = Experiment.make({
  name: "optimizers",
  seed: 20_261_122
}).pipe(
  Experiment.withProblems(
    Experiment.problem("logisticRegression", { samples: 1000, features: 40, regularization: 1e-2 }),
    Experiment.problem("rosenbrock", { dimension: 10, jitter: 0.1 })
  ),
  Experiment.withSolvers(
    Experiment.solver("sgd", { learningRate: 1e-3 }),
    Experiment.solver("momentum", { learningRate: 1e-3, momentum: 0.9 }),
    Experiment.solver("adam", { learningRate: 1e-2 }),
    Experiment.solver("lion", { learningRate: 1e-3 }),
    Experiment.solver("lbfgs"),
    Experiment.pipeline([
      Experiment.stage(Experiment.solver("adam", { learningRate: 1e-2 }), Stopping.maxIterations(100)),
      Experiment.stage(Experiment.solver("lbfgs"))
    ])
  ),
  Experiment.withRepetitions(3),
  Experiment.withEvaluators(Evaluators.suboptimality()),
  Experiment.withStopping(
    Stopping.anyOf(Stopping.maxIterations(3000), Stopping.tolerance("gradientNorm", 1e-8))
  )
)
