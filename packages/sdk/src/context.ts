import { randomUUID } from "node:crypto";
import { format } from "node:util";
import type { FunctionInput, FunctionOutput } from "./types.ts";

export type LogLevel = "trace" | "debug" | "information" | "warning" | "error";

export interface InvocationContextInit {
  invocationId?: string;
  functionName?: string;
  triggerMetadata?: Record<string, unknown>;
  retryContext?: RetryContext;
  /** Where log lines go; by default to the console. */
  logHandler?: (level: LogLevel, message: string) => void;
  /** Ours: aborted when the job shuts down or a singleton lease is lost. */
  signal?: AbortSignal;
}

export interface RetryContext {
  retryCount: number;
  maxRetryCount: number;
}

function nameOf(item: FunctionInput | FunctionOutput | string): string {
  return typeof item === "string" ? item : item.name;
}

/**
 * What a handler receives beside its trigger input, as in `@azure/functions` v4. Constructible in unit
 * tests: `new InvocationContext({ functionName: "f" })`.
 */
export class InvocationContext {
  readonly invocationId: string;
  readonly functionName: string;
  readonly triggerMetadata: Record<string, unknown>;
  readonly retryContext?: RetryContext;
  /** Ours: aborted when the invocation should stop early (shutdown, lost singleton lease). */
  readonly signal: AbortSignal;
  readonly extraInputs: { get(input: FunctionInput | string): unknown };
  readonly extraOutputs: {
    set(output: FunctionOutput | string, value: unknown): void;
    get(output: FunctionOutput | string): unknown;
  };
  readonly #logHandler: (level: LogLevel, message: string) => void;

  constructor(init: InvocationContextInit = {}, inputs = new Map<string, unknown>()) {
    this.invocationId = init.invocationId ?? randomUUID();
    this.functionName = init.functionName ?? "unknown";
    this.triggerMetadata = init.triggerMetadata ?? {};
    if (init.retryContext) this.retryContext = init.retryContext;
    this.signal = init.signal ?? new AbortController().signal;
    this.#logHandler = init.logHandler ?? ((level, message) => console.log(`[${level}] ${message}`));
    this.extraInputs = { get: (input) => inputs.get(nameOf(input)) };
    const outputs = new Map<string, unknown>();
    this.extraOutputs = {
      set: (output, value) => void outputs.set(nameOf(output), value),
      get: (output) => outputs.get(nameOf(output)),
    };
  }

  log(...args: unknown[]): void {
    this.#logHandler("information", format(...args));
  }
  trace(...args: unknown[]): void {
    this.#logHandler("trace", format(...args));
  }
  debug(...args: unknown[]): void {
    this.#logHandler("debug", format(...args));
  }
  info(...args: unknown[]): void {
    this.#logHandler("information", format(...args));
  }
  warn(...args: unknown[]): void {
    this.#logHandler("warning", format(...args));
  }
  error(...args: unknown[]): void {
    this.#logHandler("error", format(...args));
  }
}
