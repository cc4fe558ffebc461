import { ConfigError } from '../core/errors.js';
import { didCommEndpoint } from '../protocol/did/keysFromDocument.js';
import { resolvePeerDid2 } from '../protocol/did/peer2.js';
import type { Vault } from './vault/vault.js';

/*
 * Her published endpoints (decision 0018, issue 17 item 5): each relationship has its own
 * did:peer:2, whose service endpoint (`http://127.0.0.1:<port>/didcomm/<route>`) was fixed when
 * it was made. A did:peer:2 cannot be republished, so serving on another port would leave every
 * such company writing to a port nobody answers, silently. `kith serve` refuses that instead.
 */

/** The origins her live relationships' DIDs publish, each with how many relationships use it. */
export function publishedOrigins(vault: Vault): Map<string, number> {
  const origins = new Map<string, number>();
  for (const relationship of vault.relationships.list()) {
    if (relationship.state === 'cut_off') continue; // nothing is sent to her there any more
    let endpoint: string | undefined;
    try {
      endpoint = didCommEndpoint(resolvePeerDid2(relationship.myDid));
    } catch {
      continue; // not a did:peer:2 of hers with an endpoint: nothing published to contradict
    }
    if (endpoint === undefined || !URL.canParse(endpoint)) continue;
    const origin = new URL(endpoint).origin;
    origins.set(origin, (origins.get(origin) ?? 0) + 1);
  }
  return origins;
}

/** The port her relationships already publish, when they all publish one on 127.0.0.1; else undefined. */
export function publishedPort(vault: Vault): number | undefined {
  const origins = [...publishedOrigins(vault).keys()];
  if (origins.length !== 1) return undefined;
  const url = new URL(origins[0]!);
  return url.hostname === '127.0.0.1' && url.port !== '' ? Number(url.port) : undefined;
}

/**
 * Refuses to serve on `port` when a live relationship publishes another endpoint.
 * @throws ConfigError config.endpoint_mismatch, naming the port asked for, each published
 *   endpoint with how many relationships use it, and the fix
 */
export function checkServePort(vault: Vault, port: number): void {
  const mine = `http://127.0.0.1:${port}`;
  const others = [...publishedOrigins(vault)].filter(([origin]) => origin !== mine);
  if (others.length === 0) return;
  const named = others.map(([origin, count]) => `${origin}/didcomm (${count} relationship${count === 1 ? '' : 's'})`).join(', ');
  const fix = others.length === 1 && new URL(others[0]![0]).port !== '' ? `serve with --port ${new URL(others[0]![0]).port} (or omit --port)` : 'serve on the port they publish';
  throw new ConfigError('config.endpoint_mismatch', `--port ${port} differs from the endpoint published in your relationships' DIDs: ${named}. Companies would write where nobody answers: ${fix}`, {
    details: { askedPort: port, published: others.map(([origin, relationships]) => ({ endpoint: `${origin}/didcomm`, relationships })) },
  });
}
