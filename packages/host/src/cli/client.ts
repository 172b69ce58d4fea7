import { createParser } from "eventsource-parser";
import type { Command } from "commander";

/** Thrown for anything the user must fix; main.ts prints the message and exits 1. */
export class CliError extends Error {}

export interface ConnectionOptions {
  url?: string;
  user?: string;
  password?: string;
  token?: string;
}

/** Adds the connection flags every client command shares. */
export function withConnection(command: Command): Command {
  return command
    .option("--url <url>", "the host's address (WEBJOBS_URL, default http://127.0.0.1:8080)")
    .option("--user <name>", "user name (WEBJOBS_USERNAME)")
    .option("--password <password>", "password (WEBJOBS_PASSWORD)")
    .option("--token <token>", "API token instead of a password (WEBJOBS_TOKEN)");
}

/** A small client of the host's HTTP API with clear messages for what goes wrong. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly authorization: string | null;

  constructor(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
    this.baseUrl = (options.url ?? env.WEBJOBS_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    const token = options.token ?? env.WEBJOBS_TOKEN;
    const user = options.user ?? env.WEBJOBS_USERNAME;
    const password = options.password ?? env.WEBJOBS_PASSWORD;
    if (token) this.authorization = `Bearer ${token}`;
    else if (user && password)
      this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    else this.authorization = null;
  }

  /** Sends a request; answers of 400 and above become a CliError with the host's message. */
  async request(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: RequestInit["body"]; duplex?: "half" } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.authorization) headers.authorization = this.authorization;
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: init.body,
        duplex: init.duplex,
      } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `Cannot reach the webjobs host at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
    }
    if (response.status === 401) {
      throw new CliError(
        "Authentication failed: set WEBJOBS_USERNAME and WEBJOBS_PASSWORD, or WEBJOBS_TOKEN (or pass --user/--password or --token).",
      );
    }
    if (response.status >= 400) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new CliError(`${message || response.statusText} (HTTP ${response.status})`);
    }
    return response;
  }

  async json<T>(method: string, path: string, init?: Parameters<ApiClient["request"]>[2]): Promise<T> {
    const response = await this.request(method, path, init);
    return (await response.json()) as T;
  }

  /** Follows a log over Server-Sent Events, calling `onLine` for each line, until the `end` event or the stream closes. */
  async followLog(path: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (this.authorization) headers.authorization = this.authorization;
    const response = await this.request("GET", path, { headers });
    if (!response.body) return;
    let ended = false;
    const parser = createParser({
      onEvent: (event) => {
        if (event.event === "end") ended = true;
        else onLine(event.data);
      },
    });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    signal?.addEventListener("abort", () => void reader.cancel(), { once: true });
    while (!ended) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    await reader.cancel().catch(() => undefined);
  }
}

export const jobCollection = (type: string) => `/api/${type}webjobs`;

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export interface LogLine {
  kind: string;
  text: string;
}

/** Splits a Kudu log line (`[date > instance: KIND] text`) into its kind and text. */
export function parseLogLine(line: string): LogLine {
  const match = /^\[[^\]]*? > [^\]]*?: (SYS INFO|SYS WARN|SYS ERR |INFO|WARN|ERR )\] ?(.*)$/.exec(line);
  return match ? { kind: match[1].trim(), text: match[2] } : { kind: "INFO", text: line };
}

/**
 * Prints a log line for a human: the job's stdout lines to stdout, its stderr lines to stderr,
 * the host's own lines to stderr marked with '»'. With `raw`, the Kudu line as is, to stdout.
 */
export function printLogLine(line: string, raw: boolean): void {
  if (raw) {
    process.stdout.write(line + "\n");
    return;
  }
  const { kind, text } = parseLogLine(line);
  if (kind.startsWith("SYS")) process.stderr.write(`» ${text}\n`);
  else if (kind === "ERR") process.stderr.write(text + "\n");
  else process.stdout.write(text + "\n");
}
