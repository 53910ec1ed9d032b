/**
 * The primal network simplex on the bipartite transportation graph, the
 * engine behind `Emd` (not exported from the package).
 *
 * Graph: nS sources (nodes 0 … nS−1, supplies a > 0), nT sinks (nodes nS …
 * nS+nT−1, demands b > 0), the complete set of arcs source → sink (arc id
 * k = i·nT + j, cost C_ij; +∞ marks a forbidden pair, which never prices
 * negative), and an artificial root (node nS+nT) joined to every node by an
 * artificial arc of cost `artCost[v]` ("big M", chosen by the caller so that
 * no artificial flow survives at the optimum of a feasible problem).
 *
 * The basis is a spanning tree rooted at the artificial root, stored per
 * non-root node v: `parent[v]`, the tree arc to the parent (`pred[v]`, −1
 * for an artificial arc), its orientation (`up[v]` = 1 when the arc points
 * from v to its parent) and its flow (`flow[v]`; non-basic arcs carry none,
 * there are no capacities). The tree is threaded in preorder (`thread`,
 * `revThread`, circular through the root) with subtree sizes (`size`); node
 * potentials satisfy C_uv − π_u + π_v = 0 on tree arcs u → v, so the
 * reduced cost of a source–sink arc is r_ij = C_ij − π_i + π_{nS+j}
 * (Ahuja, Magnanti & Orlin, *Network Flows*, 1993, ch. 11).
 *
 * Pivot rule: block search (Grigoriadis 1986): scan the arcs cyclically in
 * blocks and enter the most negative reduced cost of the first block that has
 * one. Ties and degeneracy: the tree is kept strongly feasible (every arc
 * with zero flow points towards the root), and the leaving arc is the last
 * blocking arc met when the pivot cycle is traversed along its orientation
 * from the apex (Cunningham, "A network simplex method", Math. Programming 11,
 * 1976); this excludes cycling. The apex is found with subtree sizes (a node
 * with a smaller subtree is not an ancestor of the other), so no depths are
 * stored.
 *
 * A pivot costs O(length of the cycle + size of the subtree that moves): the
 * moved subtree is re-rooted at the entering arc's endpoint, its preorder
 * rebuilt from O(path length) contiguous segments of the old one, and its
 * potentials shifted by the entering arc's reduced cost.
 *
 * @since 0.1.0
 */

/** Mutable network-simplex state. */
export interface Network {
  readonly nS: number
  readonly nT: number
  /** nS + nT + 1. */
  readonly nodes: number
  readonly root: number
  /** nS × nT costs, row-major. */
  readonly cost: Float64Array
  /** Artificial arc cost per node (index root unused). */
  readonly artCost: Float64Array
  readonly parent: Int32Array
  readonly pred: Int32Array
  readonly up: Uint8Array
  readonly flow: Float64Array
  readonly thread: Int32Array
  readonly revThread: Int32Array
  readonly size: Int32Array
  readonly pi: Float64Array
  /** View of `pi` at the sinks. */
  readonly piT: Float64Array
  /** 1 for basic source–sink arcs. */
  readonly inTree: Uint8Array
  /** Scratch: the old preorder of the moved subtree, positions in it, the reversed path. */
  readonly order: Int32Array
  readonly pos: Int32Array
  readonly path: Int32Array
  /** Arcs enter when r < −threshold. */
  readonly threshold: number
  readonly blockSize: number
  /** Where the next block search starts. */
  next: number
  /** The arc chosen by the last `price` (−1: none, the tree is optimal). */
  entering: number
  enteringReduced: number
  pivots: number
  degeneratePivots: number
}

/**
 * Allocates a network on `cost` (nS × nT) whose tree arrays the caller fills
 * (`parent`, `pred`, `up`, `flow`, `inTree`, `artCost`) before `rebuild`.
 */
export const allocate = (
  nS: number,
  nT: number,
  cost: Float64Array,
  flow: Float64Array,
  pi: Float64Array,
  artCost: Float64Array,
  threshold: number,
  blockSize: number
): Network => {
  const nodes = nS + nT + 1
  return {
    nS,
    nT,
    nodes,
    root: nodes - 1,
    cost,
    artCost,
    parent: new Int32Array(nodes).fill(-1),
    pred: new Int32Array(nodes).fill(-1),
    up: new Uint8Array(nodes),
    flow,
    thread: new Int32Array(nodes),
    revThread: new Int32Array(nodes),
    size: new Int32Array(nodes),
    pi,
    piT: pi.subarray(nS, nS + nT),
    inTree: new Uint8Array(nS * nT),
    order: new Int32Array(nodes),
    pos: new Int32Array(nodes),
    path: new Int32Array(nodes),
    threshold,
    blockSize,
    next: 0,
    entering: -1,
    enteringReduced: 0,
    pivots: 0,
    degeneratePivots: 0
  }
}

/** Recomputes every potential from the tree (root at 0), in preorder. */
export const refreshPotentials = (net: Network): void => {
  const { root, thread, pred, up, parent, pi, cost, artCost } = net
  pi[root] = 0
  for (let x = thread[root]!; x !== root; x = thread[x]!) {
    const a = pred[x]!
    const c = a >= 0 ? cost[a]! : artCost[x]!
    pi[x] = up[x] === 1 ? pi[parent[x]!]! + c : pi[parent[x]!]! - c
  }
}

/**
 * Builds the thread, subtree sizes and potentials from `parent` (a tree
 * rooted at `root`). Returns false when `parent` is not a spanning tree.
 */
export const rebuild = (net: Network): boolean => {
  const { nodes, root, parent, thread, revThread, size } = net
  const start = new Int32Array(nodes + 1)
  for (let v = 0; v < nodes; v++) if (v !== root) start[parent[v]! + 1]!++
  for (let v = 0; v < nodes; v++) start[v + 1]! += start[v]!
  const fill = start.slice(0, nodes)
  const children = new Int32Array(Math.max(nodes - 1, 1))
  for (let v = 0; v < nodes; v++) if (v !== root) children[fill[parent[v]!]!++] = v
  // Iterative DFS: preorder into `order`.
  const order = net.order
  const stack = net.path
  let top = 0
  let count = 0
  stack[top++] = root
  while (top > 0) {
    const x = stack[--top]!
    if (count === nodes) return false
    order[count++] = x
    for (let c = start[x + 1]! - 1; c >= start[x]!; c--) stack[top++] = children[c]!
  }
  if (count !== nodes) return false
  for (let t = 0; t < nodes; t++) {
    const x = order[t]!
    const y = order[t + 1 === nodes ? 0 : t + 1]!
    thread[x] = y
    revThread[y] = x
  }
  size.fill(1)
  for (let t = nodes - 1; t > 0; t--) {
    const x = order[t]!
    size[parent[x]!]! += size[x]!
  }
  refreshPotentials(net)
  return true
}

/**
 * Block search: sets `entering` to the most negative reduced cost of the
 * first block (from `next`, cyclically) holding one below −threshold, or −1
 * when a full sweep finds none (the tree is optimal). Returns true when an
 * arc was found.
 */
export const price = (net: Network): boolean => {
  const { cost, pi, piT, inTree, nS, nT, blockSize } = net
  const nArcs = nS * nT
  let i = (net.next / nT) | 0
  let j = net.next - i * nT
  let best = -1
  let bestR = -net.threshold
  let scanned = 0
  let left = blockSize
  while (scanned < nArcs) {
    const piI = pi[i]!
    const base = i * nT
    let len = nT - j
    if (len > left) len = left
    if (len > nArcs - scanned) len = nArcs - scanned
    const end = j + len
    for (let t = j; t < end; t++) {
      const r = cost[base + t]! - piI + piT[t]!
      if (r < bestR && inTree[base + t] === 0) {
        bestR = r
        best = base + t
      }
    }
    scanned += len
    left -= len
    j = end
    if (j === nT) {
      j = 0
      i++
      if (i === nS) i = 0
    }
    if (left === 0) {
      if (best >= 0) break
      left = blockSize
    }
  }
  net.next = i * nT + j
  net.entering = best
  net.enteringReduced = bestR
  return best >= 0
}

/** Relinks the preorder segment order[lo, hi) after `cur`, shifting potentials; returns the new last node. */
const link = (net: Network, lo: number, hi: number, cur: number, sigma: number): number => {
  const { order, thread, revThread, pi } = net
  for (let t = lo; t < hi; t++) {
    const y = order[t]!
    thread[cur] = y
    revThread[y] = cur
    pi[y]! += sigma
    cur = y
  }
  return cur
}

/**
 * One pivot on `entering`: pushes the most flow the cycle allows, swaps the
 * leaving arc for the entering one and updates the tree. Throws only on an
 * internal inconsistency (a cycle with no blocking arc cannot occur: there
 * are no directed cycles and no capacities).
 */
export const pivot = (net: Network): void => {
  const { nS, nT, parent, up, flow, size, pred, thread, revThread, order, pos, path, inTree, cost, pi } = net
  const e = net.entering
  const p = (e / nT) | 0
  const q = nS + (e - p * nT)
  // Apex and leaving arc (Cunningham's rule: on the side after the entering
  // arc, q → apex, the blocking arc closest to the apex wins ties; on the
  // p side, the one closest to p; the q side wins ties between sides).
  let u = p
  let v = q
  let delta = Number.POSITIVE_INFINITY
  let leave = -1
  let leaveOnP = false
  while (u !== v) {
    if (size[u]! < size[v]!) {
      if (up[u] === 1 && flow[u]! < delta) {
        delta = flow[u]!
        leave = u
        leaveOnP = true
      }
      u = parent[u]!
    } else {
      if (up[v] === 0 && flow[v]! <= delta) {
        delta = flow[v]!
        leave = v
        leaveOnP = false
      }
      v = parent[v]!
    }
  }
  if (leave < 0) throw new Error("network simplex: pivot cycle without a blocking arc (internal error)")
  const apex = u
  if (delta > 0) {
    for (let x = p; x !== apex; x = parent[x]!) flow[x]! += up[x] === 1 ? -delta : delta
    for (let x = q; x !== apex; x = parent[x]!) flow[x]! += up[x] === 1 ? delta : -delta
  } else {
    net.degeneratePivots++
  }
  const uIn = leaveOnP ? p : q
  const uOut = leaveOnP ? q : p
  // The moved subtree S (rooted at `leave`) shifts so that the entering arc's reduced cost becomes 0.
  const r = cost[e]! - pi[p]! + pi[q]!
  const sigma = leaveOnP ? r : -r
  const sz = size[leave]!
  for (let x = parent[leave]!; x !== apex; x = parent[x]!) size[x]! -= sz
  for (let x = uOut; x !== apex; x = parent[x]!) size[x]! += sz
  // Old preorder of S, then cut S out of the thread.
  let x = leave
  for (let t = 0; t < sz; t++) {
    order[t] = x
    pos[x] = t
    x = thread[x]!
  }
  const before = revThread[leave]!
  thread[before] = x
  revThread[x] = before
  // The path uIn → leave, reversed below.
  let k = 0
  for (x = uIn; ; x = parent[x]!) {
    path[k++] = x
    if (x === leave) break
  }
  // New preorder of S rooted at uIn, inserted right after uOut: uIn's old
  // subtree, then for each next path node its old subtree minus the previous one's.
  const tail = thread[uOut]!
  let cur = uOut
  const v0 = path[0]!
  cur = link(net, pos[v0]!, pos[v0]! + size[v0]!, cur, sigma)
  for (let s = 1; s < k; s++) {
    const vt = path[s]!
    const vp = path[s - 1]!
    cur = link(net, pos[vt]!, pos[vp]!, cur, sigma)
    cur = link(net, pos[vp]! + size[vp]!, pos[vt]! + size[vt]!, cur, sigma)
  }
  thread[cur] = tail
  revThread[tail] = cur
  for (let s = k - 1; s >= 1; s--) size[path[s]!] = sz - size[path[s - 1]!]!
  size[v0] = sz
  // Reverse the path's arcs; the entering arc hangs uIn from uOut.
  let prevNode = uOut
  let prevArc = e
  let prevUp = leaveOnP ? 1 : 0
  let prevFlow = delta
  for (let s = 0; s < k; s++) {
    const y = path[s]!
    const oa = pred[y]!
    const ou = up[y]!
    const of = flow[y]!
    parent[y] = prevNode
    pred[y] = prevArc
    up[y] = prevUp
    flow[y] = prevFlow
    prevNode = y
    prevArc = oa
    prevUp = 1 - ou
    prevFlow = of
  }
  if (prevArc >= 0) inTree[prevArc] = 0
  inTree[e] = 1
  net.pivots++
}

/**
 * Checks the tree's invariants (for tests): the thread is a preorder of the
 * parent structure, sizes are subtree sizes, potentials make tree arcs tight
 * (to `tolerance`), flows are ≥ 0, the tree is strongly feasible (arcs with
 * zero flow point to the root) and `inTree` marks exactly the tree's arcs.
 * Returns a description of the first violation, or undefined.
 */
export const checkInvariants = (net: Network, tolerance: number): string | undefined => {
  const { nodes, root, thread, revThread, parent, size, pred, up, flow, pi, cost, artCost, inTree } = net
  const seen = new Uint8Array(nodes)
  const sz = new Int32Array(nodes)
  const visit: number[] = []
  let x = root
  for (let t = 0; t < nodes; t++) {
    if (seen[x] === 1) return `thread revisits node ${x}`
    seen[x] = 1
    visit.push(x)
    if (revThread[thread[x]!] !== x) return `revThread mismatch at ${x}`
    if (x !== root && seen[parent[x]!] !== 1) return `node ${x} precedes its parent in the thread`
    x = thread[x]!
  }
  if (x !== root) return "thread is not a cycle through every node"
  for (let t = nodes - 1; t >= 0; t--) {
    const y = visit[t]!
    sz[y]! += 1
    if (y !== root) sz[parent[y]!]! += sz[y]!
  }
  let basic = 0
  for (let y = 0; y < nodes; y++) {
    if (sz[y] !== size[y]) return `size[${y}] = ${size[y]}, expected ${sz[y]}`
    if (y === root) continue
    if (!(flow[y]! >= 0)) return `negative flow ${flow[y]} at node ${y}`
    if (up[y] === 0 && !(flow[y]! > 0)) return `zero-flow arc pointing away from the root at node ${y}`
    const a = pred[y]!
    if (a >= 0) {
      basic++
      if (inTree[a] !== 1) return `tree arc ${a} not marked`
      const i = (a / net.nT) | 0
      const j = net.nS + (a - i * net.nT)
      const pair = up[y] === 1 ? [y, parent[y]] : [parent[y], y]
      if (pair[0] !== i || pair[1] !== j) return `arc ${a} does not join node ${y} and its parent`
    } else if (parent[y] !== root) return `artificial arc at ${y} does not reach the root`
    const c = a >= 0 ? cost[a]! : artCost[y]!
    const tail = up[y] === 1 ? y : parent[y]!
    const head = up[y] === 1 ? parent[y]! : y
    const reduced = c - pi[tail]! + pi[head]!
    if (Math.abs(reduced) > tolerance) return `tree arc at node ${y} has reduced cost ${reduced}`
  }
  let marked = 0
  for (let a = 0; a < inTree.length; a++) marked += inTree[a]!
  if (marked !== basic) return `${marked} arcs marked, ${basic} in the tree`
  return undefined
}
