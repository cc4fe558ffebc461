import { join, resolve } from 'node:path';
import { ApiError, KithError, type KithErrorCode } from '../core/errors.js';
import { ERROR_TABLE } from '../core/errorTable.js';
import { silentLogger } from '../core/log.js';
import { createPersonalAgent } from '../personal/createPersonalAgent.js';
import { readRunningAgent, vaultFileId, vaultPath, type RunningAgentInfo } from '../personal/home.js';
import { prepare, routes, type CallArgs, type Route, type RouteResponse, type StatusView } from '../personal/http/apiContract.js';
import { createLocalApi } from '../personal/http/localApi.js';
import { Vault } from '../personal/vault/vault.js';
import { newToken } from '../core/ids.js';
import { readSecret } from './common.js';

export const DEFAULT_PERSONAL_PORT = 7400;

/** The CLI's view of the local API: the same routes, whether the agent runs or not. */
export interface ApiClient {
  /**
   * Calls a route of the contract (src/personal/http/apiContract.ts): its path parameters, body and
   * query are typed by the route, and so is the answer (JSON, or text for a text route).
   * @throws KithError the agent's error, by its code
   */
  call<R extends Route>(route: R, ...args: CallArgs<R>): Promise<RouteResponse<R>>;
  /** True when no `kith serve` runs and the API runs inside this command (no background loops). */
  readonly inProcess: boolean;
  close(): void;
}

type Send = (path: string, init: RequestInit) => Promise<Response>;
type ErrorJson = { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;

function failure(status: number, json: ErrorJson): KithError {
  const code = json?.error?.code;
  if (code && code in ERROR_TABLE) {
    return new KithError(code as KithErrorCode, json?.error?.message ?? code, json?.error?.details ? { details: json.error.details } : {});
  }
  return new ApiError('api.bad_request', `HTTP ${status}`);
}

function clientOver(send: Send, host: string, token: string, inProcess: boolean, onClose: () => void): ApiClient {
  const auth = { authorization: `Bearer ${token}`, host };
  return {
    inProcess,
    async call<R extends Route>(route: R, ...args: CallArgs<R>): Promise<RouteResponse<R>> {
      const prepared = prepare(route, ...args);
      const response = await send(prepared.url, { method: prepared.method, headers: { ...auth, ...prepared.headers }, ...(prepared.body === undefined ? {} : { body: prepared.body }) });
      if (!response.ok) throw failure(response.status, (await response.json().catch(() => undefined)) as ErrorJson);
      // The contract says what the route answers; the agent is ours, so its JSON is trusted here.
      if (route.answer === 'text') return (await response.text()) as RouteResponse<R>;
      if (route.answer === 'bytes') return new Uint8Array(await response.arrayBuffer()) as RouteResponse<R>;
      return (await response.json().catch(() => undefined)) as RouteResponse<R>;
    },
    close: onClose,
  };
}

/** What `<home>/agent.json` leads to. */
export type RunningAgentCheck =
  | { kind: 'none' }
  /** This home's agent: its answer named this home's vault file. */
  | { kind: 'this'; agent: RunningAgentInfo }
  /** A live agent that serves another vault (the home was copied, agent.json with it), or refuses the token. */
  | { kind: 'other'; agent: RunningAgentInfo; why: string };

const PROBE_TIMEOUT_MS = 5_000;

function over(agent: RunningAgentInfo, timeoutMs?: number): ApiClient {
  const send: Send = (path, init) => fetch(`${agent.url}${path}`, timeoutMs === undefined ? init : { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return clientOver(send, `127.0.0.1:${agent.port}`, agent.token, false, () => undefined);
}

/**
 * The running `kith serve` of this home, if any. agent.json alone does not say so: it is copied
 * with the home, and in the copy it names the original home's agent (alive, with a valid token).
 * So the agent must answer, with agent.json's token, that the vault file it serves is this home's.
 * @throws ApiError `agent.not_running` when the agent agent.json names does not answer at all
 */
export async function findRunningAgent(home: string): Promise<RunningAgentCheck> {
  const agent = readRunningAgent(home);
  if (!agent) return { kind: 'none' };
  let status: StatusView;
  try {
    status = await over(agent, PROBE_TIMEOUT_MS).call(routes.status);
  } catch (error) {
    if (error instanceof KithError && error.code === 'api.unauthorized') return { kind: 'other', agent, why: 'it does not take the token agent.json holds' };
    // Not knowing whose it is, the vault is not opened beside it.
    const how = error instanceof KithError ? `answers ${error.code}` : 'does not answer';
    throw new ApiError('agent.not_running', `${agentFileName(home)} names an agent at ${agent.url} (pid ${agent.pid}) that ${how}; stop that process or delete the file`);
  }
  const mine = vaultFileId(home);
  if (mine !== undefined && status.vaultFile === mine) return { kind: 'this', agent };
  return { kind: 'other', agent, why: 'it serves another vault (was this home copied, agent.json with it?)' };
}

function agentFileName(home: string): string {
  return join(resolve(home), 'agent.json');
}

/** The words for agent.json leading to another home's agent (never its token). */
export function otherAgentNote(home: string, check: Extract<RunningAgentCheck, { kind: 'other' }>): string {
  return `${agentFileName(home)} names the agent at ${check.agent.url} (pid ${check.agent.pid}), which is not this home's: ${check.why}`;
}

/**
 * Talks to the running `kith serve` of this home if there is one; otherwise unlocks the vault and
 * runs the same local API in this process, so every command works with the agent up or down. An
 * agent.json that leads to another home's agent is passed over, with a note on stderr.
 */
export async function openApiClient(home: string): Promise<ApiClient> {
  const running = await findRunningAgent(home);
  if (running.kind === 'this') return over(running.agent);
  if (running.kind === 'other') process.stderr.write(`note: ${otherAgentNote(home, running)}; using this home's vault directly.\n`);
  const passphrase = await readSecret('KITH_PASSPHRASE', 'Passphrase: ');
  const vault = Vault.open(vaultPath(home), passphrase);
  const port = Number(vault.settings.get('servePort') ?? DEFAULT_PERSONAL_PORT);
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => `http://127.0.0.1:${port}` });
  const token = newToken();
  const app = createLocalApi({ agent, token, port: () => port, maxMessageBytes: 256 * 1024, logger: silentLogger });
  return clientOver(async (path, init) => app.request(path, init), `127.0.0.1:${port}`, token, true, () => vault.close());
}
