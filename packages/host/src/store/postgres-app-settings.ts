import type { AppSettingRecord, AppSettingsStore } from "../appsettings/types.ts";
import type { Queryable } from "./postgres-db.ts";

/** App settings in PostgreSQL (migration 006); secret values arrive here already sealed. */
export class PgAppSettingsStore implements AppSettingsStore {
  constructor(private readonly db: Queryable) {}

  async putAppSetting(s: AppSettingRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO app_settings (scope, name, value, secret, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, secret = excluded.secret,
         updated_at = excluded.updated_at`,
      [s.scope, s.name, s.value, s.secret, s.updatedAt],
    );
  }

  async listAppSettings(): Promise<AppSettingRecord[]> {
    const { rows } = await this.db.query("SELECT * FROM app_settings ORDER BY scope, name");
    return rows.map((r) => ({
      scope: r.scope as string,
      name: r.name as string,
      value: r.value as string,
      secret: r.secret === true,
      updatedAt: r.updated_at as Date,
    }));
  }

  async deleteAppSetting(scope: string, name: string): Promise<boolean> {
    const result = await this.db.query("DELETE FROM app_settings WHERE scope = $1 AND name = $2", [
      scope,
      name,
    ]);
    return (result.rowCount ?? 0) > 0;
  }
}
