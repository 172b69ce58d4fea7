import type { Readable } from "node:stream";
import type { RunAsUser } from "../runs/containment/run-as.ts";
import { spawnGroup, terminateGroup } from "../runs/process-group.ts";

/** What Kudu's `POST /api/command` answers, plus why the command was stopped, if it was. */
export interface CommandResult {
  Output: string;
  Error: string;
  /** The shell's exit code; -1 when the command was killed or could not start. */
  ExitCode: number;
  /** ▲ true when the time limit killed it. */
  TimedOut: boolean;
  /** ▲ true when its output passed the size cap (the command was stopped there). */
  Truncated: boolean;
}

export interface CommandLimits {
  timeoutMs: number;
  /** Per stream: stdout and stderr are each kept up to this many bytes. */
  maxOutputBytes: number;
}

/** How long a command being stopped gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

/** How long the pipes may stay open once the command's group is gone. */
const PIPE_DRAIN_MS = 1000;

/** Variables of the host that a command never sees: they are the host's own secrets. */
const HOST_SECRETS = ["WEBJOBS_PASSWORD", "WEBJOBS_SECRET_KEY", "WEBJOBS_DATABASE_URL"];

/**
 * Runs one command line with `sh -c` in `cwd`, as Kudu's command route does with `cmd /c`: in a
 * process group of its own, so that the time limit and the output cap stop everything it started
 * (a `sleep &` in the background included), not only the shell. Never throws for the command's own
 * failures: they are in the result, as Kudu reports them.
 */
export async function runRemoteCommand(
  command: string,
  cwd: string,
  limits: CommandLimits,
  user: RunAsUser | null,
  /** Aborted when nobody will read the answer (the client left, the host is stopping). */
  abandoned?: AbortSignal,
): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of HOST_SECRETS) delete env[name];
  const shell = ["sh", "-c", command];
  // When the host runs as root with WEBJOBS_RUN_AS, commands run as that user, as jobs do.
  const argv = user
    ? [user.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--", ...shell]
    : shell;
  if (user) Object.assign(env, { HOME: user.home, USER: user.name, LOGNAME: user.name });
  const group = spawnGroup(argv[0], argv.slice(1), { cwd, env });
  const stdout = new CappedText(limits.maxOutputBytes);
  const stderr = new CappedText(limits.maxOutputBytes);
  let timedOut = false;
  let stopping: Promise<unknown> | null = null;
  const stop = () => (stopping ??= group.pid ? terminateGroup(group, KILL_GRACE_MS) : Promise.resolve());
  const timer = setTimeout(() => {
    timedOut = true;
    void stop();
  }, limits.timeoutMs);
  const onFull = () => void stop();
  let gone = false;
  const onAbandoned = () => {
    gone = true;
    void stop();
  };
  if (abandoned?.aborted) onAbandoned();
  else abandoned?.addEventListener("abort", onAbandoned, { once: true });
  const outDone = stdout.collect(group.child.stdout, onFull);
  const errDone = stderr.collect(group.child.stderr, onFull);
  const exit = await group.exited;
  clearTimeout(timer);
  abandoned?.removeEventListener("abort", onAbandoned);
  // The shell may leave children behind that hold the pipes open: the group goes with it.
  if (group.pid && !stopping && groupAlive(group.pid)) void stop();
  await stopping;
  // A process that left the group (setsid) may still hold the pipes: the answer does not wait for it.
  const drained = await Promise.race([
    Promise.all([outDone, errDone]).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), PIPE_DRAIN_MS).unref()),
  ]);
  if (!drained) {
    group.child.stdout?.destroy();
    group.child.stderr?.destroy();
  }

  const truncated = stdout.truncated || stderr.truncated;
  const notes: string[] = [];
  if (exit.error) notes.push(`Could not start the command: ${exit.error.message}`);
  if (timedOut) {
    notes.push(
      `The command was killed after ${formatSeconds(limits.timeoutMs)} (WEBJOBS_COMMAND_TIMEOUT), with every process it started.`,
    );
  }
  if (gone) notes.push("The command was stopped: its client left, or the host is stopping.");
  if (truncated) {
    notes.push(
      `The output passed ${limits.maxOutputBytes} bytes (WEBJOBS_COMMAND_MAX_OUTPUT_BYTES): the command was stopped and its output cut there.`,
    );
  }
  const error = stderr.text();
  return {
    Output: stdout.text(),
    Error: notes.length
      ? `${error}${error && !error.endsWith("\n") ? "\n" : ""}${notes.join("\n")}\n`
      : error,
    ExitCode: timedOut || truncated || gone || exit.exitCode === null ? -1 : exit.exitCode,
    TimedOut: timedOut,
    Truncated: truncated,
  };
}

const formatSeconds = (ms: number) => `${ms / 1000} s`;

/** Whether any process is left in the group (signal 0 only asks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One output stream, kept up to a number of bytes; reading goes on (discarding) past it. */
class CappedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  collect(stream: Readable | null, onFull: () => void): Promise<void> {
    if (!stream) return Promise.resolve();
    return new Promise((resolve) => {
      stream.on("data", (chunk: Buffer) => {
        if (this.truncated) return;
        const room = this.maxBytes - this.size;
        if (chunk.length > room) {
          this.chunks.push(chunk.subarray(0, room));
          this.size = this.maxBytes;
          this.truncated = true;
          onFull();
          return;
        }
        this.chunks.push(chunk);
        this.size += chunk.length;
      });
      stream.once("close", () => resolve());
      stream.once("error", () => resolve());
    });
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
