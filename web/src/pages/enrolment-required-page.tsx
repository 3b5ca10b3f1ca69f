import { Page } from '../components/page';
import { TwoFactor } from './account-page';

/** An admin whose organisation requires two-step verification reaches nothing else until they enrol. */
export default function EnrolmentRequiredPage() {
  return (
    <Page title="Set up two-step verification">
      <p>
        Your organisation requires two-step verification for administrators. Set it up now to continue; until
        then no other page is available to your account.
      </p>
      <TwoFactor account={{ email: 'your account', required: true, enabled: false }} />
    </Page>
  );
}
