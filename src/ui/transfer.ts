import { ApiFailure, UNREACHABLE, failureOf, routeFailure } from './api';
import type { ExportResult } from './types';

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

export async function exportVault(body: { plain: boolean; passphrase?: string }, onProgress: (p: Progress) => void): Promise<ExportResult> {
  let response: Response;
  try {
    response = await fetch('/api/export', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
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

export function importVault(body: { text: string; passphrase?: string; vaultPassphrase: string }, onProgress: (p: Progress) => void): Promise<{ relationships: number }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/import');
    xhr.withCredentials = true;
    xhr.setRequestHeader('content-type', 'application/json');
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
        resolve(parsed as { relationships: number });
        return;
      }
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      reject(routeFailure(new ApiFailure(error?.code ?? `http.${xhr.status}`, error?.message ?? `The agent answered ${xhr.status}`, xhr.status)));
    };
    xhr.send(JSON.stringify(body));
  });
}
