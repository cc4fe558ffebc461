import { prepare, type CallArgs, type PreparedCall, type Route, type RouteResponse } from '../personal/http/apiContract.js';
import { ACTIVITY_HEADER, activity } from './activity';
import { goToLogin, notifyLocked, sessionHeaders } from './session';

/** An API call that failed: the agent's error code and message, or a network failure. */
export class ApiFailure extends Error {
  readonly code: string;
  /** HTTP status; 0 when the agent could not be reached at all. */
  readonly status: number;
  /** The error's details when the agent gave some (e.g. `fields` of a thing.invalid), for marking the controls at fault. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, status: number, details?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'ApiFailure';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

const UNREACHABLE = 'The agent is not answering. Is `kith serve` still running?';

/** Words for any thrown value, for showing next to the control that failed. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiFailure) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

/**
 * Turns a non-2xx response into an ApiFailure, and follows the session rules on the way: a 401
 * without a valid session goes to the login page, a locked vault to the unlock screen.
 */
export async function failureOf(response: Response): Promise<ApiFailure> {
  let code = 'http.' + String(response.status);
  let message = response.statusText || `The agent answered ${response.status}`;
  let details: Record<string, unknown> | undefined;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    const given = body.error?.details;
    if (typeof given === 'object' && given !== null && !Array.isArray(given)) details = given as Record<string, unknown>;
  } catch {
    // Not JSON: keep the status text.
  }
  return routeFailure(new ApiFailure(code, message, response.status, details));
}

/** Applies the session rules to a failure (also used by XMLHttpRequest callers). */
export function routeFailure(failure: ApiFailure): ApiFailure {
  // No session, or a cookie without its key (this tab never signed in): sign in again.
  if (failure.status === 401 && (failure.code === 'api.unauthorized' || failure.code === 'api.session_key_required' || failure.code.startsWith('http.'))) goToLogin();
  else if (failure.status === 409 && failure.code === 'vault.locked') notifyLocked();
  return failure;
}

/** Sends a prepared call to the local API (same origin; the session cookie and its key authenticate). */
export async function request(call: PreparedCall): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method,
      credentials: 'same-origin',
      headers: { accept: 'application/json', [ACTIVITY_HEADER]: activity(), ...sessionHeaders(), ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiFailure('network', UNREACHABLE, 0);
  }
  if (!response.ok) throw await failureOf(response);
  return response;
}

/** Sends a prepared call and reads its answer as the contract types it (undefined for 204). */
export async function send<R extends Route>(call: PreparedCall<R>): Promise<RouteResponse<R>> {
  const response = await request(call);
  // The agent is ours: its answer is trusted to be what the contract says.
  if (response.status === 204) return undefined as RouteResponse<R>;
  if (call.route.answer === 'text') return (await response.text()) as RouteResponse<R>;
  if (call.route.answer === 'bytes') return new Uint8Array(await response.arrayBuffer()) as RouteResponse<R>;
  return (await response.json()) as RouteResponse<R>;
}

/**
 * Calls a route of the contract (src/personal/http/apiContract.ts), e.g.
 * `api(routes.approve, { id }, { fields })`: parameters, body and answer are typed by the route.
 */
export function api<R extends Route>(route: R, ...args: CallArgs<R>): Promise<RouteResponse<R>> {
  return send(prepare(route, ...args));
}

export { UNREACHABLE };
export { prepare, routes } from '../personal/http/apiContract.js';
