import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { api, ApiFailure, errorMessage, prepare, routes } from '../api';
import { ProgressBar } from '../components/ProgressBar';
import { Button, ErrorNote, LiveNote, Note, PageHeader, Section } from '../components/ui';
import { downloadBlob, today } from '../download';
import { formatBytes, plural } from '../format';
import { useTitle } from '../router';
import { notifyLocked, whileRelocking } from '../session';
import { reopenEvents } from '../events';
import { exportVault, importVault, type Progress } from '../transfer';
import { useAction, useResource } from '../useResource';

function ExportSection() {
  const [plain, setPlain] = useState(false);
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<{ name: string; size: number; url: string } | undefined>(undefined);
  const pass = useRef<HTMLInputElement>(null);
  const confirm = useRef<HTMLInputElement>(null);
  const id = useId();

  // The "Download again" link holds the file in memory: let it go with the section.
  useEffect(() => () => {
    if (done) URL.revokeObjectURL(done.url);
  }, [done]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    const passphrase = pass.current?.value ?? '';
    if (!plain) {
      if (passphrase.length < 8) {
        setError('Choose a passphrase of at least 8 characters for the export.');
        pass.current?.focus();
        return;
      }
      if (passphrase !== (confirm.current?.value ?? '')) {
        setError('The two passphrases differ.');
        confirm.current?.focus();
        return;
      }
    }
    setBusy(true);
    setProgress({ loaded: 0, total: undefined });
    try {
      const result = await exportVault(plain ? { plain: true } : { plain: false, passphrase }, setProgress);
      const blob =
        result.format === 'plain'
          ? new Blob([`${JSON.stringify(result.document, null, 2)}\n`], { type: 'application/json' })
          : new Blob([`${result.text}\n`], { type: 'application/jose' });
      const name = `kith-export-${today()}.${result.format === 'plain' ? 'json' : 'jwe'}`;
      downloadBlob(blob, name);
      const url = URL.createObjectURL(blob);
      setDone({ name, size: blob.size, url });
      if (pass.current) pass.current.value = '';
      if (confirm.current) confirm.current.value = '';
    } catch (caught) {
      if (!(caught instanceof ApiFailure && caught.code === 'vault.locked')) setError(errorMessage(caught));
    } finally {
      setBusy(false);
      setProgress(undefined);
    }
  };

  return (
    <Section title="Export everything" id="export">
      <p className="section-lead">One file with all your relationships, messages, keys, consent records and receipts: to keep as a backup or move Kith to another computer.</p>
      <form className="stack" onSubmit={(event) => void submit(event)} noValidate>
        <fieldset className="radio-group">
          <legend>Format</legend>
          <div className="radio">
            <input id={`${id}-enc`} type="radio" name="format" checked={!plain} onChange={() => setPlain(false)} />
            <label htmlFor={`${id}-enc`}>
              <strong>Encrypted</strong> <span className="muted">(recommended) — sealed with a passphrase you choose now</span>
            </label>
          </div>
          <div className="radio">
            <input id={`${id}-plain`} type="radio" name="format" checked={plain} onChange={() => setPlain(true)} />
            <label htmlFor={`${id}-plain`}>
              <strong>Plain JSON</strong> <span className="muted">— readable by anyone who gets the file</span>
            </label>
          </div>
        </fieldset>
        {plain ? (
          <Note tone="warn">A plain export holds your data and your private keys unencrypted. Anyone with the file can read everything and act as you towards every company. Keep it somewhere safe, and delete it when you are done.</Note>
        ) : (
          <div className="field-pair">
            <div className="field">
              <label htmlFor={`${id}-pass`}>Export passphrase</label>
              <input ref={pass} id={`${id}-pass`} type="password" autoComplete="new-password" aria-describedby={`${id}-pass-hint`} />
              <p className="hint" id={`${id}-pass-hint`}>
                At least 8 characters. You need it to import the file; Kith cannot recover it.
              </p>
            </div>
            <div className="field">
              <label htmlFor={`${id}-confirm`}>Same passphrase again</label>
              <input ref={confirm} id={`${id}-confirm`} type="password" autoComplete="new-password" />
            </div>
          </div>
        )}
        <div className="button-row">
          <Button type="submit" variant="primary" busy={busy} busyLabel="Exporting…">
            {plain ? 'Export plain JSON' : 'Export encrypted'}
          </Button>
        </div>
        {progress ? <ProgressBar label="Receiving the export" progress={progress} /> : null}
        <ErrorNote message={error} />
        <LiveNote>
          {done ? (
            <>
              Exported {formatBytes(done.size)} as <strong>{done.name}</strong>.{' '}
              <a href={done.url} download={done.name}>
                Download again
              </a>
            </>
          ) : undefined}
        </LiveNote>
      </form>
    </Section>
  );
}

function ImportSection() {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [result, setResult] = useState<string | undefined>(undefined);
  const pass = useRef<HTMLInputElement>(null);
  const vaultPass = useRef<HTMLInputElement>(null);
  const id = useId();
  // Import restores into an empty vault only: the form is offered only where it can work.
  const status = useResource(prepare(routes.status));
  const profile = useResource(prepare(routes.profile));
  const relationships = status.data?.relationships ?? 0;
  const fields = profile.data?.fields.length ?? 0;
  const empty = status.data !== undefined && profile.data !== undefined && relationships === 0 && fields === 0;

  const clear = () => {
    if (pass.current) pass.current.value = '';
    if (vaultPass.current) vaultPass.current.value = '';
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    if (!file) {
      setError('Choose the export file first.');
      return;
    }
    const vaultPassphrase = vaultPass.current?.value ?? '';
    if (!vaultPassphrase) {
      setError('Type the passphrase you unlock Kith with: the imported data is sealed under it.');
      vaultPass.current?.focus();
      return;
    }
    setBusy(true);
    try {
      const text = await file.text();
      const passphrase = pass.current?.value ?? '';
      setProgress({ loaded: 0, total: file.size });
      // The agent locks, swaps the vault and unlocks again: stay here meanwhile.
      const answer = await whileRelocking(() => importVault(passphrase ? { text, passphrase, vaultPassphrase } : { text, vaultPassphrase }, setProgress));
      reopenEvents();
      setResult(`Imported ${plural(answer.relationships, 'relationship')} from ${file.name}. Your relationships, profile and terms are the ones in the file now.`);
      clear();
    } catch (caught) {
      clear();
      if (caught instanceof ApiFailure && caught.code === 'vault.locked') return;
      if (caught instanceof ApiFailure && caught.code === 'vault.exists') setError('Import works into an empty vault; export this one first.');
      // The agent says which passphrase was wrong (the file's or the vault's) in its message.
      else if (caught instanceof ApiFailure && caught.code === 'vault.wrong_passphrase') setError(/export/i.test(caught.message) ? `${caught.message}: check the file’s passphrase.` : `${caught.message}: type the one you unlock Kith with.`);
      else if (caught instanceof ApiFailure && caught.code === 'export.corrupted') setError(`${caught.message}. If the file is encrypted, check its export passphrase.`);
      else setError(errorMessage(caught));
    } finally {
      setBusy(false);
      setProgress(undefined);
    }
  };

  return (
    <Section title="Import" id="import">
      <p className="section-lead">Restore an export made by Kith. Import works only into an empty vault (no relationships, no profile), so nothing here is overwritten.</p>
      {!empty && result === undefined ? (
        <p className="import-unavailable">
          {status.data === undefined || profile.data === undefined
            ? 'Checking whether this vault is empty…'
            : `This vault already holds ${relationships > 0 ? plural(relationships, 'relationship') : ''}${relationships > 0 && fields > 0 ? ' and ' : ''}${fields > 0 ? plural(fields, 'profile field') : ''}, so there is nothing to import into. To move it to another machine, export it above, then import the file into a new Kith there.`}
        </p>
      ) : null}
      {empty || result !== undefined ? (
        <form className="stack" onSubmit={(event) => void submit(event)} noValidate>
          <div className="field">
            <label htmlFor={`${id}-file`}>Export file</label>
            <input id={`${id}-file`} type="file" accept=".jwe,.json,application/json,application/jose" onChange={(event) => setFile(event.target.files?.[0])} />
            {file ? <p className="hint">{`${file.name}, ${formatBytes(file.size)}`}</p> : null}
          </div>
          <div className="field-pair">
            <div className="field">
              <label htmlFor={`${id}-pass`}>Export passphrase</label>
              <input ref={pass} id={`${id}-pass`} type="password" autoComplete="off" aria-describedby={`${id}-pass-hint`} />
              <p className="hint" id={`${id}-pass-hint`}>
                The file’s own passphrase. Leave it empty for a plain JSON export.
              </p>
            </div>
            <div className="field">
              <label htmlFor={`${id}-vault`}>Your vault passphrase</label>
              <input ref={vaultPass} id={`${id}-vault`} type="password" autoComplete="current-password" aria-describedby={`${id}-vault-hint`} />
              <p className="hint" id={`${id}-vault-hint`}>
                The one you unlock Kith with. The imported data is sealed under it.
              </p>
            </div>
          </div>
          <div className="button-row">
            <Button type="submit" variant="primary" busy={busy} busyLabel="Importing…">
              Import
            </Button>
          </div>
          {progress ? <ProgressBar label="Sending the file to your agent" progress={progress} /> : null}
          <ErrorNote message={error} />
          <LiveNote>{result}</LiveNote>
        </form>
      ) : null}
    </Section>
  );
}

const IDLE_CHOICES = [
  [5, '5 minutes'],
  [15, '15 minutes'],
  [30, '30 minutes'],
  [60, '1 hour'],
  [240, '4 hours'],
  [0, 'Never'],
] as const;

function LockSection() {
  const action = useAction();
  const id = useId();
  const idle = useResource(prepare(routes.idleLock));
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const saving = useAction();
  const minutes = idle.data?.minutes;
  const choices = minutes === undefined || IDLE_CHOICES.some(([m]) => m === minutes) ? IDLE_CHOICES : [...IDLE_CHOICES, [minutes, `${minutes} minutes`] as const];
  return (
    <Section title="Lock" id="lock">
      <p className="section-lead">Locking closes your vault until you type your passphrase again. Kith also locks by itself after a while without use.</p>
      <div className="field">
        <label htmlFor={`${id}-idle`}>Lock by itself after</label>
        <select
          id={`${id}-idle`}
          value={minutes ?? ''}
          disabled={minutes === undefined || saving.busy}
          onChange={(event) => {
            const chosen = Number(event.target.value);
            setSaved(undefined);
            void saving.run(async () => {
              const answer = await api(routes.setIdleLock, { minutes: chosen });
              await idle.reload();
              setSaved(answer.minutes === 0 ? 'Kith will not lock by itself; lock it when you leave.' : `Kith locks after ${answer.minutes} minutes without use.`);
            });
          }}
        >
          {minutes === undefined ? <option value="">Loading…</option> : null}
          {choices.map(([m, label]) => (
            <option key={m} value={m}>
              {label}
            </option>
          ))}
        </select>
        <ErrorNote message={saving.error ?? idle.error?.message} />
        <LiveNote>{saved}</LiveNote>
      </div>
      <Button
        onClick={() =>
          void action.run(async () => {
            await api(routes.lock);
            notifyLocked();
          })
        }
        busy={action.busy}
        busyLabel="Locking…"
      >
        Lock now
      </Button>
      <ErrorNote message={action.error} />
    </Section>
  );
}

/** Her vault passphrase, changed with the current one: only the key that opens the vault is rewrapped. */
function PassphraseSection() {
  const id = useId();
  const current = useRef<HTMLInputElement>(null);
  const next = useRef<HTMLInputElement>(null);
  const repeat = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const action = useAction();
  const status = useResource(prepare(routes.status));
  const hint = status.data?.passphraseHint ?? null;

  const submit = async () => {
    setError(undefined);
    setDone(undefined);
    const values = { current: current.current?.value ?? '', next: next.current?.value ?? '', repeat: repeat.current?.value ?? '' };
    const clear = () => [current, next, repeat].forEach((r) => r.current && (r.current.value = ''));
    if (values.current === '') return setError('Current passphrase: type the one you unlock Kith with.');
    if (values.next.length < 8) return setError('New passphrase: at least 8 characters.');
    if (values.next !== values.repeat) return setError('Repeat the new passphrase: the two entries differ.');
    try {
      await api(routes.changePassphrase, { current: values.current, next: values.next });
      clear();
      setDone('Passphrase changed. Unlock Kith with the new one from now on; Kith cannot recover it.');
    } catch (caught) {
      clear();
      setError(caught instanceof ApiFailure && caught.code === 'vault.wrong_passphrase' ? 'Current passphrase: that is not the one this vault opens with. Nothing changed.' : errorMessage(caught));
    }
  };

  return (
    <Section title="Passphrase" id="passphrase">
      <p className="section-lead">The passphrase opens your vault. Changing it rewraps the vault's key; your data stays as it is.</p>
      {hint ? <p className="hint">{hint} Change it there too, or the demo will not open the vault when it starts again.</p> : null}
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(submit);
        }}
        noValidate
      >
        <div className="field">
          <label htmlFor={`${id}-current`}>Current passphrase</label>
          <input ref={current} id={`${id}-current`} type="password" autoComplete="current-password" />
        </div>
        <div className="field-pair">
          <div className="field">
            <label htmlFor={`${id}-next`}>New passphrase</label>
            <input ref={next} id={`${id}-next`} type="password" autoComplete="new-password" aria-describedby={`${id}-next-hint`} />
            <p className="hint" id={`${id}-next-hint`}>
              At least 8 characters. Kith cannot recover it.
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-repeat`}>Repeat the new passphrase</label>
            <input ref={repeat} id={`${id}-repeat`} type="password" autoComplete="new-password" />
          </div>
        </div>
        <div className="button-row">
          <Button type="submit" variant="primary" busy={action.busy} busyLabel="Changing…">
            Change passphrase
          </Button>
        </div>
        <ErrorNote message={error} />
        <LiveNote>{done}</LiveNote>
      </form>
    </Section>
  );
}

/** Export, import, passphrase, lock. */
export function SettingsPage() {
  useTitle('Settings');
  return (
    <>
      <PageHeader title="Settings" subtitle="Your data is yours: take all of it with you, bring it back, or lock it away." />
      <ExportSection />
      <ImportSection />
      <PassphraseSection />
      <LockSection />
    </>
  );
}
