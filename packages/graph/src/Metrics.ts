/**
 * Accuracy of an estimated graph against the true DAG: structural Hamming
 * distance (SHD) under a named convention, and the edge rates TPR, FDR, FPR,
 * precision, recall and F1.
 *
 * The definitions follow `count_accuracy` of the NOTEARS reference code
 * (github.com/xunzheng/notears, `notears/utils.py`; Zheng et al. 2018), so
 * numbers are comparable with the papers that use it (NOTEARS, DAGMA, GOLEM,
 * CoLiDE, TOPO, COSMO). Graphs are d × d matrices with W_ij ≠ 0 meaning the
 * edge i → j (weights are ignored; threshold a learned W first with
 * `Dag.threshold`). Every unordered pair {i, j} of the estimate is one of:
 *
 * - absent; if the true graph has an edge there it is **missing**;
 * - a directed edge i → j: a **true positive** when the truth has i → j, a
 *   **reversed** edge when the truth has j → i, else a **false positive**
 *   (and an **extra** skeleton edge);
 * - both i → j and j → i, read as one **undirected** edge (as a CPDAG edge):
 *   a true positive when the truth has either direction ("treated
 *   favorably", as NOTEARS does), else a false positive and an extra edge.
 *
 * Each pair is counted once, so TP ≤ the number of true edges and TPR ≤ 1
 * always. gCastle's `MetricsDAG` counted a bidirectional estimate twice
 * (TPR = 2 for one true edge estimated as i ⇄ j; huawei-noah/trustworthyAI
 * issue #188, fixed by pull request #193); that case is in this module's tests.
 *
 * Two SHD conventions are in use, chosen by the named option `reversal`:
 *
 * - `reversal: 1` (default), NOTEARS's `count_accuracy`: SHD = extra +
 *   missing + reversed, the number of pairs to add, delete or flip; an
 *   undirected estimate of a true edge costs 0.
 * - `reversal: 2`, the Causal Discovery Toolbox's
 *   `cdt.metrics.SHD(target, pred, double_for_anticausal=True)` (its
 *   default): the entrywise Hamming distance Σ_ij |B_ij − B̂_ij| of the binary
 *   adjacencies, so a reversed edge costs 2, an undirected estimate of a true
 *   edge 1 and an undirected extra edge 2.
 *
 * For two DAGs, SHD₂ = SHD₁ + reversed, and both are metrics on DAGs.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Vector } from "@descent/core"
import * as Dag from "./Dag.ts"
import { CyclicGraph } from "./Errors.ts"

/**
 * The SHD convention: how many units a reversed edge costs (see the module
 * documentation). 1: NOTEARS's `count_accuracy`; 2: cdt's `SHD` with
 * `double_for_anticausal=True`.
 *
 * @category models
 * @since 0.1.0
 */
export type Reversal = 1 | 2

/**
 * Options of {@link accuracy} and {@link shd}.
 *
 * @category models
 * @since 0.1.0
 */
export interface AccuracyOptions {
  /** SHD convention; default 1 (NOTEARS). */
  readonly reversal?: Reversal
}

/**
 * Defaults of {@link AccuracyOptions}.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = { reversal: 1 } as const

/**
 * Accuracy of an estimate against the true DAG (definitions in the module
 * documentation; ratios use max(denominator, 1), as NOTEARS does).
 *
 * @category models
 * @since 0.1.0
 */
export interface Accuracy {
  /** Structural Hamming distance under `reversal`. */
  readonly shd: number
  /** The SHD convention used. */
  readonly reversal: Reversal
  /** True positive rate TP / max(trueEdges, 1), in [0, 1]. */
  readonly tpr: number
  /** False discovery rate (reversed + FP) / max(predictedEdges, 1), in [0, 1]. */
  readonly fdr: number
  /**
   * False positive rate (reversed + FP) / max(d(d−1)/2 − trueEdges, 1), NOTEARS's
   * definition: the denominator counts the non-adjacent pairs of the truth but
   * the numerator also counts reversed edges, so it can exceed 1 when edges
   * are reversed in a dense graph.
   */
  readonly fpr: number
  /** TP / max(predictedEdges, 1) = 1 − FDR when something is predicted. */
  readonly precision: number
  /** Same as `tpr`. */
  readonly recall: number
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  readonly f1: number
  /** Predicted edges: directed edges plus undirected pairs (NOTEARS's `nnz`). */
  readonly predictedEdges: number
  /** Edges of the true DAG (condition positives). */
  readonly trueEdges: number
  readonly truePositives: number
  /** Predicted edges (directed or undirected) on pairs non-adjacent in the truth. */
  readonly falsePositives: number
  /** Directed predicted edges whose reverse is the true edge. */
  readonly reversed: number
  /** Pairs adjacent in the estimate but not in the truth (= falsePositives). */
  readonly extra: number
  /** Pairs adjacent in the truth but not in the estimate. */
  readonly missing: number
  /** Pairs the estimate holds in both directions (read as undirected edges). */
  readonly undirected: number
}

const validate = (operation: string, trueGraph: Matrix.Matrix, estimate: Matrix.Matrix): number => {
  Matrix.assertSquare(operation, "trueGraph", trueGraph)
  const d = trueGraph.rows
  Matrix.assertShape(operation, "estimate", estimate, d, d)
  Vector.assertFinite(operation, "trueGraph", trueGraph.data)
  Vector.assertFinite(operation, "estimate", estimate.data)
  const cycle = Dag.findCycle(trueGraph)
  if (cycle !== undefined) throw new CyclicGraph({ operation, what: "trueGraph", cycle })
  const e = estimate.data
  for (let i = 0; i < d; i++) {
    if (e[i * d + i] !== 0) throw new CyclicGraph({ operation, what: "estimate (a self-loop)", cycle: [i] })
  }
  return d
}

const checkReversal = (operation: string, reversal: unknown): Reversal => {
  if (reversal !== 1 && reversal !== 2) {
    throw new Errors.InvalidOptions({
      operation,
      field: "reversal",
      value: reversal,
      requirement: "1 (NOTEARS: a reversed edge counts once) or 2 (cdt: it counts twice)"
    })
  }
  return reversal
}

/**
 * Accuracy of `estimate` against the true DAG `trueGraph`: SHD under the
 * chosen `reversal` convention, TPR, FDR, FPR, precision, recall, F1 and the
 * counts behind them, as NOTEARS's `count_accuracy` defines them (module
 * documentation). The estimate may contain cycles (pairs with both directions
 * are read as undirected edges; longer cycles are scored edge by edge) but no
 * self-loops. O(d²).
 *
 * @example
 * const truth = Matrix.fromRows([[0, 1, 0], [0, 0, 1], [0, 0, 0]]) // 0 → 1 → 2
 * const guess = Matrix.fromRows([[0, 1, 0], [0, 0, 0], [0, 1, 0]]) // 0 → 1 ← 2
 * Metrics.accuracy(truth, guess).shd // 1 (one reversal)
 * Metrics.accuracy(truth, guess, { reversal: 2 }).shd // 2
 * @throws CyclicGraph when `trueGraph` is not a DAG, or `estimate` has a self-loop.
 * @throws DimensionMismatch when the matrices are not square of one size.
 * @throws NonFiniteInput when either holds NaN or ±Infinity.
 * @throws InvalidOptions when `reversal` is not 1 or 2.
 * @category evaluators
 * @since 0.1.0
 */
export const accuracy = (
  trueGraph: Matrix.Matrix,
  estimate: Matrix.Matrix,
  options: AccuracyOptions = {}
): Accuracy => {
  const operation = "Metrics.accuracy"
  const reversal = checkReversal(operation, options.reversal ?? defaults.reversal)
  const d = validate(operation, trueGraph, estimate)
  const t = trueGraph.data
  const e = estimate.data
  let trueEdges = 0
  let predictedEdges = 0
  let truePositives = 0
  let falsePositives = 0
  let reversed = 0
  let missing = 0
  let undirected = 0
  // Entrywise Hamming distance of the binary adjacencies (cdt's SHD).
  let hamming = 0
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const tij = t[i * d + j] !== 0
      const tji = t[j * d + i] !== 0
      const eij = e[i * d + j] !== 0
      const eji = e[j * d + i] !== 0
      // The truth is a DAG: at most one of tij, tji.
      const adjacent = tij || tji
      if (adjacent) trueEdges++
      if (tij !== eij) hamming++
      if (tji !== eji) hamming++
      if (!eij && !eji) {
        if (adjacent) missing++
        continue
      }
      predictedEdges++
      if (eij && eji) {
        undirected++
        if (adjacent) truePositives++
        else falsePositives++
      } else if ((eij && tij) || (eji && tji)) {
        truePositives++
      } else if (adjacent) {
        reversed++
      } else {
        falsePositives++
      }
    }
  }
  const extra = falsePositives
  const shd = reversal === 1 ? extra + missing + reversed : hamming
  const conditionNegative = (d * (d - 1)) / 2 - trueEdges
  const tpr = truePositives / Math.max(trueEdges, 1)
  const fdr = (reversed + falsePositives) / Math.max(predictedEdges, 1)
  const fpr = (reversed + falsePositives) / Math.max(conditionNegative, 1)
  const precision = truePositives / Math.max(predictedEdges, 1)
  const f1 = precision + tpr > 0 ? (2 * precision * tpr) / (precision + tpr) : 0
  return {
    shd,
    reversal,
    tpr,
    fdr,
    fpr,
    precision,
    recall: tpr,
    f1,
    predictedEdges,
    trueEdges,
    truePositives,
    falsePositives,
    reversed,
    extra,
    missing,
    undirected
  }
}

/**
 * The structural Hamming distance between the true DAG and an estimate, under
 * the named convention: `{ reversal: 1 }` (default) counts a reversed edge
 * once, as NOTEARS's `count_accuracy`; `{ reversal: 2 }` counts it twice, as
 * `cdt.metrics.SHD(…, double_for_anticausal=True)`. Same as
 * `accuracy(trueGraph, estimate, options).shd`.
 *
 * @throws CyclicGraph when `trueGraph` is not a DAG, or `estimate` has a self-loop.
 * @throws DimensionMismatch when the matrices are not square of one size.
 * @throws NonFiniteInput when either holds NaN or ±Infinity.
 * @throws InvalidOptions when `reversal` is not 1 or 2.
 * @category evaluators
 * @since 0.1.0
 */
export const shd = (
  trueGraph: Matrix.Matrix,
  estimate: Matrix.Matrix,
  options: AccuracyOptions = {}
): number => accuracy(trueGraph, estimate, options).shd
