import type {
  FunctionHandler,
  FunctionInput,
  FunctionOutput,
  StorageBlobTriggerOptions,
  StorageQueueTriggerOptions,
  TimerTriggerOptions,
} from "./types.ts";

export type TriggerSpec =
  | { type: "queue"; options: StorageQueueTriggerOptions }
  | { type: "blob"; options: StorageBlobTriggerOptions }
  | { type: "timer"; options: TimerTriggerOptions };

export interface RegisteredFunction {
  name: string;
  trigger: TriggerSpec;
  handler: FunctionHandler;
  returnOutput?: FunctionOutput;
  extraInputs: FunctionInput[];
  extraOutputs: FunctionOutput[];
  singleton?: boolean | string;
  /** Ms after which an invocation is failed and its signal aborted; none by default. */
  timeout?: number;
}

type Listener = (fn: RegisteredFunction) => void;

/** The functions a job file registered, in order; the runtime subscribes to later registrations. */
export class FunctionRegistry {
  readonly #functions = new Map<string, RegisteredFunction>();
  readonly #listeners: Listener[] = [];

  add(fn: RegisteredFunction): void {
    if (this.#functions.has(fn.name))
      throw new Error(`webjobs-sdk: a function named '${fn.name}' already exists`);
    this.#functions.set(fn.name, fn);
    for (const listener of this.#listeners) listener(fn);
  }

  list(): RegisteredFunction[] {
    return [...this.#functions.values()];
  }

  onAdd(listener: Listener): void {
    this.#listeners.push(listener);
  }
}
