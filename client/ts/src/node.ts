import { createConnectTransport } from "@connectrpc/connect-node";

import { clientsOn, interceptorsFor, type Baton, type BatonOptions } from "./clients.js";

/**
 * Returns typed clients for every Baton service over Node's own HTTP stack
 * (@connectrpc/connect-node): HTTP/2 without TLS (h2c) for http:// URLs, as Baton serves it.
 * createBaton works in Node too; this one keeps a connection open and multiplexes streams on it.
 */
export function createNodeBaton(opts: BatonOptions & { httpVersion?: "1.1" | "2" }): Baton {
  const transport =
    opts.transport ??
    createConnectTransport({
      baseUrl: opts.baseUrl,
      httpVersion: opts.httpVersion ?? "2",
      interceptors: interceptorsFor(opts),
    });
  return clientsOn(transport);
}

export * from "./index.js";
