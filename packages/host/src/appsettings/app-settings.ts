import type { Logger } from "pino";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import type { Store } from "../store/types.ts";
import { HOST_SCOPE, type AppSettingRecord } from "./types.ts";

/** What the API shows of a setting: never a secret's value (the JSON is api/json-types.ts). */
export interface AppSettingView {
  name: string;
  value: string | null;
  secret: boolean;
  updated_at: string;
  /** A secret that the current key cannot open (the key changed): jobs do not get it. */
  unreadable?: true;
}

/** Values shorter than this are not masked in logs: masking "1" would garble every line. */
export const MIN_MASKED_LENGTH = 3;
const MAX_VALUE_BYTES = 32 * 1024;

/**
 * Kudu's switch: the host-wide app setting WEBJOBS_STOPPED=1 stops every job, on every instance
 * sharing the store (as the environment variable does on one host). See shared-settings.ts.
 */
export const STOPPED_SETTING = "WEBJOBS_STOPPED";

const truthy = (value: string) => ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());

export const settingNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
    "a setting name is an environment variable name: a letter or '_', then letters, digits or '_' (at most 128)",
  )
  .refine(
    (name) => !/^WEBJOBS_/i.test(name) || name === STOPPED_SETTING,
    `names starting with WEBJOBS_ are the host's own variables (but for ${STOPPED_SETTING}, host-wide)`,
  );

export const settingValueSchema = z.strictObject({
  value: z
    .string({ error: "value must be a string" })
    .refine((v) => !v.includes("\0"), "value must not contain a NUL character (environment variables cannot)")
    .refine((v) => Buffer.byteLength(v) <= MAX_VALUE_BYTES, `value must be at most ${MAX_VALUE_BYTES} bytes`),
  secret: z.boolean({ error: "secret must be true or false" }).optional(),
});

interface Entry {
  record: AppSettingRecord;
  /** The plain value (secrets opened once, at load or when set); null when it cannot be opened. */
  plain: string | null;
}

/**
 * App settings given to jobs as environment variables, host-wide or per job (the job's win). They
 * are read at start and kept in memory, opened, so that starting a process needs no store read;
 * every change goes to the store first, then to memory. Several instances: each one reads them
 * again when told of a change, and every few seconds (shared-settings.ts).
 */
export class AppSettings {
  private readonly entries = new Map<string, Map<string, Entry>>();
  private sealer: SecretBox | null = null;
  /** What was read from the store last, to tell whether a refresh changed anything. */
  private fingerprint: string | null = null;

  /** `loadBox` runs at start: the key file lives in the data folder, which exists only then. */
  constructor(
    private readonly store: Store,
    private readonly loadBox: () => SecretBox,
    private readonly log: Logger,
  ) {}

  private get box(): SecretBox {
    this.sealer ??= this.loadBox();
    return this.sealer;
  }

  /** Called after a setting was set or removed through this instance. */
  onChanged: (() => void) | null = null;

  async start(): Promise<void> {
    this.sealer = this.loadBox();
    await this.refresh();
  }

  /** WEBJOBS_STOPPED set host-wide to a true value (1, true, yes, on). */
  stoppedBySetting(): boolean {
    const plain = this.scope(HOST_SCOPE).get(STOPPED_SETTING)?.plain;
    return plain != null && truthy(plain);
  }

  /**
   * Reads every setting from the store again (several instances: a setting changed through
   * another one); returns whether anything changed.
   */
  async refresh(): Promise<boolean> {
    const records = await this.store.appSettings.listAppSettings();
    const fingerprint = JSON.stringify(records.map((r) => [r.scope, r.name, r.value, r.secret]));
    if (fingerprint === this.fingerprint) return false;
    this.fingerprint = fingerprint;
    this.entries.clear();
    for (const record of records) {
      let plain: string | null = record.value;
      if (record.secret) {
        try {
          plain = this.box.open(record.value, binding(record.scope, record.name));
        } catch {
          plain = null;
          this.log.error(
            { scope: record.scope || "(host)", name: record.name },
            "an app setting secret cannot be opened with the current key (WEBJOBS_SECRET_KEY or secret.key changed?); jobs do not get it",
          );
        }
      }
      this.scope(record.scope).set(record.name, { record, plain });
    }
    return true;
  }

  list(scope: string): AppSettingView[] {
    return [...this.scope(scope).values()]
      .sort((a, b) => a.record.name.localeCompare(b.record.name))
      .map(({ record, plain }) => ({
        name: record.name,
        value: record.secret ? null : record.value,
        secret: record.secret,
        updated_at: record.updatedAt.toISOString(),
        ...(plain === null ? { unreadable: true as const } : {}),
      }));
  }

  async set(scope: string, name: string, value: string, secret: boolean): Promise<AppSettingView> {
    if (name === STOPPED_SETTING && scope !== HOST_SCOPE) {
      throw new WebJobsError(
        ErrorCode.BadRequest,
        `${STOPPED_SETTING} stops every job: set it host-wide (PUT /api/appsettings/${STOPPED_SETTING}).`,
      );
    }
    const stored = secret ? this.box.seal(value, binding(scope, name)) : value;
    const record: AppSettingRecord = { scope, name, value: stored, secret, updatedAt: new Date() };
    await this.store.appSettings.putAppSetting(record);
    this.scope(scope).set(name, { record, plain: value });
    this.fingerprint = null;
    this.onChanged?.();
    return this.list(scope).find((view) => view.name === name)!;
  }

  async remove(scope: string, name: string): Promise<void> {
    if (!(await this.store.appSettings.deleteAppSetting(scope, name))) {
      const where = scope === HOST_SCOPE ? "host-wide" : `for job '${scope}'`;
      throw new WebJobsError(ErrorCode.NotFound, `No app setting '${name}' ${where}.`);
    }
    this.scope(scope).delete(name);
    this.fingerprint = null;
    this.onChanged?.();
  }

  /** The variables a job's process gets, and a function that masks its secret values in output. */
  forJob(jobName: string): { env: Record<string, string>; mask: (text: string) => string } {
    const env: Record<string, string> = {};
    const secrets = new Set<string>();
    for (const scope of [HOST_SCOPE, jobName]) {
      for (const [name, { record, plain }] of this.scope(scope)) {
        if (plain === null) {
          delete env[name];
          continue;
        }
        env[name] = plain;
        if (record.secret && plain.length >= MIN_MASKED_LENGTH) secrets.add(plain);
      }
    }
    return { env, mask: masker([...secrets]) };
  }

  private scope(scope: string): Map<string, Entry> {
    let map = this.entries.get(scope);
    if (!map) this.entries.set(scope, (map = new Map()));
    return map;
  }
}

const binding = (scope: string, name: string) => `${scope}\0${name}`;

/** Replaces every secret value by `***`, longest first (a secret containing another is masked whole). */
export function masker(secrets: string[]): (text: string) => string {
  if (secrets.length === 0) return (text) => text;
  const pattern = new RegExp(
    secrets
      .sort((a, b) => b.length - a.length)
      .map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("|"),
    "g",
  );
  return (text) => text.replace(pattern, "***");
}
