import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** Numbered plain SQL files (`001_init.sql`, …) of one dialect, in order. */
export function loadMigrations(dialect: "sqlite" | "postgres"): Migration[] {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations", dialect);
  return readdirSync(dir)
    .filter((file) => /^\d+_.*\.sql$/.test(file))
    .sort()
    .map((file) => ({
      id: Number.parseInt(file, 10),
      name: file,
      sql: readFileSync(path.join(dir, file), "utf8"),
    }));
}
