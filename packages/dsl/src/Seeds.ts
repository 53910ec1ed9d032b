/**
 * Where every random number of a run comes from: keys derived from the
 * experiment's root seed and the *content* of what they key, never from a
 * position or a counter.
 *
 * A content hash (a SHA-256 hex digest, e.g. a `cellId`) is folded into the
 * root key word by word with core's `Random.foldIn` (JAX's `fold_in`):
 *
 *   key = foldIn(…foldIn(foldIn(key(seed), w₀), w₁)…, w₇)
 *
 * for the eight 32-bit words w₀…w₇ of the digest. So adding, removing or
 * reordering solvers or problems changes no other cell's keys, and a cell can
 * be recomputed on its own (in a worker, or when resuming) from (experiment,
 * cellId) alone.
 *
 * Two keys per cell:
 * - the **instance key**, from the `instanceId` = hash of (problem,
 *   parameters, repetition): the problem generator's key, so that every solver
 *   of a repetition faces the same problem instance (paired comparisons);
 * - the **cell key**, from the `cellId`: the solver's own randomness
 *   (stochastic methods), recorded in the `CellRecord`.
 *
 * @since 0.1.0
 */
import { Random } from "@descent/core"
import { words } from "./Hash.ts"

/**
 * The root key of an experiment's seed (`Random.key(seed)`).
 *
 * @category keys
 * @since 0.1.0
 */
export const rootKey = (seed: number): Random.Key => Random.key(seed)

/**
 * Folds the eight words of a SHA-256 hex digest into `key`.
 *
 * @category keys
 * @since 0.1.0
 */
export const foldDigest = (key: Random.Key, digest: string): Random.Key => {
  let k = key
  for (const w of words(digest)) k = Random.foldIn(k, w)
  return k
}

/**
 * The key of a cell: the root key of `seed` with the `cellId` folded in.
 *
 * @category keys
 * @since 0.1.0
 */
export const cellKey = (seed: number, cellId: string): Random.Key => foldDigest(rootKey(seed), cellId)

/**
 * The key a problem instance is generated from: the root key of `seed` with
 * the `instanceId` folded in.
 *
 * @category keys
 * @since 0.1.0
 */
export const instanceKey = (seed: number, instanceId: string): Random.Key =>
  foldDigest(rootKey(seed), instanceId)

/**
 * The key of stage `index` of a cell (stage 0 of a single solver uses the
 * cell key itself).
 *
 * @category keys
 * @since 0.1.0
 */
export const stageKey = (key: Random.Key, index: number): Random.Key =>
  index === 0 ? key : Random.foldIn(key, index)
