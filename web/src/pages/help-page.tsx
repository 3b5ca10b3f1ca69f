import { Link } from 'wouter';
import { Page } from '../components/page';

/** The short form of docs/user-guide.md, hand-written so the help needs no markdown runtime. */
export default function HelpPage() {
  return (
    <Page title="Help">
      <div className="help-page">
        <p>
          SecureAI Guardian checks a video or an image for signs of manipulation and explains what each check
          measured. It never declares a file genuine: the best a set of checks can say is that these checks
          found no indicators. The full <a href="/docs/user-guide.md">user guide</a> says more.
        </p>
        <nav aria-label="On this page">
          <ul>
            <li>
              <a href="#bands">What each band means</a>
            </li>
            <li>
              <a href="#checks">What the checks can and cannot see</a>
            </li>
            <li>
              <a href="#verification">Verifying an analysis</a>
            </li>
            <li>
              <a href="#faq">Frequently asked questions</a>
            </li>
            <li>
              <a href="#references">Guides and API reference</a>
            </li>
          </ul>
        </nav>

        <section aria-labelledby="bands">
          <h2 id="bands">What each band means</h2>
          <dl>
            <dt>Manipulation indicators found</dt>
            <dd>
              At least one standard check found a strong sign of manipulation over enough of the media. An
              indicator is a measurement, not proof that someone faked the file: read the reasons and the
              check that found it.
            </dd>
            <dt>Inconclusive</dt>
            <dd>
              The checks neither found a strong sign nor could rule one out: some scores sit in between, too
              little of the media could be examined, or only weak cues could run. It is not a softer
              &ldquo;manipulated&rdquo;.
            </dd>
            <dt>No indicators found by these checks</dt>
            <dd>
              Every standard check that applied scored low over enough of the media. It says these checks
              found nothing; it does not say the file is genuine or unaltered.
            </dd>
            <dt>Not analyzable</dt>
            <dd>
              The file could not be examined: it is cut short, cannot be decoded, or is too large. Nothing
              about manipulation can be read from this band.
            </dd>
          </dl>
          <p>
            Weak cues (metadata, encoder tags, provenance records) are listed in the reasons but never set the
            band on their own. Read the compression profile first: heavily compressed media has lost the
            detail most checks read. Scores run from 0 to 1 and are not probabilities.
          </p>
        </section>

        <section aria-labelledby="checks">
          <h2 id="checks">What the checks can and cannot see</h2>
          <p>They can see:</p>
          <ul>
            <li>
              faces that do not carry the frame&apos;s camera noise, were enlarged from a smaller picture,
              wobble against the frame, blink or turn unnaturally, or leave a blending edge;
            </li>
            <li>re-encoding and splices in the video stream, and double JPEG compression in stills;</li>
            <li>editing tools and inconsistencies in metadata, and C2PA provenance records.</li>
          </ul>
          <p>They cannot see:</p>
          <ul>
            <li>
              manipulations none of them targets: duplicated or removed frames, edits away from faces in
              video, audio edits other than a gross offset;
            </li>
            <li>
              much of anything in heavily compressed, tiny or cut files (these often come out Inconclusive or
              Not analyzable, which is the honest answer);
            </li>
            <li>
              the truth of what the media shows: a genuine recording of a staged event passes every check.
            </li>
          </ul>
          <p>
            Face checks apply only when a face of at least 48 pixels is found. The project&apos;s published
            figures are measured on synthetic manipulations, not on real-world deepfakes.
          </p>
        </section>

        <section aria-labelledby="verification">
          <h2 id="verification">Verifying an analysis</h2>
          <p>
            Every finished analysis gets a signed statement (the file&apos;s SHA-256, the report&apos;s
            SHA-256, the versions of the checks, the completion time) in an append-only transparency log. The
            evidence bundle holds the report, the statement, its signature and the proof that it is in the
            log. On the <Link href="/verify">Verify page</Link>, drop the bundle and, optionally, the media
            file: the media file is hashed in your browser and never uploaded.
          </p>
          <p>
            A verified bundle proves that the report belongs to that file, that the deployment holding the log
            key signed it, and that the statement is in its log. It does not prove that the media is
            unaltered, it does not prove the time on its own (the server&apos;s clock signs it), and without a
            trusted key it only shows the bundle is self-consistent. The{' '}
            <a href="/docs/verification.md">verification guide</a> explains how to check a bundle with
            standard tools.
          </p>
        </section>

        <section aria-labelledby="faq">
          <h2 id="faq">Frequently asked questions</h2>
          <dl>
            <dt>Does &ldquo;No indicators found by these checks&rdquo; mean the video is real?</dt>
            <dd>
              No. The checks listed in the report found nothing in the part of the media they could examine.
              Manipulations they do not look for pass unseen.
            </dd>
            <dt>Why is my file &ldquo;Inconclusive&rdquo;?</dt>
            <dd>
              Usually it is heavily compressed, short, has no usable face, or some scores sit between the low
              and high thresholds. The reasons and the compression profile say which.
            </dd>
            <dt>Why does a check say &ldquo;not applicable&rdquo;?</dt>
            <dd>
              It needs something the file does not have: a face, speech, a video stream, a JPEG. A check that
              does not apply counts for nothing.
            </dd>
            <dt>Is a score the probability that the file is fake?</dt>
            <dd>
              No. A probability is shown only where the operator configured a calibration on labelled media
              for that check, and it is labelled as such.
            </dd>
            <dt>Does the Verify page upload my media file?</dt>
            <dd>
              No. The file is hashed in your browser; only the bundle is sent to the site to be checked.
            </dd>
            <dt>Can the site operator change a report afterwards?</dt>
            <dd>
              Not without it showing: the report&apos;s hash is in the signed statement, and the statement is
              in an append-only log. Keep the bundles you rely on exactly as downloaded.
            </dd>
          </dl>
        </section>

        <section aria-labelledby="references">
          <h2 id="references">Guides and API reference</h2>
          <ul>
            <li>
              <a href="/docs/user-guide.md">User guide</a>: this help in full, with the checks at a glance.
            </li>
            <li>
              <a href="/docs/verification.md">Verification guide</a>: what a bundle proves and how to check
              one without this software.
            </li>
            <li>
              <a href="/docs/detectors.md">Detectors</a>: what each check measures, and the measured figures.
            </li>
            <li>
              <a href="/api/docs">API reference</a> (for signed-in users): every endpoint, rendered from the
              OpenAPI document. Integrators can use the typed TypeScript client in the repository&apos;s{' '}
              <code>clients/typescript</code> folder.
            </li>
          </ul>
        </section>
      </div>
    </Page>
  );
}
