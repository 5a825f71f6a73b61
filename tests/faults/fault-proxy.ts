/**
 * A TCP proxy in front of an embedded store, for faults the store itself cannot produce: the
 * store going away (every connection reset, new ones refused) after a given number of requests,
 * in the middle of whatever the client was doing, and coming back; or some requests answered
 * with an HTTP error the real service gives (S3's 503 SlowDown). The SDK talks to the proxy as
 * it would to the service, so retries, timeouts and error parsing are the SDK's own.
 */
import net from 'node:net';

/** An HTTP/1.1 request line at the start of a chunk or after the previous message. */
const REQUEST_LINE = /(?:^|\r\n)((?:GET|PUT|POST|DELETE|HEAD) \S+ HTTP\/1\.[01])\r\n/g;

export interface FaultProxy {
  /** http://127.0.0.1:port, to give the SDK as its endpoint. */
  readonly url: string;
  /** Requests that reached the proxy (forwarded or not). */
  readonly requests: number;
  /** Requests refused or answered by the proxy instead of the store. */
  readonly faulted: number;
  readonly isDown: boolean;
  /** The store goes away now: open connections are reset, new ones too. */
  down(): void;
  up(): void;
  /** The store goes away when the (n+1)-th request from now arrives (that request is lost). */
  downAfter(n: number): void;
  /**
   * The next `times` requests whose request line matches (after `skip` matching ones pass) are
   * answered with this HTTP status and body instead of reaching the store.
   */
  answer(options: { match: RegExp; times: number; skip?: number; status: number; reason: string; contentType: string; body: string }): void;
  /** Stops answering or refusing; the store is reachable again. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let isDown = false;
  let budget: number | undefined;
  let answer: { match: RegExp; times: number; skip: number; response: string } | undefined;
  let requests = 0;
  let faulted = 0;

  const goDown = (): void => {
    isDown = true;
    budget = undefined;
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };

  const server = net.createServer((client) => {
    if (isDown) {
      faulted++;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
        requests++;
        if (isDown || (budget !== undefined && budget-- <= 0)) {
          faulted++;
          goDown();
          return;
        }
        if (answer && answer.match.test(m[1]!)) {
          if (answer.skip > 0) {
            answer.skip--;
          } else if (answer.times > 0) {
            answer.times--;
            faulted++;
            // Answered at once; the rest of the request (its body) is not read: the connection closes.
            client.end(answer.response);
            upstream.destroy();
            return;
          }
        }
      }
      if (!upstream.destroyed) upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${address.port}`,
    get requests() {
      return requests;
    },
    get faulted() {
      return faulted;
    },
    get isDown() {
      return isDown;
    },
    down: goDown,
    up: () => {
      isDown = false;
    },
    downAfter: (n) => {
      budget = n;
    },
    answer: ({ match, times, skip = 0, status, reason, contentType, body }) => {
      const bytes = Buffer.byteLength(body);
      answer = { match, times, skip, response: `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n${body}` };
    },
    reset: () => {
      isDown = false;
      budget = undefined;
      answer = undefined;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** S3's answer when it sheds load; the SDK retries it, then gives up with a SlowDown error. */
export const S3_SLOW_DOWN = {
  status: 503,
  reason: 'Slow Down',
  contentType: 'application/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>',
};
