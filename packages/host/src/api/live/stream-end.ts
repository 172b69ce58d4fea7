import type { FastifyRequest } from "fastify";

/**
 * Calls `onEnd` once, when the client of a long-lived response (a live log, the event stream)
 * goes away or the server closes, and returns a function that forgets both listeners. Every open
 * stream listens to the server's closing signal: a listener left behind by each finished stream
 * would pile up for the host's lifetime.
 */
export function onStreamEnd(request: FastifyRequest, onEnd: () => void): () => void {
  const signal = request.server.closingSignal;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    forget();
    onEnd();
  };
  const forget = () => {
    request.raw.off("close", end);
    signal.removeEventListener("abort", end);
  };
  if (signal.aborted) {
    queueMicrotask(end);
    return forget;
  }
  request.raw.once("close", end);
  signal.addEventListener("abort", end, { once: true });
  return forget;
}
