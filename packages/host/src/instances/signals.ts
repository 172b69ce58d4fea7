import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "pino";

/**
 * Short messages between the instances of one cluster ("something changed, look at the store").
 * Notifications can be lost (a dropped connection): every consumer also polls the store slowly,
 * so a signal only makes things happen sooner, never decides anything.
 */
export interface ClusterSignals {
  /** Tells every instance, this one included, that something changed. Payload: a short string (< 1 KB). */
  notify(channel: string, payload: string): Promise<void>;
  /** Calls `listener` for every notify on `channel` from any instance. Returns an unsubscribe function. */
  on(channel: string, listener: (payload: string) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; ours is far below it, to stay a signal. */
const MAX_PAYLOAD_BYTES = 1024;
const CHANNEL = /^[a-z][a-z0-9_]{0,40}$/;
/** Waits between reconnection attempts, growing to the last one. */
const RECONNECT_MS = [100, 500, 1000, 2000, 5000];

function checkMessage(channel: string, payload?: string): void {
  if (!CHANNEL.test(channel))
    throw new Error(`Invalid signal channel '${channel}' (lowercase letters, digits, _)`);
  if (payload !== undefined && Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
    throw new Error(`Signal payload on '${channel}' is over ${MAX_PAYLOAD_BYTES} bytes`);
  }
}

/** Listeners per channel; a throwing listener does not stop the others. */
class Listeners {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  constructor(private readonly log: Logger) {}

  add(channel: string, listener: (payload: string) => void): () => void {
    const safe = (payload: string) => {
      try {
        listener(payload);
      } catch (error) {
        this.log.warn({ err: error, channel }, "a signal listener failed");
      }
    };
    this.emitter.on(channel, safe);
    return () => void this.emitter.off(channel, safe);
  }

  emit(channel: string, payload: string): void {
    this.emitter.emit(channel, payload);
  }

  count(channel: string): number {
    return this.emitter.listenerCount(channel);
  }

  channels(): string[] {
    return this.emitter.eventNames().filter((name): name is string => typeof name === "string");
  }
}

/** One machine (SQLite): the only instance is this process, an in-process emitter is enough. */
export class LocalSignals implements ClusterSignals {
  private readonly listeners: Listeners;

  constructor(log: Logger) {
    this.listeners = new Listeners(log);
  }

  async notify(channel: string, payload: string): Promise<void> {
    checkMessage(channel, payload);
    // Asynchronous like a database round trip: a listener never runs inside the notifier's call.
    setImmediate(() => this.listeners.emit(channel, payload));
  }

  on(channel: string, listener: (payload: string) => void): () => void {
    checkMessage(channel);
    return this.listeners.add(channel, listener);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** Something that runs a query: the store's pool sends notifications. */
interface Notifier {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/**
 * Several instances on PostgreSQL: LISTEN on one dedicated connection (channel `webjobs_<name>`),
 * NOTIFY through the store's pool. A dropped listening connection is replaced, with a growing
 * wait, and listens again on every channel; what was notified meanwhile is lost (consumers poll).
 */
export class PgSignals implements ClusterSignals {
  private readonly listeners: Listeners;
  private client: pg.Client | null = null;
  private stopped = true;
  private attempts = 0;
  private retry: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  /** LISTENs go one at a time: pg warns (and pg 9 refuses) a query sent while another runs. */
  private listening: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly notifier: Notifier,
    private readonly log: Logger,
  ) {
    this.listeners = new Listeners(log);
  }

  async notify(channel: string, payload: string): Promise<void> {
    checkMessage(channel, payload);
    await this.notifier.query("SELECT pg_notify($1, $2)", [`webjobs_${channel}`, payload]);
  }

  on(channel: string, listener: (payload: string) => void): () => void {
    checkMessage(channel);
    const first = this.listeners.count(channel) === 0;
    const off = this.listeners.add(channel, listener);
    const client = this.client;
    if (first && client) {
      // A connection that replaced this one meanwhile listens on every channel as it opens.
      this.listening = this.listening.then(() =>
        this.client === client ? this.listen(client, channel) : undefined,
      );
    }
    return off;
  }

  /** Resolves once listening (or after the first failure: reconnection goes on in the background). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.connecting;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, null));
    client.on("notification", (message) => {
      if (!message.channel.startsWith("webjobs_")) return;
      this.listeners.emit(message.channel.slice("webjobs_".length), message.payload ?? "");
    });
    try {
      await client.connect();
      for (const channel of this.listeners.channels()) await this.listen(client, channel, true);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    if (this.attempts > 0) this.log.info("cluster signals: listening again");
    this.attempts = 0;
    this.client = client;
  }

  private async listen(client: pg.Client, channel: string, rethrow = false): Promise<void> {
    try {
      await client.query(`LISTEN "webjobs_${channel}"`);
    } catch (error) {
      if (rethrow) throw error;
      this.lost(client, error as Error);
    }
  }

  /** The listening connection failed or ended: replace it, unless stopping. */
  private lost(client: pg.Client, error: Error | null): void {
    if (this.client === client) this.client = null;
    client.removeAllListeners("end");
    client.end().catch(() => undefined);
    if (this.stopped || this.retry) return;
    const wait = RECONNECT_MS[Math.min(this.attempts, RECONNECT_MS.length - 1)]!;
    if (this.attempts === 0) {
      this.log.warn({ err: error ?? undefined }, "cluster signals: listening connection lost, reconnecting");
    }
    this.attempts++;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, wait);
    this.retry.unref();
  }
}

/** PostgreSQL signals when the store is PostgreSQL (`notifier` is its pool), else in-process ones. */
export function createClusterSignals(
  databaseUrl: string | undefined,
  notifier: Notifier | null,
  log: Logger,
): ClusterSignals {
  return databaseUrl && notifier ? new PgSignals(databaseUrl, notifier, log) : new LocalSignals(log);
}
