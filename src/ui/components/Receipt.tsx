import { formatDateTime } from '../format';
import type { ErasureReceiptBody, ReceiptView } from '../types';

/** A signed erasure receipt: what the company erased, counted, and where; the JWS on request. */
/** DIDComm times are epoch seconds; the agent's own are milliseconds. */
function toMs(time: number): number {
  return time < 1e12 ? time * 1000 : time;
}

/**
 * The store's categories (docs/protocol/relationship.md) grouped as a person thinks of them; a
 * category this version does not know is shown under its own name, so nothing is hidden.
 */
const HUMAN_GROUPS: readonly { name: string; categories: readonly string[] }[] = [
  { name: 'Messages', categories: ['messages', 'outbox'] },
  { name: 'Your data, and the consents you gave for it', categories: ['held_fields', 'presentations', 'profile_versions', 'disclosure_requests', 'consent_records'] },
  { name: 'Agreements', categories: ['terms_agreements'] },
  { name: 'What you asked for, and its offers', categories: ['intents', 'offers'] },
  { name: 'Notes to its own systems about you', categories: ['connector_events'] },
  { name: 'The relationship itself', categories: ['relationship'] },
];

export function humanCategories(erased: readonly { category: string; count: number }[]): { name: string; count: number }[] {
  const known = new Set(HUMAN_GROUPS.flatMap((g) => g.categories));
  const groups = HUMAN_GROUPS.map((g) => ({ name: g.name, count: erased.filter((e) => g.categories.includes(e.category)).reduce((n, e) => n + e.count, 0) }));
  const others = erased.filter((e) => !known.has(e.category)).map((e) => ({ name: e.category.replace(/_/g, ' '), count: e.count }));
  return [...groups.filter((g) => g.count > 0), ...others];
}

export function Receipt({ receipt, company }: { receipt: ReceiptView; company: string }) {
  const body = receipt.body as Partial<ErasureReceiptBody> | null;
  const erased = body?.erased ?? [];
  const total = erased.reduce((n, e) => n + e.count, 0);
  const groups = humanCategories(erased);
  return (
    <div className="card receipt">
      <div className="card-head">
        <h3>{company} erased your data</h3>
        <span className="badge badge-good">Signed receipt</span>
      </div>
      <p className="muted">
        Erased {formatDateTime(typeof body?.erased_at === 'number' ? toMs(body.erased_at) : receipt.createdAt)} · {total} item{total === 1 ? '' : 's'} in all
      </p>
      {groups.length > 0 ? (
        <ul className="receipt-groups">
          {groups.map((g) => (
            <li key={g.name}>
              <span>{g.name}</span> <span className="num">{g.count}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p>The receipt lists nothing: the company held nothing to erase.</p>
      )}
      <p className="muted small">Kith destroyed the keys of this relationship: neither side can send the other anything again.</p>
      {erased.length > 0 ? (
        <details className="disclosure">
          <summary>Show the technical list</summary>
          <table className="table compact-table">
            <caption className="visually-hidden">What was erased, by category of the company's store</caption>
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col" className="num">
                  Count
                </th>
                <th scope="col">Where</th>
              </tr>
            </thead>
            <tbody>
              {erased.map((e, i) => (
                <tr key={`${e.category}-${i}`}>
                  <th scope="row">{e.category.replace(/_/g, ' ')}</th>
                  <td className="num">{e.count}</td>
                  <td>{e.where || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
      <details className="disclosure">
        <summary>Show the signed JWS</summary>
        <p className="small muted">Signed by {company}’s key; anyone can check it against its DID.</p>
        <pre className="code-block">{receipt.jws}</pre>
      </details>
    </div>
  );
}
