/**
 * Hutchinson's estimator of the Hessian diagonal shared by AdaHessian and
 * Sophia: for a Rademacher vector z (independent ±1 entries),
 * E[z ⊙ (H·z)] = diag(H) (Hutchinson 1990; Bekas, Kokiopoulou & Saad 2007).
 *
 * The random signs follow `optax.contrib.hutchinson_estimator_diag_hessian`
 * with core's JAX-compatible Threefry generator, so the draws are those of
 * Optax bit for bit: `(next, sub) = split(key)`, one key per leaf
 * `split(sub, leafCount)[k]`, and z_k = 2·bernoulli(key_k, 1/2) − 1, which
 * is `jax.random.rademacher`.
 */
import { Errors, Random } from "@descent/core"
import type { UpdateExtras } from "../GradientTransform.ts"
import type { Params } from "../Tree.ts"
import * as Tree from "../Tree.ts"
import { invalid } from "./validate.ts"

/** The Hessian-vector product of `extras`, or `Errors.InvalidOptions` naming it. */
export const requireHessianVectorProduct = (
  operation: string,
  extras: UpdateExtras | undefined
): ((v: Params) => Params) => {
  const hvp = extras?.hessianVectorProduct
  if (typeof hvp !== "function") {
    throw invalid(
      operation,
      "hessianVectorProduct",
      hvp,
      "a function v ↦ ∇²f(params)·v passed in the update extras"
    )
  }
  return hvp
}

/**
 * Draws Rademacher signs into the leaves of `probe` from `key`, replaces
 * them by the Hutchinson estimate z ⊙ (H·z) (H·z from `hvp`), and returns the
 * next key. `probe` is a state buffer shaped like the parameters.
 */
export const hutchinsonDiagonal = (
  operation: string,
  key: Random.Key,
  probe: Params,
  hvp: (v: Params) => Params
): Random.Key => {
  const [next, sub] = Random.split(key, 2)
  const zs = Tree.leaves(probe)
  const leafKeys = Random.split(sub!, zs.length)
  for (let k = 0; k < zs.length; k++) {
    const z = zs[k]!
    Random.bernoulli(leafKeys[k]!, z, { probability: 0.5 })
    for (let i = 0; i < z.length; i++) z[i] = 2 * z[i]! - 1
  }
  const hz = Tree.leaves(hvp(probe))
  if (hz.length !== zs.length || hz.some((h, k) => h.length !== zs[k]!.length)) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "the Hessian-vector product's leaf lengths",
      expected: zs.map((z) => z.length),
      actual: hz.map((h) => h.length)
    })
  }
  for (let k = 0; k < zs.length; k++) {
    const z = zs[k]!
    const h = hz[k]!
    for (let i = 0; i < z.length; i++) z[i] = h[i]! * z[i]!
  }
  return next!
}

/** `Random.key(seed)` for an integer seed in [0, 2^53 − 1], or `Errors.InvalidOptions` naming `seed`. */
export const keyFromSeed = (operation: string, seed: number): Random.Key => {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw invalid(operation, "seed", seed, "an integer in [0, 2^53 − 1]")
  }
  return Random.key(seed)
}
