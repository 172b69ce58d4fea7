import type Database from "better-sqlite3";
import type { AppSettingRecord, AppSettingsStore } from "../appsettings/types.ts";

type Row = Record<string, unknown>;

/** App settings in SQLite (migration 006); secret values arrive here already sealed. */
export class SqliteAppSettingsStore implements AppSettingsStore {
  constructor(private readonly db: Database.Database) {}

  async putAppSetting(s: AppSettingRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO app_settings (scope, name, value, secret, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, secret = excluded.secret,
           updated_at = excluded.updated_at`,
      )
      .run(s.scope, s.name, s.value, s.secret ? 1 : 0, s.updatedAt.getTime());
  }

  async listAppSettings(): Promise<AppSettingRecord[]> {
    const rows = this.db.prepare("SELECT * FROM app_settings ORDER BY scope, name").all() as Row[];
    return rows.map((r) => ({
      scope: r.scope as string,
      name: r.name as string,
      value: r.value as string,
      secret: r.secret === 1,
      updatedAt: new Date(Number(r.updated_at)),
    }));
  }

  async deleteAppSetting(scope: string, name: string): Promise<boolean> {
    return (
      this.db.prepare("DELETE FROM app_settings WHERE scope = ? AND name = ?").run(scope, name).changes > 0
    );
  }
}
