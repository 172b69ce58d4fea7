import { useEffect, useRef, useState } from "preact/hooks";
import { api, type LiveEvent } from "./api.ts";

type Listener = (event: LiveEvent | "reconnected") => void;

/**
 * One `GET /api/events` stream for the whole page, opened while some view listens and closed when
 * the last one goes (or the page is left). After a reconnection every listener refetches, since
 * events may have been missed in between.
 */
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let lostConnection = false;

function open(): void {
  source = new EventSource("/api/events");
  const dispatch = (message: MessageEvent<string>) => {
    const event = JSON.parse(message.data) as LiveEvent;
    for (const listener of [...listeners]) listener(event);
  };
  for (const kind of ["run", "job", "continuous", "invocation"] satisfies LiveEvent["kind"][]) {
    source.addEventListener(kind, dispatch);
  }
  source.onerror = () => {
    lostConnection = true;
  };
  source.onopen = () => {
    if (!lostConnection) return;
    lostConnection = false;
    for (const listener of [...listeners]) listener("reconnected");
  };
}

function close(): void {
  source?.close();
  source = null;
}

addEventListener("pagehide", close);
addEventListener("pageshow", () => {
  if (listeners.size > 0 && !source) open();
});

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  if (!source) open();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) close();
  };
}

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Fetches again now (after an action of the user). */
  reload: () => void;
}

/**
 * JSON at `path`, fetched again when a live event concerns it (`affects`), at most one request at
 * a time; a change during a request triggers one more. The browser revalidates with the ETag, so
 * an unchanged answer costs a 304. Answers arriving after the view is gone are dropped.
 */
export function useResource<T>(path: string | null, affects: (event: LiveEvent) => boolean): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const affectsRef = useRef(affects);
  affectsRef.current = affects;
  const reloadRef = useRef<() => void>(() => undefined);

  useEffect(() => {
    setData(undefined);
    setError(undefined);
    if (!path) return;
    let alive = true;
    let inFlight = false;
    let again = false;
    const controller = new AbortController();
    const load = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      try {
        const value = await api<T>(path, { signal: controller.signal });
        if (alive) {
          setData(value);
          setError(undefined);
        }
      } catch (caught) {
        if (alive) setError(caught as Error);
      } finally {
        inFlight = false;
        if (again && alive) {
          again = false;
          void load();
        }
      }
    };
    reloadRef.current = () => void load();
    void load();
    const unsubscribe = subscribe((event) => {
      if (event === "reconnected" || affectsRef.current(event)) void load();
    });
    return () => {
      alive = false;
      controller.abort();
      unsubscribe();
    };
  }, [path]);

  return { data, error, reload: () => reloadRef.current() };
}

/** Re-renders every `ms` (live durations of running runs, "5 min ago"). */
export function useTick(ms: number, active = true): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
  return now;
}
