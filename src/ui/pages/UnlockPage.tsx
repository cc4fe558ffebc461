import { useRef, useState, type FormEvent } from 'react';
import { api, ApiFailure, errorMessage, prepare, routes } from '../api';
import { useResource } from '../useResource';
import { useTitle } from '../router';

/**
 * The vault is locked (at start, after "Lock", or after the agent's idle timeout): her passphrase
 * unlocks it, and the app returns to the page she was on. Nothing typed is kept after a try.
 */
export function UnlockPage({ onUnlocked }: { onUnlocked: () => void }) {
  useTitle('Locked');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  // Where her passphrase is, when whoever started the agent said so (the demo: its passphrase file).
  const status = useResource(prepare(routes.status));
  const hint = status.data?.passphraseHint ?? null;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const field = input.current;
    if (!field) return;
    const passphrase = field.value;
    if (passphrase === '') {
      setError('Type your passphrase to unlock.');
      field.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api(routes.unlock, { passphrase });
      field.value = '';
      onUnlocked();
    } catch (caught) {
      field.value = '';
      setError(caught instanceof ApiFailure && caught.code === 'vault.wrong_passphrase' ? 'Wrong passphrase. Try again.' : errorMessage(caught));
      setBusy(false);
      field.focus();
    }
  };

  return (
    <div className="gate">
      <main className="gate-card" id="main">
        <div className="gate-mark" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="28" height="28" focusable="false">
            <path d="M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
          </svg>
        </div>
        <h1>Your vault is locked</h1>
        <p className="gate-lead">Kith keeps your relationships encrypted. Type your passphrase to open them.</p>
        {hint ? <p className="hint gate-hint">{hint}</p> : null}
        <form onSubmit={(event) => void submit(event)} noValidate>
          <div className="field">
            <label htmlFor="passphrase">Passphrase</label>
            <input
              ref={input}
              id="passphrase"
              name="passphrase"
              type="password"
              autoComplete="current-password"
              autoFocus
              required
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? 'unlock-error' : undefined}
            />
          </div>
          {error ? (
            <div className="note note-bad" role="alert" id="unlock-error">
              <span className="note-icon" aria-hidden="true">
                !
              </span>
              <span>{error}</span>
            </div>
          ) : null}
          <button type="submit" className="btn btn-primary btn-block" disabled={busy} aria-busy={busy || undefined}>
            {busy ? <span className="spinner spinner-small" aria-hidden="true" /> : null}
            {busy ? 'Unlocking…' : 'Unlock'}
          </button>
        </form>
      </main>
    </div>
  );
}
