/**
 * Types and loader of `fixtures/ot_more.json`, written by the committed,
 * seeded `fixtures/generate_ot_more.py` (POT 0.9.7, NumPy, SciPy; versions in
 * the file), shared by the tests of the unbalanced, divergence, barycenter,
 * sliced, Gromov–Wasserstein, Mirror Sinkhorn and gradient modules.
 */
import { Matrix } from "@descent/core"
import { loadFixture } from "@descent/testing"

type Rows = ReadonlyArray<ReadonlyArray<number>>

export interface UnbalancedCase {
  readonly name: string
  readonly C: Rows
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly reg: number
  readonly rhoA: number
  readonly rhoB: number
  readonly plan: Rows
  readonly linearCost: number
  readonly objective: number
  readonly potTotalCost: number
  readonly iterations: number
}

export interface DivergenceCase {
  readonly name: string
  readonly x: Rows
  readonly y: Rows
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly reg: number
  readonly pot: number
  readonly linearXY: number
  readonly linearXX: number
  readonly linearYY: number
  readonly regularizedXY: number
  readonly regularizedXX: number
  readonly regularizedYY: number
  readonly regularized: number
}

export interface BarycenterFixture {
  readonly n: number
  readonly histograms: Rows
  readonly cases: ReadonlyArray<{
    readonly name: string
    readonly which: ReadonlyArray<number>
    readonly weights: ReadonlyArray<number>
    readonly reg: number
    readonly results: Readonly<
      Record<string, { readonly barycenter: ReadonlyArray<number>; readonly iterations: number }>
    >
    readonly diagnostics: Readonly<Record<string, number>>
  }>
}

export interface SlicedCase {
  readonly name: string
  readonly x: Rows
  readonly y: Rows
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly projections: Rows
  readonly values: Readonly<
    Record<string, { readonly distance: number; readonly projected: ReadonlyArray<number> }>
  >
}

export interface GromovCase {
  readonly name: string
  readonly kind: "gw" | "fgw"
  readonly C1: Rows
  readonly C2: Rows
  readonly M?: Rows
  readonly p: ReadonlyArray<number>
  readonly q: ReadonlyArray<number>
  readonly epsilon: number
  readonly alpha?: number
  readonly plan: Rows
  readonly value: number
}

export interface MirrorFixture {
  readonly C: Rows
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly emdCost: number
  readonly quadratic: ReadonlyArray<{
    readonly Q: Rows
    readonly solution: Rows
    readonly value: number
    readonly success: boolean
    readonly closedForm?: Rows
    readonly closedFormPositive?: boolean
  }>
}

export interface GradientFixture {
  readonly x: Rows
  readonly y: Rows
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  readonly reg: number
  readonly plan: Rows
  readonly value: number
  readonly gradX: Rows
  readonly gradY: Rows
}

export interface OtMoreFixture {
  readonly versions: Readonly<Record<string, string>>
  readonly unbalanced: ReadonlyArray<UnbalancedCase>
  readonly divergence: ReadonlyArray<DivergenceCase>
  readonly barycenter: BarycenterFixture
  readonly sliced: ReadonlyArray<SlicedCase>
  readonly gromov: ReadonlyArray<GromovCase>
  readonly mirror: MirrorFixture
  readonly gradient: GradientFixture
}

export const fixture = loadFixture<OtMoreFixture>(import.meta.url, "./fixtures/ot_more.json")

/** A core matrix (WebAssembly-resident) from fixture rows. */
export const matrix = (rows: Rows): Matrix.Matrix => Matrix.fromRows(rows)
