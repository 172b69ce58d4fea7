import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Logger } from "pino";
import { HookEvent, type HookRecord, type RunRecord, type Store } from "../store/types.ts";

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Delivers Kudu's `TriggeredJobFinished` web hooks: when a run ends, its JSON is POSTed to every
 * subscribed URL. Deliveries run in the background, never slow a run down, and their outcome is
 * kept on the hook (`last_status`, `last_datetime`, `last_reason`).
 */
export class WebHooks {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Sends `body` (the run JSON) to every hook of the event; returns at once. */
  notify(run: RunRecord, body: unknown, event: HookEvent = HookEvent.TriggeredJobFinished): void {
    const delivery = this.deliverAll(run, body, event).catch((error: unknown) =>
      this.log.warn({ err: error }, "web hook delivery failed"),
    );
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  /** Waits for deliveries in flight (host shutdown; each is bounded by its timeout). */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async deliverAll(run: RunRecord, body: unknown, event: HookEvent): Promise<void> {
    const hooks = await this.store.listHooks(event);
    await Promise.all(hooks.map((hook) => this.deliver(hook, run, body)));
  }

  private async deliver(hook: HookRecord, run: RunRecord, body: unknown): Promise<void> {
    let status: string;
    let reason: string | null = null;
    try {
      const code = await post(hook.url, JSON.stringify(body), hook.insecureSsl);
      status = String(code);
      if (code < 200 || code >= 300) reason = `HTTP ${code}`;
    } catch (error) {
      status = "error";
      reason = (error as Error).message;
    }
    if (reason)
      this.log.warn({ hook: hook.url, job: run.jobName, run: run.id, reason }, "web hook delivery failed");
    await this.store.recordHookDelivery(hook.id, status, reason, new Date());
  }
}

/** POSTs JSON with node:http(s), which (unlike fetch) can skip certificate checks for Kudu's `insecure_ssl`. */
function post(url: string, json: string, insecureSsl: boolean): Promise<number> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(json),
          "user-agent": "webjobs",
        },
        timeout: DELIVERY_TIMEOUT_MS,
        ...(target.protocol === "https:" ? { rejectUnauthorized: !insecureSsl } : {}),
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    request.on("timeout", () =>
      request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)),
    );
    request.on("error", reject);
    request.end(json);
  });
}
