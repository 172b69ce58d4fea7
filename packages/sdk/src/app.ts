import { checkQueueName, readInt, readString } from "./options.ts";
import type { RegisteredFunction, TriggerSpec } from "./registry.ts";
import { FunctionRegistry } from "./registry.ts";
import type {
  FunctionHandler,
  StorageBlobTriggerOptions,
  StorageQueueTriggerOptions,
  TimerTriggerOptions,
} from "./types.ts";
import { hasExpressions } from "./binding-expressions.ts";
import { SdkError } from "./errors.ts";

/** The functions of this process. */
export const registry = new FunctionRegistry();

let startScheduled = false;
let starter: (() => void) | null = null;

/**
 * The runtime registers itself here (index.ts imports it), so `app` stays free of I/O and can be used
 * in unit tests without starting anything when `WEBJOBS_SDK_NO_START` is set.
 */
export function setStarter(start: () => void): void {
  starter = start;
}

/**
 * Registering is enough: the first registration schedules the start for after the job file's
 * top-level code (a macrotask), so every function of the file is known when listening begins.
 */
function scheduleStart(): void {
  if (startScheduled || process.env.WEBJOBS_SDK_NO_START) return;
  startScheduled = true;
  setTimeout(() => starter?.(), 0);
}

function register(name: string, trigger: TriggerSpec, options: TriggerSpec["options"]): void {
  const where = `app.${trigger.type === "queue" ? "storageQueue" : trigger.type === "blob" ? "storageBlob" : "timer"}('${name}')`;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(name)) {
    throw new SdkError(
      "options",
      `${where}: the name must start with a letter and hold letters, digits, - and _`,
    );
  }
  if (typeof options.handler !== "function") {
    throw new SdkError("options", `${where}: handler must be a function`);
  }
  const timeout: unknown = options.timeout;
  const fn: RegisteredFunction = {
    name,
    trigger,
    handler: options.handler as FunctionHandler,
    extraInputs: options.extraInputs ?? [],
    extraOutputs: options.extraOutputs ?? [],
  };
  if (options.return) fn.returnOutput = options.return;
  if (options.singleton !== undefined) fn.singleton = options.singleton;
  if (timeout !== undefined) fn.timeout = readInt(where, "timeout", timeout, 0, 1, 2 ** 31 - 1);
  registry.add(fn);
  scheduleStart();
}

export const app = {
  /** A function run for each message added to `queueName`. */
  storageQueue(name: string, options: StorageQueueTriggerOptions): void {
    const where = `app.storageQueue('${name}')`;
    const queueName = readString(where, "queueName", options.queueName);
    if (!hasExpressions(queueName)) checkQueueName(where, queueName);
    register(name, { type: "queue", options: { ...options } }, options);
  },
  /** A function run once for each new or changed blob matching `path`. */
  storageBlob(name: string, options: StorageBlobTriggerOptions): void {
    readString(`app.storageBlob('${name}')`, "path", options.path);
    register(name, { type: "blob", options: { ...options } }, options);
  },
  /** A function run on a schedule: 6-field NCRONTAB or `hh:mm:ss`. */
  timer(name: string, options: TimerTriggerOptions): void {
    readString(`app.timer('${name}')`, "schedule", options.schedule);
    register(name, { type: "timer", options: { ...options } }, options);
  },
};
