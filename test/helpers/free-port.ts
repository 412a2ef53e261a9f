// Loopback ports for the servers the tests start, and a start that survives its port being taken before its bind.
import net from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Thrown by a server's start when its port was taken between `freePort()` and its own bind. */
export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/** The words of sshd, PostgreSQL and Go servers (the Pushgateway) for a port someone else holds. */
export const PORT_TAKEN = /address already in use/i;

/**
 * Starts a server on a free port, and again on another one when the port it got was taken before the server bound
 * it: another test's server, or an outgoing connection's local port, may take it in between. That race belongs to
 * the test set-up, not to the code under test; any other failure of the start is thrown as it is.
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
    }
  }
}
