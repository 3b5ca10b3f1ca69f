import { randomUUID } from 'node:crypto';
import { NOOP_PROVIDER, OpenFeature, type Client, type Provider } from '@openfeature/server-sdk';

/** What flag readers (the pipeline, services) are handed: the typed evaluation methods of an OpenFeature client. */
export type FlagClient = Pick<
  Client,
  'getBooleanDetails' | 'getStringDetails' | 'getNumberDetails' | 'getObjectDetails'
>;

/**
 * The one place that touches the OpenFeature API, which the SDK only offers as a process-wide singleton
 * (its constructor is private). Each caller's provider is bound to a domain of its own, so two platforms in
 * one process (tests, the CLI beside a server) never read each other's flags, and the client is returned
 * for the caller to pass along explicitly; nothing else imports `OpenFeature`.
 */
export async function openFlagClient(
  provider: Provider,
): Promise<{ client: FlagClient; close(): Promise<void> }> {
  const domain = `guardian-${randomUUID()}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  const client = OpenFeature.getClient(domain);
  return {
    client,
    // The SDK cannot forget a domain; the no-op provider releases ours (and any clients left answer defaults).
    close: async () => void OpenFeature.setProvider(domain, NOOP_PROVIDER),
  };
}
