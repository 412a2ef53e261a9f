// A TCP proxy on loopback for fault tests: cut a connection after N bytes, or slow it down.
import net from 'node:net';

/** How the proxy treats client → server traffic. */
export interface TcpProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Destroy both sides of the first connection that has sent this many bytes to the server. */
  cutAfterBytes?: number;
  /** Forward at most this many bytes per second per connection (client → server). */
  bytesPerSecond?: number;
}

/** A running proxy. */
export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** True once a connection was cut by `cutAfterBytes`. */
  wasCut(): boolean;
  /** Cuts every open connection now (both sides see a reset). */
  cutAll(): void;
  stop(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 at a free port. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let cut = false;
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(options.targetPort, options.targetHost ?? '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (options.cutAfterBytes !== undefined && !cut && sent >= options.cutAfterBytes) {
        cut = true;
        // A hard cut: the bytes of this chunk never arrive, both sides see the connection drop.
        client.resetAndDestroy();
        upstream.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
      if (options.bytesPerSecond) {
        client.pause();
        setTimeout(() => client.resume(), Math.ceil((chunk.length / options.bytesPerSecond) * 1000));
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => accepted,
    wasCut: () => cut,
    cutAll() {
      cut = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
