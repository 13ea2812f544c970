/**
 * Log output: JSON lines (pino's own, for machines) or short human-readable lines, one per
 * request and one per message, for a person watching a terminal. `bursar serve` picks pretty
 * when stdout is a terminal and JSON otherwise; `--log-format` / `BURSAR_LOG_FORMAT` decide.
 */
import type { Writable } from "node:stream";

export type LogFormat = "json" | "pretty";
export const logFormats: readonly LogFormat[] = ["json", "pretty"];

const levelNames: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  request_id?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { message?: string; stack?: string };
  [key: string]: unknown;
}

function clock(time: number | undefined): string {
  return new Date(time ?? Date.now()).toISOString().slice(11, 19);
}

/**
 * A pino destination that writes readable lines to `out`: `12:00:01  200 GET /v1/balance 3 ms`
 * for each completed request (the method and URL come from its "incoming request" line), and
 * `12:00:01  WARN  message` otherwise. Requests in flight are bounded by the server's own
 * connection limits; an entry is dropped when its request completes.
 */
export function prettyLogStream(out: Writable): { write(line: string): void } {
  const inFlight = new Map<string, string>();
  return {
    write(text: string) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        out.write(text);
        return;
      }
      const id = line.request_id;
      if (line.msg === "incoming request" && id) {
        inFlight.set(id, `${line.req?.method ?? "?"} ${line.req?.url ?? "?"}`);
        return;
      }
      if (line.msg === "request completed" && id) {
        const what = inFlight.get(id) ?? "request";
        inFlight.delete(id);
        out.write(`${clock(line.time)}  ${line.res?.statusCode ?? "???"} ${what} ${Math.round(line.responseTime ?? 0)} ms\n`);
        return;
      }
      const level = (levelNames[line.level ?? 30] ?? "INFO").padEnd(5);
      const error = line.err?.stack ?? line.err?.message;
      out.write(`${clock(line.time)}  ${level} ${line.msg ?? ""}${id ? ` (${id})` : ""}${error ? `\n${error}` : ""}\n`);
    },
  };
}
