import type { RegisteredFunction } from "../registry.ts";

/** A trigger's listener: started once, stopped once with a deadline for running invocations. */
export interface Listener {
  readonly fn: RegisteredFunction;
  /** The queue, blob path or schedule, for the list of functions. */
  readonly source: string;
  start(): void;
  stop(deadline: number): Promise<void>;
}
