/** Shared by the benchmark scripts: percentiles and a plain-text table. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function printTable(title: string, rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(title);
  for (const row of rows)
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    );
}

/** A row comparing two samples at a percentile: label, ours, baseline, ours / baseline. */
export function percentileRow(
  label: string,
  ours: number[],
  baseline: number[],
  p: number,
  unit = "ms",
): string[] {
  const a = percentile(ours, p);
  const b = percentile(baseline, p);
  return [label, `${a.toFixed(2)} ${unit}`, `${b.toFixed(2)} ${unit}`, (a / b).toFixed(2)];
}
