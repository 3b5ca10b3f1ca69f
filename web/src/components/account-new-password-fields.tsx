/**
 * A new password typed twice, with the server's reason beside it when the password policy refuses it
 * (too short, too long, too common): the server is the one place that policy lives.
 */
export function AccountNewPasswordFields({
  idPrefix,
  feedback,
  label = 'New password',
}: {
  idPrefix: string;
  feedback: string | null;
  label?: string;
}) {
  const hintId = `${idPrefix}-hint`;
  const feedbackId = `${idPrefix}-feedback`;
  return (
    <>
      <label htmlFor={`${idPrefix}-new`}>{label}</label>
      <input
        id={`${idPrefix}-new`}
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        aria-describedby={feedback ? `${hintId} ${feedbackId}` : hintId}
        aria-invalid={feedback ? true : undefined}
      />
      <p id={hintId} className="muted account-hint">
        At least 8 characters; a passphrase of several words is best. Very common passwords are refused.
      </p>
      {feedback && (
        <p id={feedbackId} className="error" role="alert">
          {feedback}
        </p>
      )}
      <label htmlFor={`${idPrefix}-confirm`}>Repeat the new password</label>
      <input
        id={`${idPrefix}-confirm`}
        name="confirmPassword"
        type="password"
        autoComplete="new-password"
        required
      />
    </>
  );
}
