/**
 * The host's API as the dashboard uses it. Every shape comes from the host's own definitions
 * (imported type-only, so nothing of the host reaches the bundle).
 */
import type {
  ContinuousJobJson,
  CreatedTokenJson,
  ErrorJson,
  LiveEvent,
  RunJson,
  RunPageJson,
  TokenJson,
  TriggeredJobJson,
  SessionJson,
  UserJson,
  AppSettingJson,
  AuditPageJson,
  AuditEntryJson,
  InstanceJson,
  Role,
} from "../../host/src/api/json-types.ts";

/**
 * Scheduled jobs: fields the host adds to a triggered job once schedules exist. Every one may be
 * absent (an older host, or a job without a schedule), so the pages read them as optional.
 */
export interface ScheduleFields {
  schedule_description?: string | null;
  time_zone?: string | null;
  next_runs?: string[];
  schedule_paused?: boolean;
}
export interface ScheduledRunFields {
  scheduled_time?: string | null;
  attempt?: number | null;
}

export type Run = RunJson & ScheduledRunFields;
export type TriggeredJob = Omit<TriggeredJobJson, "latest_run"> & ScheduleFields & { latest_run: Run | null };
export type ContinuousJob = ContinuousJobJson;
export type Job = TriggeredJob | ContinuousJob;
export type RunPage = Omit<RunPageJson, "runs"> & { runs: Run[] };
export type { CreatedTokenJson, LiveEvent, TokenJson, SessionJson, UserJson, AppSettingJson, AuditPageJson };
export type { AuditEntryJson, InstanceJson, Role };

/** Says "a script of the dashboard": the host then answers 401 without the browser's own prompt. */
const FROM_DASHBOARD = { "x-requested-with": "webjobs-dashboard" };

/** Without a valid session: to the login page, which comes back here afterwards. */
export function toLogin(): void {
  if (location.hash.startsWith("#/login")) return;
  location.hash = `/login?next=${encodeURIComponent(location.hash || "#/")}`;
}
export type JobType = Job["type"];
export type Settings = Job["settings"];

export interface Fire {
  scheduled_time: string;
  outcome: string;
  run_id?: string | null;
  reason?: string | null;
}

export interface SchedulePreview {
  schedule: unknown;
  time_zone: string;
  description: string;
  occurrences: string[];
}

/** An error answer of the host, its message kept as the host wrote it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Partial<ErrorJson>;
    return new ApiError(response.status, body.error ?? body.Message ?? text, body.code);
  } catch {
    return new ApiError(response.status, text || `${response.status} ${response.statusText}`);
  }
}

/** JSON from the API; throws ApiError with the host's message. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(FROM_DASHBOARD)) headers.set(name, value);
  if (init.body !== undefined && typeof init.body === "string")
    headers.set("content-type", "application/json");
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401 && !headers.has("authorization")) toLogin();
  if (!response.ok) throw await failure(response);
  if (response.status === 204 || response.status === 202) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const post = <T = void>(path: string, body?: unknown) =>
  api<T>(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
export const send = <T = void>(method: string, path: string, body?: unknown) =>
  api<T>(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });

export const jobPath = (type: JobType, name: string) => `/api/${type}webjobs/${encodeURIComponent(name)}`;
export const runPath = (job: string, id: string) => `${jobPath("triggered", job)}/history/${id}`;

/** The job as the user thinks of it: on demand, scheduled (a triggered job with a schedule) or continuous. */
export function jobKind(job: Job): "on demand" | "scheduled" | "continuous" {
  if (job.type === "continuous") return "continuous";
  return job.settings.schedule ? "scheduled" : "on demand";
}

/**
 * Uploads a package with progress (fetch cannot report upload progress; XMLHttpRequest can).
 * Resolves with the deployed job, rejects with the host's message.
 */
export function upload(
  type: JobType,
  name: string,
  file: Blob,
  filename: string,
  onProgress: (fraction: number) => void,
): Promise<Job> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", jobPath(type, name));
    const isZip = /\.zip$/i.test(filename);
    xhr.setRequestHeader("content-type", isZip ? "application/zip" : "application/octet-stream");
    for (const [name, value] of Object.entries(FROM_DASHBOARD)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("content-disposition", `attachment; filename="${filename.replace(/["\\]/g, "_")}"`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status === 401) toLogin();
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(JSON.parse(xhr.responseText) as Job);
        return;
      }
      let message = xhr.responseText || `${xhr.status} ${xhr.statusText}`;
      try {
        message = (JSON.parse(xhr.responseText) as ErrorJson).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      reject(new ApiError(xhr.status, message));
    };
    xhr.onerror = () => reject(new ApiError(0, "The upload failed: the host could not be reached."));
    xhr.send(file);
  });
}
