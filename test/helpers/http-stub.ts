// Misbehaving HTTP servers on loopback: one that answers 500, one that never answers, and a webhook receiver.
// These are deliberate fakes: a real Pushgateway or chat service cannot be made to fail on demand, and failing
// on demand is what the tests that use them are about.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request the stub received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stub server and what it received. */
export interface HttpStub {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** How the stub answers the n-th request (1-based): a status code, or 'hang' to never answer. */
export type StubBehaviour = (n: number, request: ReceivedRequest) => number | 'hang';

/** Starts a stub on 127.0.0.1 with the given behaviour. */
export async function startHttpStub(behaviour: StubBehaviour): Promise<HttpStub> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const answer = behaviour(requests.length, received);
      if (answer === 'hang') return; // keep the socket open and say nothing
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end(answer >= 400 ? `stub error ${answer}\n` : 'ok\n');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A server that answers every request with HTTP 500. */
export const failing500 = (): Promise<HttpStub> => startHttpStub(() => 500);
/** A server that accepts connections and never answers. */
export const neverAnswers = (): Promise<HttpStub> => startHttpStub(() => 'hang');
/** A webhook receiver that answers 200 to everything. */
export const webhookReceiver = (): Promise<HttpStub> => startHttpStub(() => 200);
