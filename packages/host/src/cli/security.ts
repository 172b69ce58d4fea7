import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ApiClient, CliError, printJson, withConnection, type ConnectionOptions } from "./client.ts";

const json = { "content-type": "application/json" };
const roleHelp = "admin, operator or reader";

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** A password from stdin (`--password-stdin`), else a generated one, printed once. */
function newPassword(fromStdin: boolean | undefined): { password: string; generated: boolean } {
  if (fromStdin) {
    const password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
    if (!password) throw new CliError("--password-stdin: nothing was read from standard input.");
    return { password, generated: false };
  }
  return { password: randomBytes(18).toString("base64url"), generated: true };
}

/** Users, tokens, app settings and the audit trail: `webjobs user|token|appsetting|audit …`. */
export function registerSecurityCommands(program: Command): void {
  const user = program.command("user").description("Users and their roles (admins only)");

  withConnection(
    user
      .command("add <name>")
      .description("Add a user; prints a generated password once unless --password-stdin")
      .requiredOption("--role <role>", roleHelp)
      .option("--password-stdin", "read the new user's password from standard input"),
  ).action(async (name: string, options: ConnectionOptions & { role: string; passwordStdin?: boolean }) => {
    const { password, generated } = newPassword(options.passwordStdin);
    await new ApiClient(options).json("POST", "/api/users", {
      headers: json,
      body: JSON.stringify({ username: name, password, role: options.role }),
    });
    process.stdout.write(generated ? `${password}\n` : "");
    process.stderr.write(
      `Added ${name} (${options.role}).${generated ? " Password shown once above." : ""}\n`,
    );
  });

  withConnection(user.command("list").description("List users").option("--json", "print JSON")).action(
    async (options: ConnectionOptions & { json?: boolean }) => {
      const users = await new ApiClient(options).json<
        { username: string; role: string; created_at: string }[]
      >("GET", "/api/users");
      if (options.json) return printJson(users);
      process.stdout.write(
        table([["USER", "ROLE", "CREATED"], ...users.map((u) => [u.username, u.role, u.created_at])]),
      );
    },
  );

  withConnection(
    user.command("set-role <name> <role>").description(`Change a user's role (${roleHelp})`),
  ).action(async (name: string, role: string, options: ConnectionOptions) => {
    await new ApiClient(options).json("PATCH", `/api/users/${encodeURIComponent(name)}`, {
      headers: json,
      body: JSON.stringify({ role }),
    });
    process.stderr.write(`${name} is now ${role}.\n`);
  });

  withConnection(
    user
      .command("set-password <name>")
      .description("Set a user's password (ends its sessions); generated unless --password-stdin")
      .option("--password-stdin", "read the password from standard input"),
  ).action(async (name: string, options: ConnectionOptions & { passwordStdin?: boolean }) => {
    const { password, generated } = newPassword(options.passwordStdin);
    await new ApiClient(options).json("PATCH", `/api/users/${encodeURIComponent(name)}`, {
      headers: json,
      body: JSON.stringify({ password }),
    });
    if (generated) process.stdout.write(`${password}\n`);
  });

  withConnection(user.command("remove <name>").description("Remove a user and end its sessions")).action(
    async (name: string, options: ConnectionOptions) => {
      await new ApiClient(options).request("DELETE", `/api/users/${encodeURIComponent(name)}`);
      process.stderr.write(`Removed ${name}.\n`);
    },
  );

  const token = program.command("token").description("API tokens (admins only)");
  withConnection(
    token
      .command("create")
      .description("Create an API token (printed once)")
      .option("--label <label>", "what the token is for")
      .option("--role <role>", `${roleHelp} (default admin)`)
      .option("--jobs <names>", "limit the token to these jobs (comma-separated)"),
  ).action(async (options: ConnectionOptions & { label?: string; role?: string; jobs?: string }) => {
    const jobs = options.jobs
      ?.split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const created = await new ApiClient(options).json<{ token: string }>("POST", "/api/tokens", {
      headers: json,
      body: JSON.stringify({ label: options.label, role: options.role, jobs }),
    });
    process.stdout.write(`${created.token}\n`);
    process.stderr.write(
      "Keep it now: only its hash is stored. Use it with WEBJOBS_TOKEN or `Authorization: Bearer …`.\n",
    );
  });
  withConnection(
    token.command("list").description("List tokens (never the secrets)").option("--json", "print JSON"),
  ).action(async (options: ConnectionOptions & { json?: boolean }) => {
    const tokens = await new ApiClient(options).json<
      { id: string; label: string; role: string; jobs: string[] | null; created_at: string }[]
    >("GET", "/api/tokens");
    if (options.json) return printJson(tokens);
    const rows = tokens.map((t) => [t.id, t.label, t.role, t.jobs?.join(",") ?? "all jobs", t.created_at]);
    process.stdout.write(table([["ID", "LABEL", "ROLE", "JOBS", "CREATED"], ...rows]));
  });
  withConnection(token.command("revoke <id>").description("Revoke a token")).action(
    async (id: string, options: ConnectionOptions) => {
      await new ApiClient(options).request("DELETE", `/api/tokens/${encodeURIComponent(id)}`);
      process.stderr.write(`Revoked ${id}.\n`);
    },
  );

  const setting = program
    .command("appsetting")
    .description("App settings given to jobs as environment variables (host-wide, or one job's with --job)");
  const base = (job?: string) =>
    job ? `/api/webjobs/${encodeURIComponent(job)}/appsettings` : "/api/appsettings";
  withConnection(
    setting
      .command("set <name> [value]")
      .description("Set a setting; a --secret is stored encrypted, never shown again, masked in logs")
      .option("--job <job>", "for this job only (wins over a host-wide setting)")
      .option("--secret", "a secret value")
      .option("--value-stdin", "read the value from standard input (keeps it out of the shell history)"),
  ).action(
    async (
      name: string,
      value: string | undefined,
      options: ConnectionOptions & { job?: string; secret?: boolean; valueStdin?: boolean },
    ) => {
      const text = options.valueStdin ? readFileSync(0, "utf8").replace(/\r?\n$/, "") : value;
      if (text === undefined) throw new CliError("Give a value, or --value-stdin.");
      await new ApiClient(options).json("PUT", `${base(options.job)}/${encodeURIComponent(name)}`, {
        headers: json,
        body: JSON.stringify({ value: text, secret: options.secret ?? false }),
      });
      process.stderr.write(
        `Set ${name}${options.job ? ` for ${options.job}` : ""}${options.secret ? " (secret)" : ""}.\n`,
      );
    },
  );
  withConnection(
    setting
      .command("list")
      .description("List settings (secret values are never shown)")
      .option("--job <job>", "one job's settings")
      .option("--json", "print JSON"),
  ).action(async (options: ConnectionOptions & { job?: string; json?: boolean }) => {
    const settings = await new ApiClient(options).json<
      { name: string; value: string | null; secret: boolean }[]
    >("GET", base(options.job));
    if (options.json) return printJson(settings);
    process.stdout.write(settings.map((s) => `${s.name}=${s.secret ? "*** (secret)" : s.value}\n`).join(""));
  });
  withConnection(
    setting
      .command("remove <name>")
      .description("Remove a setting")
      .option("--job <job>", "one job's setting"),
  ).action(async (name: string, options: ConnectionOptions & { job?: string }) => {
    await new ApiClient(options).request("DELETE", `${base(options.job)}/${encodeURIComponent(name)}`);
    process.stderr.write(`Removed ${name}.\n`);
  });

  withConnection(
    program
      .command("audit")
      .description("Who changed what, newest first (admins only)")
      .option("--action <action>", "deploy, run, cancel, start, stop, delete, login, user_add…")
      .option("--target <target>", "a job (its runs and settings included), a user…")
      .option("--actor <actor>", "a user name or token label")
      .option("--limit <n>", "entries (1-500)", "50")
      .option("--json", "print JSON"),
  ).action(
    async (
      options: ConnectionOptions & {
        action?: string;
        target?: string;
        actor?: string;
        limit: string;
        json?: boolean;
      },
    ) => {
      const query = new URLSearchParams({ limit: options.limit });
      for (const key of ["action", "target", "actor"] as const)
        if (options[key]) query.set(key, options[key]);
      const page = await new ApiClient(options).json<{
        entries: {
          at: string;
          actor: string;
          action: string;
          target: string | null;
          status: number;
          address: string | null;
          detail: string | null;
        }[];
      }>("GET", `/api/audit?${query}`);
      if (options.json) return printJson(page);
      const rows = page.entries.map((e) => [
        e.at,
        e.actor,
        e.action,
        e.target ?? "",
        String(e.status),
        e.address ?? "",
        e.detail ?? "",
      ]);
      process.stdout.write(table([["WHEN", "WHO", "ACTION", "TARGET", "STATUS", "FROM", "DETAIL"], ...rows]));
    },
  );
}
