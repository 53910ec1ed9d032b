import { Errors, Vector } from "@descent/core"
import { assertBitIdentical, finiteDouble } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  applyUpdatesInPlace,
  chain,
  type EmptyState,
  emptyState,
  type GradientTransform,
  identity,
  stateSize,
  type UpdateExtras
} from "../src/GradientTransform.ts"
import { fromParams, type Labels, type Mask, masked, partition } from "../src/Masking.ts"
import * as Optimizers from "../src/Optimizers.ts"
import * as Schedules from "../src/Schedules.ts"
import {
  addDecayedWeights,
  applyIfFinite,
  clipByGlobalNorm,
  type ScaleByAdamState,
  scaleByAdam,
  scaleByLearningRate,
  zeroNans
} from "../src/Transforms.ts"
import type { Params } from "../src/Tree.ts"
import * as Tree from "../src/Tree.ts"
import { leafPaths } from "../src/TreePaths.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_311, numRuns: 60 } as const

// biome-ignore lint/suspicious/noExplicitAny: the pools mix transforms of different state types.
type AnyTransform = GradientTransform<any>

/** Transforms that act on each entry separately (their result does not depend on how leaves are grouped). */
const elementwisePool: ReadonlyArray<() => AnyTransform> = [
  () => Optimizers.adam(0.05),
  () => Optimizers.sgd(0.1, { momentum: 0.5, nesterov: true }),
  () => Optimizers.adamw(0.05, { weightDecay: 0.1 }),
  () => Optimizers.rmsprop(0.01, { centered: true, biasCorrection: true }),
  () => Optimizers.lion(0.01),
  () => Optimizers.adagrad(0.1),
  () => scaleByLearningRate(Schedules.cosine({ initValue: 0.1, decaySteps: 4 })),
  () => zeroNans()
]

/** Plus transforms that couple the leaves (global norm, skipping a whole step). */
const pool: ReadonlyArray<() => AnyTransform> = [
  ...elementwisePool,
  () => chain(clipByGlobalNorm(0.5), scaleByLearningRate(0.1)),
  () => applyIfFinite(Optimizers.adam(0.05), 1)
]

/**
 * A tree with one leaf per entry of `lengths`, nested in three ways in turn:
 * `{ l0: leaf, l1: [leaf], l2: { x: leaf }, l3: leaf, … }`.
 */
const treeOf = (lengths: ReadonlyArray<number>, values: ReadonlyArray<number>): Params => {
  const out: { [key: string]: Params } = {}
  let offset = 0
  lengths.forEach((n, k) => {
    const leaf = Vector.fromArray(values.slice(offset, offset + n))
    offset += n
    out[`l${k}`] = k % 3 === 0 ? leaf : k % 3 === 1 ? [leaf] : { x: leaf }
  })
  return out
}

const lengthsArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 })

/** A tree shape, its parameters and a few gradients, all finite. */
const problemArb = lengthsArb.chain((lengths) => {
  const n = lengths.reduce((a, b) => a + b, 0)
  const vec = fc.array(finiteDouble(3), { minLength: n, maxLength: n })
  return fc.record({
    lengths: fc.constant(lengths),
    x0: vec,
    grads: fc.array(vec, { minLength: 1, maxLength: 4 }),
    choice: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: lengths.length, maxLength: lengths.length })
  })
})

/** Runs `tx` on a tree problem (parameters updated in place); the flat updates of every step. */
const runTree = (
  tx: AnyTransform,
  lengths: ReadonlyArray<number>,
  x0: ReadonlyArray<number>,
  grads: ReadonlyArray<ReadonlyArray<number>>
): Float64Array[] => {
  const params = treeOf(lengths, x0)
  let state = tx.init(params)
  const out: Float64Array[] = []
  for (const g of grads) {
    const r = tx.update(treeOf(lengths, g), state, params)
    state = r.state
    out.push(Tree.flatten(r.updates))
    applyUpdatesInPlace(params, r.updates)
  }
  return out
}

const expectSame = (a: ReadonlyArray<Float64Array>, b: ReadonlyArray<Float64Array>, label: string): void => {
  expect(a.length).toBe(b.length)
  for (let t = 0; t < a.length; t++) assertBitIdentical(a[t]!, b[t]!, `${label}, step ${t}`)
}

/** The error thrown by `f`, checked to be `InvalidOptions` naming `field`. */
const expectInvalid = (f: () => unknown, field: string): Errors.InvalidOptions => {
  let error: unknown
  try {
    f()
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(Errors.InvalidOptions)
  expect((error as Errors.InvalidOptions).field).toBe(field)
  return error as Errors.InvalidOptions
}

// ---------------------------------------------------------------------------

describe("TreePaths.leafPaths", () => {
  it("names the leaves in traversal order: keys with '.', indices as [i]", () => {
    const z = Vector.zeros(1)
    const tree: Params = {
      scale: z,
      layers: [
        { w: z, bias: z },
        { w: z, bias: z }
      ],
      head: [[z]]
    }
    expect(leafPaths(tree)).toEqual([
      "head[0][0]",
      "layers[0].bias",
      "layers[0].w",
      "layers[1].bias",
      "layers[1].w",
      "scale"
    ])
    expect(leafPaths(tree).length).toBe(Tree.leaves(tree).length)
    expect(leafPaths(z)).toEqual([""])
    expect(leafPaths([])).toEqual([])
  })
})

describe("masked", () => {
  it("with an all-true mask equals the inner transform, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        problemArb,
        (which, { lengths, x0, grads }) => {
          const expected = runTree(pool[which]!(), lengths, x0, grads)
          expectSame(runTree(masked(pool[which]!(), true), lengths, x0, grads), expected, "mask true")
          expectSame(
            runTree(
              masked(pool[which]!(), () => true),
              lengths,
              x0,
              grads
            ),
            expected,
            "predicate"
          )
        }
      ),
      FC
    )
  })

  it("with an all-false mask is the identity and holds no buffers (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        problemArb,
        (which, { lengths, x0, grads }) => {
          const tx = masked(pool[which]!(), false)
          expectSame(runTree(tx, lengths, x0, grads), runTree(identity(), lengths, x0, grads), "mask false")
          expect(stateSize(tx.init(treeOf(lengths, x0))).scalars).toBe(0)
        }
      ),
      FC
    )
  })

  it("transforms the selected leaves as the inner transform on them alone; the others pass through (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        problemArb,
        (which, { lengths, x0, grads, choice }) => {
          const keep = choice.map((c) => c !== 0)
          const tx = masked(pool[which]!(), (path) => keep[leafIndex(path)]!)
          const got = runTree(tx, lengths, x0, grads)
          // Reference: the inner transform on the tree of the kept leaves only.
          const kept = lengths.map((n, k) => (keep[k] ? n : 0))
          const pick = (values: ReadonlyArray<number>): number[] => {
            const out: number[] = []
            let offset = 0
            lengths.forEach((n, k) => {
              if (keep[k]) out.push(...values.slice(offset, offset + n))
              offset += n
            })
            return out
          }
          const inner = runTree(pool[which]!(), kept, pick(x0), grads.map(pick))
          grads.forEach((g, t) => {
            assertBitIdentical(
              Vector.fromArray(pick(Array.from(got[t]!))),
              inner[t]!,
              `selected leaves, step ${t}`
            )
            let offset = 0
            lengths.forEach((n, k) => {
              if (!keep[k]) {
                assertBitIdentical(
                  got[t]!.subarray(offset, offset + n),
                  g.slice(offset, offset + n),
                  `leaf ${k}`
                )
              }
              offset += n
            })
          })
        }
      ),
      FC
    )
  })

  it("accepts a mask tree, a prefix of the tree, a path predicate and fromParams, all alike", () => {
    const params = (): Params => ({
      encoder: { w: Vector.fromArray([1, 2]), bias: Vector.fromArray([3]) },
      head: [Vector.fromArray([4, 5]), Vector.fromArray([6])]
    })
    const grad = (): Params => ({
      encoder: { w: Vector.fromArray([0.5, -1]), bias: Vector.fromArray([2]) },
      head: [Vector.fromArray([-3, 1]), Vector.fromArray([7])]
    })
    const masks: ReadonlyArray<Mask> = [
      { encoder: { w: true, bias: false }, head: [true, true] },
      { encoder: { w: true, bias: false }, head: true },
      (path) => !path.endsWith("bias"),
      fromParams(() => ({ encoder: { w: true, bias: false }, head: true }))
    ]
    const results = masks.map((mask) => {
      const tx = masked(scaleByLearningRate(2), mask)
      const p = params()
      return Tree.flatten(tx.update(grad(), tx.init(p), p).updates)
    })
    // Flattened order: encoder.bias, encoder.w, head[0], head[1]; bias untouched.
    for (const r of results) assertBitIdentical(r, [2, -1, 2, 6, -2, -14], "masked scaling")
  })

  it("passes the paths and the leaves to a predicate, once per leaf, in init", () => {
    const seen: Array<[string, number]> = []
    const tx = masked(identity(), (path, leaf) => {
      seen.push([path, leaf.length])
      return true
    })
    const p: Params = { b: Vector.zeros(1), w: [Vector.zeros(3)] }
    const s = tx.init(p)
    tx.update(Tree.zerosLike(p), s, p)
    tx.update(Tree.zerosLike(p), s, p)
    expect(seen).toEqual([
      ["b", 1],
      ["w[0]", 3]
    ])
  })

  it("keeps the inner state for the selected leaves only, and a coupled transform sees only them", () => {
    const p: Params = { b: Vector.zeros(3), w: Vector.zeros(5) }
    const adam = masked(scaleByAdam(), { b: false, w: true })
    expect(stateSize(adam.init(p)).scalars).toBe(10)
    const clip = masked(clipByGlobalNorm(1), { b: false, w: true })
    const u: Params = { b: Vector.fromArray([3, 4, 0]), w: Vector.fromArray([0, 0, 0, 6, 8]) }
    clip.update(u, clip.init(p))
    assertBitIdentical(Tree.flatten(u), [3, 4, 0, 0, 0, 0, 0.6000000000000001, 0.8], "norm of w only")
  })

  it("writes in place and returns the same state object; masked-out leaves keep even NaN", () => {
    const tx = masked(Optimizers.adam(0.1), { b: false, w: true })
    const p: Params = { b: Vector.fromArray([1]), w: Vector.fromArray([1, 2]) }
    const s = tx.init(p)
    const u: Params = { b: Vector.fromArray([Number.NaN]), w: Vector.fromArray([0.5, -0.5]) }
    const bLeaf = (u as { b: Float64Array }).b
    const r = tx.update(u, s, p)
    expect(r.updates).toBe(u)
    expect(r.state).toBe(s)
    expect((r.updates as { b: Float64Array }).b).toBe(bLeaf)
    expect(Number.isNaN(bLeaf[0]!)).toBe(true)
    expect((s.innerState[0] as ScaleByAdamState).count).toBe(1)
  })

  it("a state rebuilt by hand (no cached selection) gives the same updates", () => {
    const tx = masked(Optimizers.adam(0.1), (path) => path === "w")
    const p: Params = { b: Vector.fromArray([1]), w: Vector.fromArray([1, 2]) }
    const g = (): Params => ({ b: Vector.fromArray([1]), w: Vector.fromArray([0.5, -0.5]) })
    const s1 = tx.init(p)
    // A new state object holding a fresh inner state: not the object `init` returned.
    const s2 = { innerState: tx.init(p).innerState }
    const a = Tree.flatten(tx.update(g(), s1, p).updates)
    const b = Tree.flatten(tx.update(g(), s2, p).updates)
    assertBitIdentical(a, b, "rebuilt state")
  })

  it("nests: the inner transform sees the leaves' own paths", () => {
    const inner = masked(scaleByLearningRate(10), (path) => path.startsWith("a"))
    const tx = masked(inner, (path) => path !== "a.y")
    const p: Params = { a: { x: Vector.fromArray([1]), y: Vector.fromArray([1]) }, b: Vector.fromArray([1]) }
    const u = Tree.fullLike(p, 1)
    tx.update(u, tx.init(p), p)
    // a.x: both masks → −10; a.y: outer mask false → 1; b: inner mask false → 1.
    assertBitIdentical(Tree.flatten(u), [-10, 1, 1], "nested masks")
  })

  it("passes extras to the inner transform, restricting a Hessian-vector product to the selected leaves", () => {
    const seen: Array<{ value: number | undefined; hv: Params | undefined }> = []
    const probe: GradientTransform<EmptyState> = {
      init: () => emptyState,
      update: (updates, state, _params, extras) => {
        seen.push({ value: extras?.value, hv: extras?.hessianVectorProduct?.(Tree.fullLike(updates, 1)) })
        return { updates, state }
      }
    }
    // The all-ones Hessian: (H·v)ᵢ = Σⱼ vⱼ, coupling every entry.
    const hessianVectorProduct = (v: Params): Params =>
      Tree.fullLike(
        v,
        Tree.leaves(v).reduce((s, l) => s + l.reduce((a, b) => a + b, 0), 0)
      )
    const extras: UpdateExtras = { value: 3.5, hessianVectorProduct }
    const tx = masked(probe, { b: false, w: true })
    const p: Params = { b: Vector.zeros(1), w: Vector.zeros(2) }
    tx.update(Tree.zerosLike(p), tx.init(p), p, extras)
    expect(seen[0]!.value).toBe(3.5)
    // H_SS·1 over the two entries of w: 2 per entry (b's entry is not in the sum).
    expect(Tree.leaves(seen[0]!.hv!).map((l) => Array.from(l))).toEqual([[2, 2]])
    tx.update(Tree.zerosLike(p), tx.init(p), p, { value: 1 })
    expect(seen[1]).toEqual({ value: 1, hv: undefined })
  })

  it("rejects bad masks with InvalidOptions naming the field", () => {
    expectInvalid(() => masked(identity(), { w: 1 } as unknown as Mask), "mask")
    expectInvalid(() => masked(identity(), "yes" as unknown as Mask), "mask")
    expectInvalid(() => masked(identity(), [true, null] as unknown as Mask), "mask")
    const tx = masked(identity(), (() => 1) as unknown as Mask)
    expectInvalid(() => tx.init(Vector.zeros(1)), "mask")
  })

  it("rejects a mask or an updates tree that does not match the parameters with DimensionMismatch", () => {
    const p: Params = { b: Vector.zeros(1), w: Vector.zeros(2) }
    expect(() => masked(identity(), { b: true }).init(p)).toThrow(Errors.DimensionMismatch)
    expect(() => masked(identity(), { b: true, w: [true] }).init(p)).toThrow(Errors.DimensionMismatch)
    expect(() => masked(identity(), [true, false]).init(p)).toThrow(Errors.DimensionMismatch)
    const tx = masked(scaleByAdam(), { b: true, w: false })
    const s = tx.init(p)
    expect(() => tx.update({ b: Vector.zeros(1), w: Vector.zeros(3) }, s)).toThrow(Errors.DimensionMismatch)
    expect(() => tx.update({ b: Vector.zeros(1) }, s)).toThrow(Errors.DimensionMismatch)
    expect(() => tx.update(Tree.zerosLike(p), s, { b: Vector.zeros(2), w: Vector.zeros(2) })).toThrow(
      Errors.DimensionMismatch
    )
  })
})

/** The index k of a path "lk…" of `treeOf`. */
const leafIndex = (path: string): number => Number.parseInt(path.slice(1), 10)

describe("partition", () => {
  it("with the same elementwise transform for every label equals that transform, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: elementwisePool.length - 1 }),
        problemArb,
        (which, { lengths, x0, grads, choice }) => {
          const make = elementwisePool[which]!
          const labels = (path: string): string => ["a", "b", "c"][choice[leafIndex(path)]!]!
          const tx = partition({ a: make(), b: make(), c: make() }, labels)
          expectSame(runTree(tx, lengths, x0, grads), runTree(make(), lengths, x0, grads), "partition")
        }
      ),
      FC
    )
  })

  it("equals a chain of masked transforms, one per label, for any transforms (property)", () => {
    const index = fc.integer({ min: 0, max: pool.length - 1 })
    fc.assert(
      fc.property(index, index, problemArb, (i, j, { lengths, x0, grads, choice }) => {
        const isA = (path: string): boolean => choice[leafIndex(path)]! === 0
        const tx = partition({ a: pool[i]!(), b: pool[j]!() }, (path) => (isA(path) ? "a" : "b"))
        const reference = chain(
          masked(pool[i]!(), (path) => isA(path)),
          masked(pool[j]!(), (path) => !isA(path))
        )
        expectSame(
          runTree(tx, lengths, x0, grads),
          runTree(reference, lengths, x0, grads),
          "partition vs masks"
        )
      }),
      FC
    )
  })

  it("gives each labeled transform a state for its leaves only, by label", () => {
    const p: Params = { b: Vector.zeros(1), w: Vector.zeros(4) }
    const tx = partition(
      { adam: scaleByAdam(), sgd: Optimizers.sgd(0.1, { momentum: 0.9 }) },
      { b: "sgd", w: "adam" }
    )
    const s = tx.init(p)
    expect(Object.keys(s.innerStates)).toEqual(["adam", "sgd"])
    expect(stateSize(s.innerStates.adam).scalars).toBe(8)
    expect(stateSize(s.innerStates.sgd).scalars).toBe(1)
    const u = Tree.fullLike(p, 1)
    const r = tx.update(u, s, p)
    expect(r.updates).toBe(u)
    expect(r.state).toBe(s)
    expect(s.innerStates.adam.count).toBe(1)
  })

  it("accepts a label prefix and fromParams", () => {
    const p: Params = { enc: [Vector.zeros(1), Vector.zeros(2)], head: Vector.zeros(1) }
    const forms: ReadonlyArray<Labels> = [
      { enc: "x2", head: "x3" },
      { enc: ["x2", "x2"], head: "x3" },
      fromParams(() => ({ enc: "x2", head: "x3" })),
      (path) => (path.startsWith("enc") ? "x2" : "x3")
    ]
    for (const labels of forms) {
      const tx = partition({ x2: scaleByLearningRate(2), x3: scaleByLearningRate(3) }, labels)
      const u = Tree.fullLike(p, 1)
      tx.update(u, tx.init(p), p)
      assertBitIdentical(Tree.flatten(u), [-2, -2, -2, -3], "labels")
    }
  })

  it("an unknown label throws InvalidOptions naming it (a tree at construction, a function in init)", () => {
    const t = { adam: scaleByAdam(), sgd: scaleByLearningRate(0.1) }
    let e = expectInvalid(() => partition(t, { b: "sgd", w: "adamw" }), "labels")
    expect(e.value).toBe("adamw")
    expect(e.message).toContain("adamw")
    const tx = partition(t, (path) => (path === "b" ? "sgd" : "lamb"))
    e = expectInvalid(() => tx.init({ b: Vector.zeros(1), w: Vector.zeros(1) }), "labels")
    expect(e.value).toBe("lamb")
    expect(e.message).toContain('"w"')
    expectInvalid(() => partition(t, { b: 1 } as unknown as Labels), "labels")
    expectInvalid(() => partition({ a: 1 } as unknown as typeof t, "a"), "transforms.a")
    expectInvalid(() => partition(null as unknown as typeof t, "a"), "transforms")
  })

  it("a label tree that does not match the parameters throws DimensionMismatch", () => {
    const tx = partition({ a: identity() }, { b: "a", w: { x: "a" } })
    expect(() => tx.init({ b: Vector.zeros(1), w: Vector.zeros(2) })).toThrow(Errors.DimensionMismatch)
    const ok = partition({ a: identity() }, "a")
    const s = ok.init({ b: Vector.zeros(1) })
    expect(() => ok.update({ b: Vector.zeros(2) }, s)).toThrow(Errors.DimensionMismatch)
  })

  it("passes extras to every labeled transform", () => {
    const values: Array<number | undefined> = []
    const probe = (): GradientTransform<EmptyState> => ({
      init: () => emptyState,
      update: (updates, state, _params, extras) => {
        values.push(extras?.value)
        return { updates, state }
      }
    })
    const tx = partition({ a: probe(), b: probe() }, { x: "a", y: "b" })
    const p: Params = { x: Vector.zeros(1), y: Vector.zeros(1) }
    tx.update(Tree.zerosLike(p), tx.init(p), p, { value: 7 })
    expect(values).toEqual([7, 7])
  })

  it("works with addDecayedWeights, which reads the restricted parameters", () => {
    const p: Params = { b: Vector.fromArray([10]), w: Vector.fromArray([1, 2]) }
    const tx = partition({ decay: addDecayedWeights(0.5), none: identity() }, { b: "none", w: "decay" })
    const u = Tree.zerosLike(p)
    tx.update(u, tx.init(p), p)
    assertBitIdentical(Tree.flatten(u), [0, 0.5, 1], "decay on w only")
  })
})
