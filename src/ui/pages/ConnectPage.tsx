import { useEffect, useId, useRef, useState } from 'react';
import { api, routes } from '../api';
import { companyName } from '../components/labels';
import { ObligationList, WeakerList } from '../components/Obligations';
import { PersonaSelect, personaName, usePersonas } from '../components/Personas';
import { Button, ErrorNote, LiveNote, Note, PageHeader, Section } from '../components/ui';
import { fieldLabel, formatDuration, shortName } from '../format';
import { Link, navigate, useLocation, useTitle } from '../router';
import type { ConnectPreview, RelationshipView } from '../types';
import { useAction } from '../useResource';
import { normaliseInvitation } from '../invitation';
import { findAgreement, useRoster, type RosterAgreement } from '../useTerms';

function agreementTitle(id: string | null, agreements: ReadonlyMap<string, RosterAgreement>): string {
  if (!id) return 'none';
  return findAgreement(agreements, id)?.title ?? shortName(id);
}

function Prediction({ preview, agreements }: { preview: ConnectPreview; agreements: ReadonlyMap<string, RosterAgreement> }) {
  const { terms } = preview;
  const mine = agreementTitle(terms.proffer, agreements);
  const alternative = terms.alternative ? findAgreement(agreements, terms.alternative) : undefined;
  switch (terms.predicted) {
    case 'none':
      return (
        <Note>
          You have no default terms, so none will be proffered. The company may still ask you for data, but nothing will bind how it uses it. <Link to="/terms">Choose default terms</Link>
        </Note>
      );
    case 'accepted':
      return <Note tone="good">The company’s published policy accepts {mine}: expect them to be agreed and signed by you both.</Note>;
    case 'rejected':
      return <Note tone="bad">The company’s published policy does not accept {mine} and offers nothing else: you would connect without agreed terms.</Note>;
    case 'countered':
      return (
        <Note tone={terms.weaker.length > 0 ? 'warn' : 'good'}>
          <p>
            The company will likely counter with <strong>{agreementTitle(terms.alternative, agreements)}</strong> instead of {mine}.
          </p>
          {terms.weaker.length > 0 ? (
            <>
              <p>That protects you less on:</p>
              <WeakerList weaker={terms.weaker} />
              <p>Kith will not accept it by itself: you decide on the relationship’s Terms tab after connecting.</p>
            </>
          ) : (
            <p>It protects you at least as well on every point, so Kith will accept it for you.</p>
          )}
          {alternative ? (
            <details className="disclosure">
              <summary>What {alternative.title} says</summary>
              <ObligationList obligations={alternative.obligations} weaker={terms.weaker} />
            </details>
          ) : null}
        </Note>
      );
    default:
      return <Note>The company publishes no terms policy Kith could read: you will see its answer to {mine} once connected.</Note>;
  }
}

function outcomeText(r: RelationshipView, agreements: ReadonlyMap<string, RosterAgreement>): { tone: 'good' | 'warn'; text: string } {
  const t = r.terms;
  if (t.agreementId) {
    const name = agreementTitle(t.agreementId, agreements);
    return { tone: 'good', text: t.outcome === 'countered-accepted' ? `Terms agreed: ${name} (its counter, which Kith accepted as at least as protective).` : `Terms agreed: ${name}, signed by you both.` };
  }
  if (t.awaitingHer) return { tone: 'warn', text: 'The company countered your terms with weaker ones: answer on its Terms tab.' };
  if (t.lastState === 'rejected') return { tone: 'warn', text: 'The company rejected your terms: none are agreed.' };
  return { tone: 'warn', text: 'No terms were proffered.' };
}

/** Paste an invitation → preview what connecting means → connect, anonymously. */
export function ConnectPage() {
  useTitle('Connect');
  const { query } = useLocation();
  const fromLink = query.get('invitation') ?? '';
  const [invitation, setInvitation] = useState(fromLink);
  const [preview, setPreview] = useState<ConnectPreview | undefined>(undefined);
  const [result, setResult] = useState<RelationshipView | undefined>(undefined);
  const previewing = useAction();
  const connecting = useAction();
  const { agreements } = useRoster();
  const inputId = useId();
  const started = useRef(false);
  const [handler, setHandler] = useState<string | undefined>(undefined);
  const personas = usePersonas();
  const [persona, setPersona] = useState('');
  const personaList = personas.data?.personas ?? [];
  // Her default persona is preselected (and again if the chosen one is removed meanwhile).
  const defaultPersona = personaList.find((p) => p.isDefault)?.id ?? '';
  const personaIds = personaList.map((p) => p.id).join(' ');
  useEffect(() => {
    if (!personaIds.split(' ').includes(persona)) setPersona(defaultPersona);
  }, [personaIds, defaultPersona, persona]);

  const runPreview = async (text: string) => {
    const value = normaliseInvitation(text);
    setPreview(undefined);
    setResult(undefined);
    if (!value) {
      previewing.setError('Paste the invitation link the company gave you.');
      return;
    }
    const answer = await previewing.run(() => api(routes.previewConnect, { invitation: value }));
    if (answer) setPreview(answer);
  };

  // `/connect?invitation=…` (a web+kith: link, or a link from another app): preview at once.
  useEffect(() => {
    if (!fromLink || started.current) return;
    started.current = true;
    setInvitation(fromLink);
    void runPreview(fromLink);
  }, [fromLink]);

  const connect = async () => {
    const answer = await connecting.run(() => api(routes.connect, { invitation: normaliseInvitation(invitation), ...(persona === '' ? {} : { persona }) }));
    if (!answer) return;
    setResult(answer.relationship);
    setPreview(undefined);
    setInvitation('');
    if (fromLink) navigate('/connect', { replace: true });
  };

  const registerHandler = () => {
    const nav = navigator as Navigator & { registerProtocolHandler?: (scheme: string, url: string) => void };
    if (typeof nav.registerProtocolHandler !== 'function') {
      setHandler('This browser cannot open links with a web app.');
      return;
    }
    try {
      nav.registerProtocolHandler('web+kith', `${location.origin}/connect?invitation=%s`);
      setHandler('Asked your browser. If it shows a prompt, allow it; from then on web+kith: links open here.');
    } catch (error) {
      setHandler(`Your browser refused: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const canRegister = typeof (navigator as Navigator & { registerProtocolHandler?: unknown }).registerProtocolHandler === 'function';
  const outcome = result ? outcomeText(result, agreements) : undefined;

  return (
    <>
      <PageHeader title="Connect to a company" subtitle="Kith makes a new identity for this company alone. It learns nothing else about you until you choose to share." />

      <Section title="1. Paste the invitation" id="invite">
        <form
          className="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void runPreview(invitation);
          }}
        >
          <div className="field">
            <label htmlFor={inputId}>Invitation link</label>
            <textarea
              id={inputId}
              rows={3}
              className="mono-input"
              value={invitation}
              spellCheck={false}
              autoCapitalize="off"
              autoCorrect="off"
              placeholder="https://shop.example/invite?_oob=…"
              onChange={(event) => {
                setInvitation(event.target.value);
                setPreview(undefined);
              }}
              aria-describedby={`${inputId}-hint`}
            />
            <p className="hint" id={`${inputId}-hint`}>
              The company shows it as a link or a QR code. Previewing sends nothing to the company.
            </p>
          </div>
          <div className="button-row">
            <Button type="submit" variant={preview ? 'secondary' : 'primary'} busy={previewing.busy} busyLabel="Reading…">
              Preview
            </Button>
          </div>
          <ErrorNote message={previewing.error} />
        </form>
      </Section>

      {preview ? (
        <Section title="2. Check and connect" id="preview">
          <div className="card preview-card">
            <h3 className="preview-goal">{preview.invitation.goal ? `“${preview.invitation.goal}”` : 'A company invites you to connect'}</h3>
            {preview.company.endpoint ? <p className="muted small">Its agent answers at {preview.company.endpoint}</p> : null}
            <dl className="facts">
              <div className="fact">
                <dt>Your terms</dt>
                <dd>
                  {agreementTitle(preview.terms.proffer, agreements)}
                  {preview.terms.proffer ? <span className="muted"> (your default)</span> : null}
                </dd>
              </div>
              {preview.terms.published ? (
                <div className="fact">
                  <dt>Its policy</dt>
                  <dd>
                    {preview.terms.published.accept.length > 0 ? `accepts ${preview.terms.published.accept.map((a) => agreementTitle(a, agreements)).join(', ')}` : 'accepts no terms as proffered'}
                    {preview.terms.published.preferred ? `; counters with ${agreementTitle(preview.terms.published.preferred, agreements)}` : ''}
                  </dd>
                </div>
              ) : null}
              {preview.terms.asks ? (
                <div className="fact">
                  <dt>It will ask for</dt>
                  <dd>
                    {[...preview.terms.asks.fields.map(fieldLabel), ...preview.terms.asks.claims].join(', ')}
                    <span className="muted">
                      {' '}
                      for “{preview.terms.asks.purpose}”{preview.terms.asks.retention ? `, kept ${formatDuration(preview.terms.asks.retention)}` : ''}. You choose what to share when it asks.
                    </span>
                  </dd>
                </div>
              ) : null}
            </dl>
            {personaList.length > 1 ? (
              <PersonaSelect
                id={`${inputId}-persona`}
                label="Connect as"
                personas={personaList}
                value={persona}
                onChange={setPersona}
                disabled={connecting.busy}
                hint="The persona this company will know: it gets that persona’s details when you share them, and their changes."
              />
            ) : null}
            <details className="disclosure">
              <summary>Its identity (DID)</summary>
              <p className="small muted">What your agent will check every message from this company against.</p>
              <pre className="code-block">{preview.company.did}</pre>
            </details>
            <Prediction preview={preview} agreements={agreements} />
            <div className="button-row">
              <Button variant="primary" busy={connecting.busy} busyLabel="Connecting…" onClick={() => void connect()}>
                Connect
              </Button>
              <Button variant="ghost" onClick={() => setPreview(undefined)} disabled={connecting.busy}>
                Cancel
              </Button>
            </div>
            <ErrorNote message={connecting.error} />
          </div>
        </Section>
      ) : null}

      <LiveNote tone={outcome?.tone ?? 'good'}>
        {result && outcome ? (
          <div className="connect-result">
            <p className="result-title">
              Connected to <strong>{companyName(result)}</strong>
              {result.customerRef ? (
                <>
                  {' '}
                  as customer <strong>{result.customerRef}</strong>
                </>
              ) : null}
              .
            </p>
            <p>{outcome.text}</p>
            {personaList.length > 1 ? <p>It knows you as your {personaName(result.persona.label)} persona.</p> : null}
            <p>
              <Link to={`/relationships/${encodeURIComponent(result.id)}`} className="btn btn-primary">
                Open {companyName(result)}
              </Link>
            </p>
          </div>
        ) : undefined}
      </LiveNote>

      <Section title="Open invitation links here" id="handler">
        <p className="section-lead">
          Companies may offer <code>web+kith:</code> links. Let this browser open them in Kith, straight to this page.
        </p>
        {canRegister ? (
          <Button onClick={registerHandler}>Open Kith invitation links with this app</Button>
        ) : (
          <p className="muted">This browser cannot open links with a web app; paste them above instead.</p>
        )}
        <LiveNote tone="info">{handler}</LiveNote>
      </Section>
    </>
  );
}
