import { api, prepare, routes } from '../api';
import { Badge, Button, ErrorNote, Loading, Section } from './ui';
import { theirText } from '../format';
import type { RulesView } from '../types';
import { useAction, useResource } from '../useResource';

/**
 * Her disclosure rules (decision 0020), small: the rules in words in the order they are tried, the
 * switch that makes her answer everything by hand, and removing a rule. Adding and moving rules is
 * `kith rules` for now.
 */
export function Rules({ onChanged }: { onChanged?: (text: string) => void }) {
  const rules = useResource(prepare(routes.rules));
  const action = useAction();
  const view = rules.data;

  const apply = async (work: () => Promise<RulesView>, text: string) => {
    const result = await action.run(work);
    if (!result) return;
    await rules.reload();
    onChanged?.(text);
  };

  return (
    <Section title="Your rules" id="rules">
      <ErrorNote message={rules.error?.message ?? action.error} />
      {rules.loading && !view ? <Loading /> : null}
      {view ? (
        <>
          <p className="hint">
            {view.manual
              ? 'You answer every request by hand: your rules are kept, but answer nothing.'
              : 'Your rules answer the requests they match, first match first; anything else waits for you here. Every answer they make is listed with the rule.'}
          </p>
          <ol className="record-list" aria-label="Your rules, in the order they are tried">
            {view.rules.map((rule) => (
              <li key={rule.id} className="record">
                <div className="record-head">
                  <Badge tone={rule.action === 'approve' ? 'good' : rule.action === 'decline' ? 'bad' : 'neutral'}>{rule.action === 'approve' ? 'Approve' : rule.action === 'decline' ? 'Decline' : 'Ask me'}</Badge>
                  <span className="record-title">{theirText(rule.text)}</span>
                </div>
                <div className="record-foot">
                  <code>{rule.id}</code>
                  {rule.note ? ` · ${theirText(rule.note)}` : null}{' '}
                  <Button disabled={action.busy} onClick={() => void apply(() => api(routes.removeRule, { id: rule.id }), `Rule ${rule.id} removed.`)}>
                    Remove rule {rule.id}
                  </Button>
                </div>
              </li>
            ))}
          </ol>
          <div className="button-row">
            <Button
              variant={view.manual ? 'primary' : 'secondary'}
              busy={action.busy}
              busyLabel="Saving…"
              onClick={() => void apply(() => api(routes.setRulesManual, { manual: !view.manual }), view.manual ? 'Your rules apply again.' : 'You answer every request by hand now.')}
            >
              {view.manual ? 'Let my rules answer again' : 'Answer everything by hand'}
            </Button>
          </div>
        </>
      ) : null}
    </Section>
  );
}
