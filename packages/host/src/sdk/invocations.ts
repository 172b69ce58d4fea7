import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

/**
 * Invocations of webjobs-sdk functions. The SDK, running inside a job, appends a start and an end line
 * per invocation to `{WEBJOBS_DATA_PATH}/sdk/invocations.jsonl` (rotated once to `invocations.1.jsonl`)
 * and lists its functions in `sdk/functions.json`; the host reads them here. A file written by the job
 * keeps the job free of credentials for the host, and works the same for a job run by hand.
 */
export interface Invocation {
  id: string;
  function: string;
  status: "Running" | "Succeeded" | "Failed";
  start_time: string;
  duration_ms: number | null;
  trigger_details: Record<string, unknown>;
  arguments: Record<string, string>;
  error: string | null;
  reason: string;
  log: string[];
  /** The invocation whose output (a queue message or a blob it wrote) triggered this one. */
  parent: InvocationLink | null;
  /** The invocations its outputs triggered. */
  children: InvocationLink[];
}

export interface InvocationLink {
  id: string;
  function: string;
}

export interface FunctionSummary {
  name: string;
  trigger: string;
  source: string | null;
  invocations: { total: number; succeeded: number; failed: number };
  last_invocation: string | null;
}

interface Line {
  kind?: string;
  id?: string;
  function?: string;
  [key: string]: unknown;
}

/** `using_sdk`: the SDK writes `webjobssdk.marker` (the .NET SDK `WebJobsSdk.marker`): any case. */
export function hasSdkMarker(jobDataDir: string): boolean {
  try {
    return readdirSync(jobDataDir).some((entry) => entry.toLowerCase() === "webjobssdk.marker");
  } catch {
    return false;
  }
}

/** Every invocation recorded for a job, oldest first. Unreadable lines are skipped. */
export async function readInvocations(jobDataDir: string): Promise<Invocation[]> {
  const byId = new Map<string, Invocation>();
  const writers = new Map<string, Invocation>();
  for (const file of ["invocations.1.jsonl", "invocations.jsonl"]) {
    let text: string;
    try {
      text = await readFile(path.join(jobDataDir, "sdk", file), "utf8");
    } catch {
      continue;
    }
    for (const raw of text.split("\n")) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      if (typeof line.id !== "string" || typeof line.function !== "string") continue;
      if (line.kind === "start") {
        byId.set(line.id, {
          id: line.id,
          function: line.function,
          status: "Running",
          start_time: String(line.start_time),
          duration_ms: null,
          trigger_details: (line.trigger_details as Record<string, unknown>) ?? {},
          arguments: (line.arguments as Record<string, string>) ?? {},
          error: null,
          reason: String(line.reason ?? ""),
          log: [],
          parent: null,
          children: [],
        });
      } else if (line.kind === "end") {
        const invocation = byId.get(line.id);
        if (!invocation) continue;
        invocation.status = line.status === "Succeeded" ? "Succeeded" : "Failed";
        invocation.duration_ms = typeof line.duration_ms === "number" ? line.duration_ms : null;
        invocation.error = typeof line.error === "string" ? line.error : null;
        invocation.log = Array.isArray(line.log) ? (line.log as string[]) : [];
        if (Array.isArray(line.outputs)) {
          for (const output of line.outputs as Record<string, unknown>[]) {
            const key = outputKey(output);
            if (key) writers.set(key, invocation);
          }
        }
      }
    }
  }
  // Caused by: the SDK lists what each invocation's outputs wrote (message ids, blob ETags); the
  // trigger details of the invocation they started name the same message or blob version. Message
  // bodies stay as the user wrote them (text and bytes could not carry a parent id anyway).
  for (const invocation of byId.values()) {
    const details = invocation.trigger_details;
    const key =
      typeof details.message_id === "string"
        ? outputKey({ queue: details.queue, message_id: details.message_id })
        : outputKey({ blob: details.blob_name, etag: details.etag });
    const parent = key ? writers.get(key) : undefined;
    if (!parent || parent === invocation) continue;
    invocation.parent = { id: parent.id, function: parent.function };
    parent.children.push({ id: invocation.id, function: invocation.function });
  }
  return [...byId.values()];
}

/** A queue message (by id, unique per queue) or a blob version (path and ETag, quotes aside). */
function outputKey(output: Record<string, unknown>): string | null {
  if (typeof output.message_id === "string") return `message ${output.message_id}`;
  if (typeof output.blob === "string" && typeof output.etag === "string") {
    return `blob ${output.blob} ${output.etag.replace(/"/g, "")}`;
  }
  return null;
}

/** The functions the job declared, with their counts, in declaration order. */
export async function summarizeFunctions(jobDataDir: string): Promise<FunctionSummary[]> {
  const summaries = new Map<string, FunctionSummary>();
  try {
    const declared = JSON.parse(await readFile(path.join(jobDataDir, "sdk", "functions.json"), "utf8")) as {
      name: string;
      trigger: string;
      source?: string;
    }[];
    for (const fn of declared) {
      summaries.set(fn.name, {
        name: fn.name,
        trigger: fn.trigger,
        source: fn.source ?? null,
        invocations: { total: 0, succeeded: 0, failed: 0 },
        last_invocation: null,
      });
    }
  } catch {
    // No list yet: the functions seen in the records still show.
  }
  for (const invocation of await readInvocations(jobDataDir)) {
    let summary = summaries.get(invocation.function);
    if (!summary) {
      summary = {
        name: invocation.function,
        trigger: "unknown",
        source: null,
        invocations: { total: 0, succeeded: 0, failed: 0 },
        last_invocation: null,
      };
      summaries.set(invocation.function, summary);
    }
    summary.invocations.total += 1;
    if (invocation.status === "Succeeded") summary.invocations.succeeded += 1;
    if (invocation.status === "Failed") summary.invocations.failed += 1;
    if (!summary.last_invocation || invocation.start_time > summary.last_invocation) {
      summary.last_invocation = invocation.start_time;
    }
  }
  return [...summaries.values()];
}

let jobsDataRoot: string | null = null;

/**
 * Set once by the routes: jobJson (a pure function with many callers) asks `usesSdk` without being
 * handed the host's paths.
 */
export function setJobsDataRoot(root: string): void {
  jobsDataRoot = root;
}

export function usesSdk(type: string, name: string): boolean {
  return jobsDataRoot !== null && hasSdkMarker(path.join(jobsDataRoot, type, name));
}
