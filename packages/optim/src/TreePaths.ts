/**
 * Names for the leaves of a parameter tree, so that code can select leaves by
 * what they are called rather than by their position: "every leaf whose name
 * ends in `bias`" for `Masking.masked` (no weight decay on biases), or "the
 * `encoder` leaves get one optimizer, the `head` leaves another" for
 * `Masking.partition`.
 *
 * A leaf's path joins the object keys and array indices on the way from the
 * root to the leaf: keys with `.`, indices as `[i]`. The root leaf's path is
 * the empty string. For
 * `{ layers: [{ w, bias }], scale }` the paths are, in traversal order
 * (`Tree.leaves`: arrays by index, objects by sorted key),
 * `layers[0].bias`, `layers[0].w`, `scale`.
 *
 * @since 0.1.0
 */
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * The path of the child `key` (an object key or an array index) of the node
 * at `path`: `parent.key`, `parent[i]`, or `key` at the root.
 *
 * @category constructors
 * @since 0.1.0
 */
export const childPath = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`

/**
 * The paths of the leaves of `tree`, in traversal order (the order of
 * `Tree.leaves`), so `leafPaths(tree)[k]` names `Tree.leaves(tree)[k]`.
 *
 * @category accessors
 * @since 0.1.0
 */
export const leafPaths = (tree: Params): string[] => {
  const out: string[] = []
  const visit = (node: Params, path: string): void => {
    if (Tree.isLeaf(node)) out.push(path)
    else if (Array.isArray(node)) {
      const items = node as ReadonlyArray<Params>
      for (let i = 0; i < items.length; i++) visit(items[i]!, childPath(path, i))
    } else {
      const record = node as { readonly [key: string]: Params }
      for (const key of Object.keys(record).sort()) visit(record[key]!, childPath(path, key))
    }
  }
  visit(tree, "")
  return out
}
