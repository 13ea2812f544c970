/** What the CLI prints: JSON with `--json`, readable tables otherwise. */

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value)) return value.join(" ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A table with a header line; columns are the keys of the first row unless given. */
export function table(rows: Row[], columns?: string[]): string {
  if (rows.length === 0) return "(none)\n";
  const keys = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((row) => keys.map((key) => cell(row[key])));
  const widths = keys.map((key, i) => Math.max(key.length, ...cells.map((line) => line[i]!.length)));
  const format = (line: string[]) => line.map((text, i) => text.padEnd(widths[i]!)).join("  ").trimEnd();
  return [format(keys.map((key) => key.toUpperCase())), ...cells.map(format)].join("\n") + "\n";
}

/** One record as aligned `key  value` lines. */
export function fields(record: Row): string {
  const width = Math.max(...Object.keys(record).map((key) => key.length));
  return Object.entries(record).map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`).join("\n") + "\n";
}

/** Prints `value` as JSON when asked, else what `human` makes of it. */
export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : human());
}
