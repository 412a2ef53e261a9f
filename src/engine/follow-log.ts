// Follows a growing log file and hands over complete lines (for --verbose), without holding the writer up.
import { open } from 'node:fs/promises';

/** Polls `file` every `intervalMs` and calls `onLine` per new line; `stop()` flushes the rest. */
export function followLog(file: string, onLine: (line: string) => void, intervalMs = 200): { stop(): Promise<void> } {
  let offset = 0;
  let partial = '';
  let busy: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) return;
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const lines = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (!line.startsWith('[rearguard ')) onLine(line);
      }
    } finally {
      await handle.close();
    }
  };
  const timer = setInterval(() => {
    busy = busy.then(poll, poll);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await busy.catch(() => undefined);
      await poll().catch(() => undefined);
      if (partial) onLine(partial);
    },
  };
}
