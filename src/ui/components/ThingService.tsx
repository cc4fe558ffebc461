import type { ThingView } from '../types';
import { Section } from './ui';

/*
 * RESERVED PLACE (issue 13, items 2, 3 and 7's protocol parts): the receipts a seller signs
 * (`proofOfPurchase`) and the service cases with the companies behind a thing
 * (`thing_service_cases`, decision 0019) will be shown here, on the thing's page, once the `thing`
 * family brings them. This section only holds their place: the page already renders it, so adding
 * them changes this file and not the page.
 */

/** Receipts and service cases of a thing: a placeholder until the `thing` family brings them. */
export function ThingService(_props: { thing: ThingView }) {
  return (
    <Section title="Receipts and service" id="service">
      <p className="muted">
        Signed receipts from the seller and repairs or warranty claims with the companies will show here.
      </p>
    </Section>
  );
}
