import type { Logger } from "pino";
import type { HostConfig } from "../config.ts";
import type { ClusterSignals } from "../instances/signals.ts";
import type { AppSettings } from "./app-settings.ts";

/** Signal channel: "the app settings changed, read them again". */
export const SETTINGS_CHANNEL = "app_settings";
/** Several instances: settings are read again this often, in case a signal was lost. */
const POLL_MS = 3_000;

export interface SharedSettingsDeps {
  config: HostConfig;
  appSettings: AppSettings;
  signals: ClusterSignals;
  log: Logger;
  /** Several instances share the store (PostgreSQL): poll it. One machine: nothing to poll. */
  shared: boolean;
  /** WEBJOBS_STOPPED was set or cleared: stop or start what runs. */
  onStoppedChange: (stopped: boolean) => void;
}

/**
 * App settings shared by every instance on one store. A change through one instance is signalled
 * to the others, which read the settings again (and every few seconds anyway: a signal can be
 * lost), so a job started anywhere gets the same variables within seconds.
 *
 * It also keeps `config.stopped` (what the scheduler, the runner and the supervisor read) in step
 * with Kudu's WEBJOBS_STOPPED: set as an environment variable of this host, or as a host-wide app
 * setting, which then applies on every instance.
 */
export class SharedSettings {
  private readonly stoppedByEnvironment: boolean;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly deps: SharedSettingsDeps) {
    this.stoppedByEnvironment = deps.config.stopped;
  }

  /** After the settings were first read: applies WEBJOBS_STOPPED before any job starts. */
  start(): void {
    this.apply();
    this.deps.appSettings.onChanged = () => this.changedHere();
    if (!this.deps.shared) return;
    this.unsubscribe = this.deps.signals.on(SETTINGS_CHANNEL, () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.timer.unref();
  }

  /** Reads the settings again now; resolves when done (tests, and signals). */
  refresh(): Promise<void> {
    this.refreshing ??= this.deps.appSettings
      .refresh()
      .then((changed) => {
        if (changed) this.apply();
      })
      .catch((error: unknown) => this.deps.log.warn({ err: error }, "could not read the app settings again"))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.refreshing;
  }

  private changedHere(): void {
    this.apply();
    if (!this.deps.shared) return;
    this.deps.signals
      .notify(SETTINGS_CHANNEL, "")
      .catch((error: unknown) =>
        this.deps.log.warn({ err: error }, "could not signal an app settings change"),
      );
  }

  private apply(): void {
    const { config, appSettings, log } = this.deps;
    const stopped = this.stoppedByEnvironment || appSettings.stoppedBySetting();
    if (stopped === config.stopped) return;
    config.stopped = stopped;
    log.warn(
      { stopped },
      stopped
        ? "WebJobs are stopped (WEBJOBS_STOPPED): no job runs"
        : "WebJobs are no longer stopped (WEBJOBS_STOPPED cleared)",
    );
    this.deps.onStoppedChange(stopped);
  }
}
