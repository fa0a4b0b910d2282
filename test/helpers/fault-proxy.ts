/**
 * A fault-injecting HTTP proxy between the tool and s3rver, on 127.0.0.1,
 * for what the server cannot do itself: answer 403 or 500, return a wrong
 * ETag, drop the connection in the middle of a request body or of a
 * response. Each request is matched against the rules in order; the first
 * whose `match` accepts it (and that has uses left) decides.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy saw of a request. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A fault. */
export type Fault =
  | { kind: 'status'; status: number; code: string }
  | { kind: 'wrong-etag' }
  /** Forward, but cut both connections once this many body bytes went through (the server sees a body cut short). */
  | { kind: 'drop-request'; afterBytes: number }
  /** Forward, then close the connection after this many response body bytes. */
  | { kind: 'drop-response'; afterBytes: number };

export interface FaultRule {
  match: (r: SeenRequest) => boolean;
  fault: Fault;
  /** How many requests it applies to (default: all). */
  times?: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Every request, in arrival order. */
  readonly seen: SeenRequest[];
  /** Requests a rule applied to. */
  readonly faulted: SeenRequest[];
  rules: FaultRule[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number, rules: FaultRule[] = []): Promise<FaultProxy> {
  const seen: SeenRequest[] = [];
  const faulted: SeenRequest[] = [];
  const proxy: FaultProxy = { endpoint: '', seen, faulted, rules, close: async () => {} };
  const uses = new Map<FaultRule, number>();
  const server = http.createServer((req, res) => {
    const r: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    seen.push(r);
    const rule = proxy.rules.find((x) => (x.times === undefined || (uses.get(x) ?? 0) < x.times) && x.match(r));
    if (rule) {
      uses.set(rule, (uses.get(rule) ?? 0) + 1);
      faulted.push(r);
    }
    const fault = rule?.fault;
    if (fault?.kind === 'status') {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected ${fault.code}</Message><RequestId>fault</RequestId></Error>`);
      });
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const headers = { ...upRes.headers };
      if (fault?.kind === 'wrong-etag' && headers.etag) headers.etag = '"00000000000000000000000000000000"';
      res.writeHead(upRes.statusCode ?? 502, headers);
      if (fault?.kind === 'drop-response') {
        let n = 0;
        upRes.on('data', (b: Buffer) => {
          const room = fault.afterBytes - n;
          n += b.length;
          if (room > 0) res.write(b.subarray(0, room));
          if (n >= fault.afterBytes) {
            upRes.destroy();
            res.socket?.destroy();
          }
        });
        return;
      }
      upRes.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    if (fault?.kind === 'drop-request') {
      let n = 0;
      req.on('data', (b: Buffer) => {
        const room = fault.afterBytes - n;
        n += b.length;
        if (room > 0) up.write(b.subarray(0, room));
        if (n >= fault.afterBytes) {
          up.destroy();
          req.socket.destroy();
        }
      });
      return;
    }
    req.pipe(up);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
