import { ConfigError } from '../core/errors.js';
import { didCommEndpoint } from '../protocol/did/keysFromDocument.js';
import { resolvePeerDid2 } from '../protocol/did/peer2.js';
import { urlToDidWeb } from '../protocol/did/web.js';
import type { CompanyHome } from './home.js';

/*
 * The company's published endpoint, and whether `serve` may listen where it was asked to
 * (decision 0018, issue 17 item 5). Its DID publishes `<publicUrl>/didcomm`: a did:peer:2 carries
 * the endpoint in the DID itself, and a did:web is named after the public URL's host and port.
 * Neither can be republished under another port without becoming another DID that every customer
 * would have to learn again, so a port that contradicts the published endpoint is refused, naming
 * both, rather than served where nobody will ever write.
 */

const trimmed = (url: string): string => url.replace(/\/+$/, '');

/** The DIDComm endpoint its DID publishes (the did:web document is built from publicUrl at start). */
export function publishedEndpoint(home: CompanyHome): string {
  if (home.didDocument) return didCommEndpoint(home.didDocument) ?? `${trimmed(home.config.publicUrl)}/didcomm`;
  return didCommEndpoint(resolvePeerDid2(home.identity.did)) ?? `${trimmed(home.config.publicUrl)}/didcomm`;
}

export interface PortRequest {
  /** The port config.json names (what `init --port` wrote). */
  configuredPort: number;
  /** The port `serve --port` asked for, if given. */
  askedPort: number | undefined;
}

/**
 * Refuses a start whose DID and config disagree, or whose port contradicts the published endpoint.
 * A public URL of the form init derives from the port (`http://127.0.0.1:<port>`) means this
 * process itself is the endpoint, so the port must be that one; any other public URL is reached
 * through something (a proxy, a name) the port says nothing about, and the endpoint check after
 * listening judges it instead.
 * @throws ConfigError config.endpoint_mismatch
 */
export function checkServePort(home: CompanyHome, request: PortRequest): void {
  const publicUrl = trimmed(home.config.publicUrl);
  const published = publishedEndpoint(home);
  if (published !== `${publicUrl}/didcomm`) {
    throw new ConfigError('config.endpoint_mismatch', `The company DID publishes ${published} but config.json says publicUrl ${home.config.publicUrl}: set publicUrl back to ${published.replace(/\/didcomm$/, '')} (a DID cannot change its endpoint)`, {
      details: { published, publicUrl: home.config.publicUrl },
    });
  }
  if (home.didDocument && urlToDidWeb(publicUrl) !== home.identity.did) {
    throw new ConfigError('config.endpoint_mismatch', `The company DID ${home.identity.did} is not the did:web of publicUrl ${home.config.publicUrl}: set publicUrl back to the URL it was made for`, {
      details: { published, publicUrl: home.config.publicUrl },
    });
  }
  const derived = publicUrl === `http://127.0.0.1:${request.configuredPort}`;
  if (derived && request.askedPort !== undefined && request.askedPort !== request.configuredPort) {
    throw new ConfigError(
      'config.endpoint_mismatch',
      `--port ${request.askedPort} differs from the endpoint published in the company DID, ${published}: serve on port ${request.configuredPort} (omit --port), ` +
        `or, if something forwards ${publicUrl} to port ${request.askedPort} on purpose, pass --no-endpoint-check`,
      { details: { askedPort: request.askedPort, published } },
    );
  }
}
