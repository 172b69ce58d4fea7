/**
 * App settings (Azure's "application settings"): name/value pairs given to jobs as environment
 * variables. A setting is host-wide (every job) or belongs to one job (it wins over a host-wide
 * one of the same name). A secret setting's value is stored encrypted and never shown again.
 */
export const HOST_SCOPE = "";

export interface AppSettingRecord {
  /** `HOST_SCOPE` for host-wide settings, else the job's name. */
  scope: string;
  name: string;
  /** The plain value, or for secrets the sealed value (secrets/secret-box.ts). */
  value: string;
  secret: boolean;
  updatedAt: Date;
}

export interface AppSettingsStore {
  putAppSetting(setting: AppSettingRecord): Promise<void>;
  /** Every setting of every scope (the host keeps them decrypted in memory). */
  listAppSettings(): Promise<AppSettingRecord[]>;
  /** False when there was no such setting. */
  deleteAppSetting(scope: string, name: string): Promise<boolean>;
}
