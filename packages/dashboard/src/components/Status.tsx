/** A status with its own colour and icon (never colour alone: the word is always there). */
const icons: Record<string, string> = {
  Success: "✓",
  Failed: "✕",
  Aborted: "⊘",
  Running: "▶",
  Initializing: "…",
  Starting: "…",
  PendingRestart: "↻",
  Stopping: "■",
  Stopped: "■",
  Paused: "⏸",
  never: "○",
};

export function Status({ status, label }: { status: string; label?: string }) {
  return (
    <span class={`status status-${status}`}>
      <span aria-hidden="true">{icons[status] ?? "•"}</span> {label ?? status}
    </span>
  );
}
