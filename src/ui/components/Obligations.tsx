import { obligationLines, obligationName } from '../format';
import type { Obligations as ObligationsType } from '../types';

/** An agreement's obligations as a list of sentences, each marked (with a symbol and words) as protecting her or not. */
export function ObligationList({ obligations, weaker = [] }: { obligations: ObligationsType; weaker?: readonly string[] }) {
  return (
    <ul className="obligations">
      {obligationLines(obligations).map((line) => {
        const isWeaker = weaker.includes(line.key);
        const tone = isWeaker || line.protective === false ? 'is-permissive' : line.protective ? 'is-protective' : 'is-neutral';
        return (
          <li key={line.key} className={`obligation ${tone}${isWeaker ? ' is-weaker' : ''}`}>
            <span className="obligation-mark" aria-hidden="true">
              {tone === 'is-protective' ? '✓' : tone === 'is-neutral' ? '·' : '–'}
            </span>
            <span>
              {line.text}
              {isWeaker ? <strong className="weaker-tag"> · protects you less</strong> : null}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

/** "what it may use your data for, how long it may keep your data". */
export function WeakerList({ weaker }: { weaker: readonly string[] }) {
  if (weaker.length === 0) return null;
  return (
    <ul className="weaker-list">
      {weaker.map((w) => (
        <li key={w}>{obligationName(w)}</li>
      ))}
    </ul>
  );
}
