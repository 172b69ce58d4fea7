// webjobs-sdk: functions triggered by Azure Storage queues, blobs and timers (Azure Functions v4 model).
import { app, registry, setStarter } from "./app.ts";
import { Runtime } from "./runtime/runtime.ts";

let runtime: Runtime | null = null;
setStarter(() => {
  runtime ??= new Runtime(registry);
  runtime.start();
});

export { app };
export { input, output } from "./bindings.ts";
export {
  InvocationContext,
  type InvocationContextInit,
  type LogLevel,
  type RetryContext,
} from "./context.ts";
export { SdkError, SdkErrorCode } from "./errors.ts";
export type * from "./types.ts";
