/**
 * The CLI's live progress display: while an effect runs, a status line is
 * redrawn in place on a terminal (`\r` + erase line, every 100 ms, cut to
 * the terminal's width), or printed as plain lines otherwise (a pipe, a log
 * file, CI) — at most one a second, and only when the progress changed.
 * When the effect ends (or is interrupted) the line is replaced by a final
 * plain line.
 */
import { Config, Console, Effect, Fiber, Stdio, Terminal } from "effect"

/** What the display shows at one moment. */
export interface View {
  /** The line's text (on a terminal: cut to its width). */
  readonly text: string
  /** Plain-line mode prints a line only when this changed since the last one. */
  readonly key: string
}

/** How progress is shown: redrawn in place on a terminal, or as plain lines. */
export type Mode = "terminal" | "lines"

const TERMINAL_INTERVAL_MS = 100
const LINES_INTERVAL_MS = 1000
const ERASE_LINE = "\r\x1b[2K"

/** `CI` set to anything but "", "0" or "false" counts as CI. */
const isCi = (value: string): boolean => {
  const v = value.trim().toLowerCase()
  return v !== "" && v !== "0" && v !== "false"
}

/** "terminal" when stdout is a TTY and not under CI (`CI=true` is a log, not a terminal). */
export const mode: Effect.Effect<Mode, never, Stdio.Stdio> = Effect.gen(function* () {
  const stdio = yield* Stdio.Stdio
  const tty = yield* stdio.stdoutIsTerminal
  const ci = yield* Config.String("CI").pipe(
    Config.withDefault(""),
    Effect.orElseSucceed(() => "")
  )
  return tty && !isCi(ci) ? "terminal" : "lines"
})

/** Cuts `text` to `columns - 1` characters (an ellipsis at the end); unchanged when the width is unknown. */
export const fit = (text: string, columns: number): string => {
  if (columns <= 1 || text.length < columns) return text
  return `${text.slice(0, Math.max(0, columns - 2))}…`
}

/**
 * Runs `body` while showing `view()`; prints `final()` (when defined) as a
 * plain line at the end, also on failure or interruption.
 */
export const withProgress = <A, E, R>(
  view: () => View,
  final: () => string | undefined,
  body: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Stdio.Stdio | Terminal.Terminal> =>
  Effect.gen(function* () {
    const terminal = yield* Terminal.Terminal
    const how = yield* mode
    let lastKey: string | undefined
    let drawn = false
    const draw = Effect.gen(function* () {
      const v = view()
      if (how === "terminal") {
        const columns = yield* terminal.columns
        yield* terminal.display(`${ERASE_LINE}${fit(v.text, columns)}`).pipe(Effect.ignore)
        drawn = true
      } else if (v.key !== lastKey) {
        lastKey = v.key
        yield* Console.log(v.text)
      }
    })
    const interval = how === "terminal" ? TERMINAL_INTERVAL_MS : LINES_INTERVAL_MS
    const ticker = yield* Effect.forkChild(Effect.forever(Effect.andThen(Effect.sleep(interval), draw)))
    const finish = Effect.gen(function* () {
      yield* Fiber.interrupt(ticker)
      if (drawn) yield* terminal.display(ERASE_LINE).pipe(Effect.ignore)
      const line = final()
      if (line !== undefined) yield* Console.log(line)
    })
    return yield* Effect.ensuring(body, finish)
  })
