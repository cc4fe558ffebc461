import { prepare, routes } from '../api';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';
import { fieldLabel, formatDate } from '../format';
import { useTitle } from '../router';
import type { CredentialView } from '../types';
import { useResource } from '../useResource';

/** What a credential type is, in words; an unknown one by the last part of its URI. */
function credentialName(vct: string): string {
  if (/\/credentials\/age\//.test(vct)) return 'Age credential';
  const last = vct.replace(/\/+$/, '').split('/').pop() ?? vct;
  return `${last.charAt(0).toUpperCase()}${last.slice(1).replace(/[-_]/g, ' ')} credential`;
}

/** "age_over_18" → "Over 18"; profile fields by their labels. */
function claimName(claim: string): string {
  const over = /^age_over_(\d+)$/.exec(claim);
  if (over) return `Over ${over[1]}`;
  return fieldLabel(claim);
}

function CredentialCard({ credential }: { credential: CredentialView }) {
  const expired = credential.expiresAt !== null && credential.expiresAt < Date.now();
  return (
    <li className="card credential">
      <div className="card-head">
        <h2>{credentialName(credential.vct)}</h2>
        {expired ? <span className="badge badge-bad">Expired</span> : <span className="badge badge-good">Valid</span>}
      </div>
      <p>
        You can show each of these on its own, and nothing else from the credential: <strong>{credential.claims.map(claimName).join(', ')}</strong>.
      </p>
      <p className="muted small">
        Issued {credential.issuedAt === null ? 'at an unknown date' : formatDate(credential.issuedAt)}
        {credential.expiresAt === null ? '; it does not expire' : `; ${expired ? 'expired' : 'valid until'} ${formatDate(credential.expiresAt)}`}. Added to your vault{' '}
        {formatDate(credential.createdAt)}.
      </p>
      <details className="disclosure">
        <summary>Details</summary>
        <dl className="credential-details small">
          <dt>Issuer</dt>
          <dd>
            <code className="wrap">{credential.issuer}</code>
          </dd>
          <dt>Type</dt>
          <dd>
            <code className="wrap">{credential.vct}</code>
          </dd>
        </dl>
      </details>
    </li>
  );
}

/** Credentials others issued her (SD-JWT VCs): what each lets her prove, one claim at a time. */
export function CredentialsPage() {
  useTitle('Credentials');
  const { data, error, loading } = useResource(prepare(routes.credentials));
  const credentials = data?.credentials ?? [];
  return (
    <>
      <PageHeader title="Credentials" subtitle="What others vouch for about you. A company that asks gets only the claim you approve, signed by the issuer, never the rest." />
      <ErrorNote message={error?.message} />
      {loading && !data ? <Loading /> : null}
      {data && credentials.length === 0 ? (
        <Empty title="No credentials yet">
          <p>An issuer (a bank, a government service, the demo issuer) can give you a credential, for example that you are over 18 without your birth date. Add one with <code>kith credentials add</code>.</p>
        </Empty>
      ) : null}
      {credentials.length > 0 ? (
        <ul className="credential-list">
          {credentials.map((c) => (
            <CredentialCard key={c.id} credential={c} />
          ))}
        </ul>
      ) : null}
    </>
  );
}
