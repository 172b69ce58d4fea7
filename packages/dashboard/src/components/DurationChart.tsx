import type { Run } from "../api.ts";
import { humanDuration } from "../format.ts";
import { runDurationMs } from "./RunsTable.tsx";

/** Bars of the recent runs' durations, oldest on the left, coloured by outcome. */
export function DurationChart({ runs }: { runs: Run[] }) {
  const finished = runs.filter((run) => run.status !== "Running" && run.status !== "Initializing").reverse();
  if (finished.length === 0) return null;
  const durations = finished.map((run) => runDurationMs(run) ?? 0);
  const max = Math.max(...durations, 1);
  const width = 300;
  const height = 60;
  const step = width / Math.max(finished.length, 10);
  const ok = finished.filter((run) => run.status === "Success").length;
  const summary = `Durations of the last ${finished.length} runs: longest ${humanDuration(max)}; ${ok} succeeded, ${finished.length - ok} did not.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        {finished.map((run, i) => {
          const h = Math.max(2, (durations[i] / max) * (height - 2));
          return (
            <rect
              key={run.id}
              class={`bar bar-${run.status}`}
              x={i * step + 1}
              y={height - h}
              width={Math.max(step - 2, 1)}
              height={h}
            >
              <title>{`${run.id}: ${run.status}, ${humanDuration(durations[i])}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="muted">{summary}</figcaption>
    </figure>
  );
}
