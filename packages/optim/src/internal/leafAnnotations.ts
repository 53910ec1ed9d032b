/**
 * Per-leaf annotations of a parameter tree (declared matrix shapes, block
 * sizes): leaves are plain `Float64Array`s without a shape, so transforms that
 * treat some leaves as matrices take an option that says which. The option is
 * either an array indexed by leaf position in traversal order (`Tree.leaves`)
 * or a record keyed by leaf path. A path is written as in `Tree.zip`'s error
 * messages without the leading dot: `"w"`, `"layers[0].w"`, and `""` for a
 * tree that is a single leaf.
 */
import { Errors } from "@descent/core"
import type { Params } from "../Tree.ts"
import * as Tree from "../Tree.ts"
import { invalid } from "./validate.ts"

/** An annotation per leaf: by leaf index (traversal order) or by leaf path. */
export type LeafAnnotations<T> = ReadonlyArray<T | null | undefined> | { readonly [path: string]: T }

/** The paths of the leaves of `tree`, in traversal order (`Tree.leaves`). */
export const leafPaths = (tree: Params): string[] => {
  const out: string[] = []
  const visit = (node: Params, path: string): void => {
    if (Tree.isLeaf(node)) out.push(path)
    else if (Array.isArray(node)) {
      const items = node as ReadonlyArray<Params>
      for (let i = 0; i < items.length; i++) visit(items[i]!, `${path}[${i}]`)
    } else {
      const record = node as { readonly [key: string]: Params }
      for (const key of Object.keys(record).sort()) visit(record[key]!, path === "" ? key : `${path}.${key}`)
    }
  }
  visit(tree, "")
  return out
}

/**
 * The annotation of every leaf of `params` (undefined where none is given).
 * Throws `Errors.InvalidOptions` naming `field` when the option is neither an
 * array nor a record, when the array has more entries than the tree has
 * leaves, or when a record key is not the path of a leaf.
 */
export const resolveLeafAnnotations = <T>(
  operation: string,
  field: string,
  option: LeafAnnotations<T> | undefined,
  params: Params
): Array<T | undefined> => {
  const paths = leafPaths(params)
  const out: Array<T | undefined> = paths.map(() => undefined)
  if (option === undefined) return out
  if (Array.isArray(option)) {
    const list = option as ReadonlyArray<T | null | undefined>
    if (list.length > paths.length) {
      throw invalid(
        operation,
        field,
        `an array of ${list.length} entries`,
        `at most one entry per leaf (the tree has ${paths.length} leaves)`
      )
    }
    for (let k = 0; k < list.length; k++) {
      const a = list[k]
      if (a !== null && a !== undefined) out[k] = a
    }
    return out
  }
  if (option === null || typeof option !== "object") {
    throw invalid(operation, field, option, "an array indexed by leaf or a record keyed by leaf path")
  }
  const record = option as { readonly [path: string]: T }
  for (const key of Object.keys(record)) {
    const k = paths.indexOf(key)
    if (k < 0) {
      throw invalid(
        operation,
        field,
        key,
        `a leaf path of the parameter tree (${paths.map((p) => JSON.stringify(p)).join(", ")})`
      )
    }
    out[k] = record[key]
  }
  return out
}

/**
 * A declared shape checked against its leaf: every dimension an integer ≥ 1
 * (`Errors.InvalidOptions` naming `field`) and their product equal to the
 * leaf's length (`Errors.DimensionMismatch`). `ranks` lists the allowed
 * numbers of dimensions.
 */
export const checkLeafShape = (
  operation: string,
  field: string,
  shape: ReadonlyArray<number>,
  ranks: ReadonlyArray<number>,
  leaf: Float64Array,
  index: number
): void => {
  if (
    !Array.isArray(shape) ||
    !ranks.includes(shape.length) ||
    !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 1)
  ) {
    throw invalid(
      operation,
      field,
      JSON.stringify(shape),
      `a shape of ${ranks.join(" or ")} integers ≥ 1 for leaf ${index}`
    )
  }
  let size = 1
  for (const d of shape) size *= d
  if (size !== leaf.length) {
    throw new Errors.DimensionMismatch({
      operation,
      what: `leaf ${index} (declared shape ${shape.join(" × ")})`,
      expected: [size],
      actual: [leaf.length]
    })
  }
}
