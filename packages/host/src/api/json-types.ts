/**
 * The JSON the API answers, as TypeScript types derived from the code that renders it (one
 * definition). The dashboard imports these type-only; nothing here exists at run time.
 */
import type { Role } from "../auth/roles.ts";
import type { ContinuousSupervisor } from "../continuous/supervisor.ts";
import type { jobJson, runJson } from "./kudu-json.ts";
import type { instanceJson } from "../instances/instance-json.ts";
import type { LiveEvent } from "./live/live-events.ts";

export type { LiveEvent };
export type RunJson = ReturnType<typeof runJson>;
/** `GET /api/instances`: one entry. */
export type InstanceJson = ReturnType<typeof instanceJson>;

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
  role: Role;
  /** The jobs a limited token may touch; null for every job. */
  jobs: string[] | null;
  created_at: string;
}

/** `POST /api/tokens`: the secret, shown once. */
export interface CreatedTokenJson extends Omit<TokenJson, "created_at"> {
  token: string;
}

export type { Role };

/** `GET /api/session`: who the caller is. */
export interface SessionJson {
  name: string;
  role: Role;
  /** password (Basic), token (bearer) or session (the login page's cookie). */
  kind: string;
  jobs: string[] | null;
  /** When the browser session ends; null for other credentials. */
  expires_at: string | null;
}

/** `GET /api/users`: never a password or its hash. */
export interface UserJson {
  username: string;
  role: Role;
  created_at: string;
}

/** `GET /api/appsettings`: a secret's value is never answered (null). */
export interface AppSettingJson {
  name: string;
  value: string | null;
  secret: boolean;
  updated_at: string;
  /** A secret the current key cannot open: jobs do not get it. */
  unreadable?: true;
}

/** One entry of `GET /api/audit`. */
export interface AuditEntryJson {
  id: number;
  at: string;
  actor: string;
  actor_kind: string;
  action: string;
  target: string | null;
  status: number;
  address: string | null;
  detail: string | null;
}

export interface AuditPageJson {
  entries: AuditEntryJson[];
  next_cursor: string | null;
}

/** Every error answer. */
export interface ErrorJson {
  error: string;
  code: string;
  Message: string;
}
