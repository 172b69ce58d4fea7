import { useEffect, useMemo, useRef, useState } from "preact/hooks";

const MAX_LINES = 20_000;

/**
 * The host writes absolute URLs from its public URL, which is not always the address this page was
 * opened at (a host behind a proxy, or reached by another name): fetch them on this page's origin.
 */
const onThisOrigin = (url: string) => {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
};

/**
 * A log, followed live over Server-Sent Events while `live` (the stream ends by itself when the
 * run does, and is closed when the view goes away). stderr lines are marked; search filters.
 */
export function LogView({ url, live, downloadUrl }: { url: string; live: boolean; downloadUrl: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const [visible, setVisible] = useState(true);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const [copied, setCopied] = useState(false);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    const source = new EventSource(onThisOrigin(url));
    let buffer: string[] = [];
    let timer = 0;
    const flush = () => {
      timer = 0;
      const add = buffer;
      buffer = [];
      setLines((old) => [...old, ...add].slice(-MAX_LINES));
    };
    source.onmessage = (message) => {
      buffer.push(message.data);
      // Batch bursts into one render per frame.
      if (!timer) timer = requestAnimationFrame(flush);
    };
    source.addEventListener("end", () => source.close());
    source.onerror = () => {
      // A finished run's log ends the stream: do not reconnect and read it all again.
      if (!live) source.close();
    };
    return () => {
      source.close();
      if (timer) cancelAnimationFrame(timer);
    };
  }, [url]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow, visible]);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return needle ? lines.filter((line) => line.toLowerCase().includes(needle)) : lines;
  }, [lines, search]);

  const copy = async () => {
    await navigator.clipboard.writeText(downloadUrl).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };

  return (
    <section class="log" aria-labelledby="log-title">
      <div class="toolbar">
        <h2 id="log-title">Log</h2>
        <button type="button" aria-expanded={visible} onClick={() => setVisible(!visible)}>
          {visible ? "Hide log" : "Show log"}
        </button>
        <button type="button" aria-pressed={follow} onClick={() => setFollow(!follow)}>
          {follow ? "Pause" : "Follow"}
        </button>
        <input
          type="search"
          aria-label="Search the log"
          placeholder="Search the log"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <a href={onThisOrigin(downloadUrl)} download>
          Download log
        </a>
        <button type="button" onClick={copy}>
          {copied ? "Copied" : "Copy URL"}
        </button>
        <span class="visually-hidden" aria-live="polite">
          {copied ? "Log URL copied" : ""}
        </span>
      </div>
      {visible && (
        <pre
          id="log"
          ref={box}
          tabIndex={0}
          aria-label="Log lines"
          onScroll={(e) => {
            const el = e.currentTarget;
            const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
            if (!atEnd && follow) setFollow(false);
          }}
        >
          {shown.map((line, i) => (
            <div key={i} class={/: (SYS )?ERR\s?\]/.test(line) ? "line stderr" : "line"}>
              {line}
            </div>
          ))}
          {shown.length === 0 && <div class="muted">{search ? "No line matches." : "(empty)"}</div>}
        </pre>
      )}
    </section>
  );
}
