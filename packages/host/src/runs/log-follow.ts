import { open, stat } from "node:fs/promises";

/**
 * Follows a log file as it grows (like `tail -f`), handing over whole lines only, until
 * `isDone()` says the writer has finished and everything has been read, or the signal aborts.
 * Polling works the same for any writer, this process or another one. A file that shrinks or
 * is replaced (rotation) is read again from its start.
 */
export async function followFile(
  file: string,
  options: {
    fromStart: boolean;
    isDone: () => boolean | Promise<boolean>;
    pollMs?: number;
    signal?: AbortSignal;
  },
  onChunk: (text: string) => void,
): Promise<void> {
  const pollMs = options.pollMs ?? 200;
  let position: number | null = options.fromStart ? 0 : null;
  let inode: number | null = null;
  let partial = "";
  const decoder = new TextDecoder();

  const readMore = async (): Promise<void> => {
    const info = await stat(file).catch(() => null);
    if (!info) return;
    if (position === null) position = info.size;
    if ((inode !== null && info.ino !== inode) || info.size < position) {
      position = 0;
      partial = "";
    }
    inode = info.ino;
    if (info.size <= position) return;
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(Math.min(info.size - position, 1024 * 1024));
      while (position < info.size) {
        const { bytesRead } = await handle.read(
          buffer,
          0,
          Math.min(buffer.length, info.size - position),
          position,
        );
        if (bytesRead === 0) break;
        position += bytesRead;
        const text = partial + decoder.decode(buffer.subarray(0, bytesRead), { stream: true });
        const lastNewline = text.lastIndexOf("\n");
        partial = text.slice(lastNewline + 1);
        if (lastNewline >= 0) onChunk(text.slice(0, lastNewline + 1));
      }
    } finally {
      await handle.close();
    }
  };

  for (;;) {
    if (options.signal?.aborted) return;
    // Read the done flag first: whatever was written before it turned true is read below.
    const done = await options.isDone();
    await readMore();
    if (done) {
      if (partial) onChunk(partial);
      return;
    }
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener("abort", onAbort);
        resolve();
      }, pollMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
