import type { RouteBody, RouteResponse } from '../personal/http/apiContract.js';
import { ApiFailure, UNREACHABLE, failureOf, prepare, routeFailure, routes } from './api';
import { sessionHeaders } from './session';

/*
 * Export and import move the whole vault, so both report progress: the export's response body is
 * read chunk by chunk (Content-Length may be absent: then only the bytes so far are known), the
 * import's upload through XMLHttpRequest's upload events (fetch has no upload progress).
 */

export interface Progress {
  loaded: number;
  /** Undefined when the size is not known. */
  total: number | undefined;
}

type ExportResult = RouteResponse<typeof routes.export>;

export async function exportVault(body: RouteBody<typeof routes.export>, onProgress: (p: Progress) => void): Promise<ExportResult> {
  const call = prepare(routes.export, body);
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method,
      credentials: 'same-origin',
      headers: { ...sessionHeaders(), ...call.headers, accept: 'application/json' },
      body: call.body ?? null,
    });
  } catch {
    throw new ApiFailure('network', UNREACHABLE, 0);
  }
  if (!response.ok) throw await failureOf(response);
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  onProgress({ loaded: 0, total });
  if (!response.body) return (await response.json()) as ExportResult;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return JSON.parse(new TextDecoder().decode(bytes)) as ExportResult;
}

type ImportResult = RouteResponse<typeof routes.import>;

export function importVault(body: RouteBody<typeof routes.import>, onProgress: (p: Progress) => void): Promise<ImportResult> {
  const call = prepare(routes.import, body);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(call.method, call.url);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries({ ...sessionHeaders(), ...call.headers })) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (event) => onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : undefined });
    xhr.onerror = () => reject(new ApiFailure('network', UNREACHABLE, 0));
    xhr.onload = () => {
      let parsed: unknown;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        parsed = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(parsed as ImportResult);
        return;
      }
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      reject(routeFailure(new ApiFailure(error?.code ?? `http.${xhr.status}`, error?.message ?? `The agent answered ${xhr.status}`, xhr.status)));
    };
    xhr.send(call.body ?? null);
  });
}
