import { errorMessage } from '../api/problem';

/** An error as a sentence, announced to screen readers as it appears. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {typeof error === 'string' ? error : errorMessage(error)}
    </p>
  );
}
