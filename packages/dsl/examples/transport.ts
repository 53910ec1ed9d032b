/**
 * The optimal transport example of issue #9: Sinkhorn (scaling form),
 * log-domain Sinkhorn, Sinkhorn–Newton–Sparse (all at ε = 0.01, to a
 * marginal error of 1e-9) and the exact network simplex (EMD) on uniform
 * point clouds in [0,1]² with the squared-Euclidean cost divided by its max,
 * n = 500, 1000 and 2000 points.
 *
 * The iterate of every OT solver is its transport plan, so `objective` is the
 * transport cost ⟨C, P⟩ and `suboptimality` its distance to the exact (EMD)
 * cost of the same instance; `solver.marginalError` and
 * `solver.regularizedCost` come from the solvers. Log-domain Sinkhorn is
 * capped at 100 iterations to keep the run short (it is several times slower
 * per iteration than the scaling form at this ε, which never underflows).
 *
 * ```sh
 * pnpm descent run packages/dsl/examples/transport.ts --report .descent/transport.html
 * ```
 */
import { Evaluators, Experiment, Stopping } from "@descent/dsl"

/**
 * The experiment: 3 problem sizes × 4 solvers × 1 repetition = 12 cells.
 */
export const experiment: Experiment.Experiment = Experiment.make({
  name: "transport",
  seed: 20_260_509
}).pipe(
  Experiment.withProblems(
    Experiment.problem("pointCloud", { d: 2 }).pipe(Experiment.withGrid({ n: [500, 1000, 2000] }))
  ),
  Experiment.withSolvers(
    Experiment.solver("sinkhorn", { epsilon: 0.01, tolerance: 1e-9 }),
    Experiment.solver("sinkhornLog", { epsilon: 0.01, tolerance: 1e-9, maxIterations: 100 }),
    Experiment.solver("sinkhornNewtonSparse", { epsilon: 0.01, tolerance: 1e-9 }),
    Experiment.solver("emd")
  ),
  Experiment.withEvaluators(
    Evaluators.objective,
    Evaluators.suboptimality({ reference: "known" }),
    Evaluators.wallTime
  ),
  Experiment.withStopping(Stopping.maxIterations(1_000_000))
)
