/** The text file a person keeps their recovery codes in: what they are, for which account, when made. */
export function recoveryCodesText(codes: readonly string[], email: string, generatedAt: Date): string {
  return [
    'SecureAI Guardian recovery codes',
    `Account: ${email}`,
    `Generated: ${generatedAt.toISOString()}`,
    'Each code signs you in once when your authenticator app is not at hand. Keep them private.',
    '',
    ...codes,
    '',
  ].join('\n');
}
