/**
 * The structure-learning example of issue #10: NOTEARS, DAGMA, GOLEM-EV,
 * CoLiDE, TOPO and COSMO on linear Gaussian SEMs over Erdős–Rényi graphs
 * with 2d expected edges (ER2), d = 10 and 20 nodes, n = 1000 samples,
 * 3 seeds per size (repetitions: each its own simulated instance).
 *
 * The iterate of every learner is its learned graph, so `objective` is the
 * least-squares score (1/2n)‖X − XŴ‖²_F of the learned graph; the accuracy
 * against the true DAG is recorded by the solvers: `solver.shd` (NOTEARS's
 * convention), `solver.tpr`, `solver.fdr`, `solver.edges` and `solver.h`
 * (h of the learner's raw weights).
 *
 * To keep the run to about a minute, GOLEM and COSMO get shorter Adam
 * budgets than their defaults (10⁵ and 3000 steps) and DAGMA and CoLiDE
 * shorter stages. The full benchmark of the papers is d ∈ {10, 20, 50}:
 * `Experiment.withGrid({ nodes: [10, 20, 50] })` with the learners' default
 * budgets (several minutes per d = 50 cell for the Adam-based learners).
 *
 * ```sh
 * pnpm descent run packages/dsl/examples/structure.ts --report .descent/structure.html
 * ```
 */
import { Evaluators, Experiment, Stopping } from "@descent/dsl"

/**
 * The experiment: 2 graph sizes × 3 seeds × 6 learners = 36 cells.
 */
export const experiment: Experiment.Experiment = Experiment.make({
  name: "structure",
  seed: 20_260_510
}).pipe(
  Experiment.withProblems(
    Experiment.problem("linearSem", { samples: 1000, graph: "ER", edgesPerNode: 2 }).pipe(
      Experiment.withGrid({ nodes: [10, 20] })
    )
  ),
  Experiment.withSolvers(
    Experiment.solver("notears", { lambda1: 0.1 }),
    Experiment.solver("dagma", { lambda1: 0.02, warmIterations: 5000, finalIterations: 10_000 }),
    Experiment.solver("golem", { lambda1: 0.02, lambda2: 5, maxIterations: 10_000 }),
    Experiment.solver("colide", { lambda1: 0.05, warmIterations: 5000, finalIterations: 10_000 }),
    Experiment.solver("topo", { lambda1: 0.01 }),
    Experiment.solver("cosmo", { maxIterations: 1000 })
  ),
  Experiment.withRepetitions(3),
  Experiment.withEvaluators(Evaluators.objective, Evaluators.wallTime),
  Experiment.withStopping(Stopping.maxIterations(1_000_000))
)
