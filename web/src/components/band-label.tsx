import { bandClass, bandWords, type Band } from './band-words';

/** A band as its words in a coloured badge; `preliminary` says it may still change. */
export function BandLabel({ band, preliminary }: { band: Band; preliminary?: boolean }) {
  return (
    <span className={bandClass(band)}>
      {bandWords[band]}
      {preliminary ? ' (preliminary)' : ''}
    </span>
  );
}
