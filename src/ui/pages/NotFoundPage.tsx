import { PageHeader } from '../components/ui';
import { Link, useTitle } from '../router';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <PageHeader title="Nothing here" subtitle="This address is not a page of Kith." />
      <p>
        <Link to="/" className="btn btn-primary">
          Go to your relationships
        </Link>
      </p>
    </>
  );
}
