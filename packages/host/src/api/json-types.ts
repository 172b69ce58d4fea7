/**
 * The JSON the API answers, as TypeScript types derived from the code that renders it (one
 * definition). The dashboard imports these type-only; nothing here exists at run time.
 */
import type { ContinuousSupervisor } from "../continuous/supervisor.ts";
import type { jobJson, runJson } from "./kudu-json.ts";
import type { LiveEvent } from "./live/live-events.ts";

export type { LiveEvent };
export type RunJson = ReturnType<typeof runJson>;

type AnyJobJson = ReturnType<typeof jobJson>;
export type TriggeredJobJson = Extract<AnyJobJson, { latest_run: unknown }> & { type: "triggered" };
export type ContinuousJobJson = Pick<AnyJobJson, "name" | "run_command" | "url" | "error" | "settings"> & {
  type: "continuous";
  extra_info_url: string;
  log_url: string;
  version: string;
} & ReturnType<ContinuousSupervisor["view"]>;
export type JobJson = TriggeredJobJson | ContinuousJobJson;

/** `GET /api/runs`: a page of the history of all runs. */
export interface RunPageJson {
  runs: RunJson[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** `GET /api/tokens`: never the secret. */
export interface TokenJson {
  id: string;
  label: string;
  created_at: string;
}

/** `POST /api/tokens`: the secret, shown once. */
export interface CreatedTokenJson {
  id: string;
  label: string;
  token: string;
}

/** Every error answer. */
export interface ErrorJson {
  error: string;
  code: string;
  Message: string;
}
