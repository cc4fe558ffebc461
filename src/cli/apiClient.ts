import { ApiError, KithError, type KithErrorCode } from '../core/errors.js';
import { ERROR_TABLE } from '../core/errorTable.js';
import { silentLogger } from '../core/log.js';
import { createPersonalAgent } from '../personal/createPersonalAgent.js';
import { readRunningAgent, vaultPath } from '../personal/home.js';
import { createLocalApi } from '../personal/http/localApi.js';
import { Vault } from '../personal/vault/vault.js';
import { newToken } from '../core/ids.js';
import { readSecret } from './common.js';

export const DEFAULT_PERSONAL_PORT = 7400;

/** The CLI's view of the local API: the same routes, whether the agent runs or not. */
export interface ApiClient {
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  close(): void;
}

type Send = (path: string, init: RequestInit) => Promise<Response>;

function clientOver(send: Send, host: string, token: string, onClose: () => void): ApiClient {
  return {
    async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, host };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await send(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const json = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
      if (!response.ok) {
        const code = json?.error?.code;
        if (code && code in ERROR_TABLE) {
          throw new KithError(code as KithErrorCode, json?.error?.message ?? code, json?.error?.details ? { details: json.error.details } : {});
        }
        throw new ApiError('api.bad_request', `HTTP ${response.status}`);
      }
      return json as T;
    },
    close: onClose,
  };
}

/**
 * Talks to the running `kith serve` of this home if there is one; otherwise unlocks the vault and
 * runs the same local API in this process, so every command works with the agent up or down.
 */
export async function openApiClient(home: string): Promise<ApiClient> {
  const running = readRunningAgent(home);
  if (running) {
    const host = `127.0.0.1:${running.port}`;
    return clientOver((path, init) => fetch(`${running.url}${path}`, init), host, running.token, () => undefined);
  }
  const passphrase = await readSecret('KITH_PASSPHRASE', 'Passphrase: ');
  const vault = Vault.open(vaultPath(home), passphrase);
  const port = Number(vault.settings.get('servePort') ?? DEFAULT_PERSONAL_PORT);
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => `http://127.0.0.1:${port}` });
  const token = newToken();
  const app = createLocalApi({ agent, token, port: () => port, maxMessageBytes: 256 * 1024, logger: silentLogger });
  return clientOver(async (path, init) => app.request(path, init), `127.0.0.1:${port}`, token, () => vault.close());
}
