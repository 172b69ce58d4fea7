import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { LiveEvents } from "./live-events.ts";

// Durations of running runs and schedules' next runs move with the clock, not with events: the
// tag also changes every 10 s, which bounds how stale a cached list can be.
const CLOCK_BUCKET_MS = 10_000;

/**
 * A list's ETag made from the live-event generation, so `If-None-Match` is answered before the
 * list is read or rendered. The host name is part of it because the JSON holds absolute URLs.
 */
export function generationEtag(live: LiveEvents, request: FastifyRequest, scope: string): string {
  const where = createHash("sha1")
    .update(`${request.protocol}://${request.host}${request.url}`)
    .digest("base64url");
  return `W/"${scope}-${where.slice(0, 10)}-${live.epoch}-${live.generation}-${Math.floor(Date.now() / CLOCK_BUCKET_MS)}"`;
}

/** Answers 304 when the client holds `etag`; returns true when it did. */
export function answeredNotModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  const header = request.headers["if-none-match"];
  if (!header || !header.split(",").some((tag) => tag.trim() === etag)) return false;
  void reply.code(304).header("etag", etag).header("cache-control", "no-cache").send();
  return true;
}

/** Sends JSON (a value, or its text already serialised) under a generation ETag. */
export function sendJsonWithEtag(reply: FastifyReply, etag: string, body: unknown): FastifyReply {
  return reply
    .header("etag", etag)
    .header("cache-control", "no-cache")
    .type("application/json; charset=utf-8")
    .send(typeof body === "string" ? body : JSON.stringify(body));
}
