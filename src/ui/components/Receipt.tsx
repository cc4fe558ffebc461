import { formatDateTime } from '../format';
import type { ErasureReceiptBody, ReceiptView } from '../types';

/** A signed erasure receipt: what the company erased, counted, and where; the JWS on request. */
/** DIDComm times are epoch seconds; the agent's own are milliseconds. */
function toMs(time: number): number {
  return time < 1e12 ? time * 1000 : time;
}

export function Receipt({ receipt, company }: { receipt: ReceiptView; company: string }) {
  const body = receipt.body as Partial<ErasureReceiptBody> | null;
  const erased = body?.erased ?? [];
  const total = erased.reduce((n, e) => n + e.count, 0);
  return (
    <div className="card receipt">
      <div className="card-head">
        <h3>{company} erased your data</h3>
        <span className="badge badge-good">signed receipt</span>
      </div>
      <p className="muted">
        Erased {formatDateTime(typeof body?.erased_at === 'number' ? toMs(body.erased_at) : receipt.createdAt)} · {total} item{total === 1 ? '' : 's'} in all
      </p>
      {erased.length > 0 ? (
        <table className="table compact-table">
          <caption className="visually-hidden">What was erased, by category</caption>
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
      ) : (
        <p>The receipt lists nothing: the company held nothing to erase.</p>
      )}
      <p className="muted small">Kith destroyed the keys of this relationship: neither side can send the other anything again.</p>
      <details className="disclosure">
        <summary>Show the signed JWS</summary>
        <p className="small muted">Signed by {company}’s key; anyone can check it against its DID.</p>
        <pre className="code-block">{receipt.jws}</pre>
      </details>
    </div>
  );
}
