import { AUTH } from "./host.ts";

export interface LiveEventStream {
  /** Events received so far, in order: the SSE `event:` name and its parsed `data:`. */
  events: { event: string; data: Record<string, unknown> }[];
  close: () => Promise<void>;
}

/** Reads a host's `GET /api/events` in the background, collecting the events. */
export function listenToEvents(url: string): LiveEventStream {
  const abort = new AbortController();
  const events: LiveEventStream["events"] = [];
  const done = (async () => {
    const response = await fetch(`${url}/api/events`, {
      headers: { authorization: AUTH },
      signal: abort.signal,
    });
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return { events, close: async () => (abort.abort(), await done) };
}
