import { describe, expect, it } from 'vitest';
import { fileProblem, formatBytes } from '../../web/src/pages/upload/file-checks.js';
import { describeUploadFailure } from '../../web/src/pages/upload/upload-errors.js';

const mib = 1024 * 1024;

describe('checks on a chosen file before any byte is sent', () => {
  it('accepts video and image files within the limit, and media extensions the browser has no type for', () => {
    expect(fileProblem({ name: 'a.mp4', size: 10, type: 'video/mp4' }, 100)).toBeNull();
    expect(fileProblem({ name: 'b.heic', size: 10, type: 'image/heic' }, null)).toBeNull();
    expect(fileProblem({ name: 'c.MKV', size: 10, type: '' }, 100)).toBeNull();
    expect(fileProblem({ name: 'exact.mp4', size: 100, type: 'video/mp4' }, 100)).toBeNull();
  });

  it('explains a file over the server limit with both sizes', () => {
    expect(fileProblem({ name: 'big.mp4', size: 17 * mib, type: 'video/mp4' }, 16 * mib)).toBe(
      'big.mp4 is 17.0 MiB; this server accepts files up to 16.0 MiB.',
    );
    expect(fileProblem({ name: 'one-more.mp4', size: 101, type: 'video/mp4' }, 100)).toMatch(
      /accepts files up to 100 B/,
    );
  });

  it('explains empty, audio and other files', () => {
    expect(fileProblem({ name: 'empty.mp4', size: 0, type: 'video/mp4' }, 100)).toBe('empty.mp4 is empty.');
    expect(fileProblem({ name: 'song.mp3', size: 5, type: 'audio/mpeg' }, 100)).toMatch(
      /audio file; only video and image/,
    );
    expect(fileProblem({ name: 'page.html', size: 5, type: 'text/html' }, 100)).toBe(
      'page.html is not a video or image file (text/html); only video and image files are analysed.',
    );
    expect(fileProblem({ name: 'archive', size: 5, type: '' }, 100)).toMatch(
      /^archive is not a video or image file;/,
    );
    expect(fileProblem({ name: 'clip.mp4.exe', size: 5, type: '' }, 100)).toMatch(/not a video or image/);
  });

  it('formats sizes in binary units', () => {
    expect([0, 950, 1024, 1536, 150 * 1024, 20 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '950 B',
      '1.0 KiB',
      '1.5 KiB',
      '150 KiB',
      '20.0 GiB',
    ]);
  });
});

describe('a failed tus request as a sentence', () => {
  it('offers a retry after a lost connection or a busy server', () => {
    expect(describeUploadFailure(null, null)).toEqual({
      message: 'The connection to the server was lost. Retry to continue where it stopped.',
      retryable: true,
    });
    expect(describeUploadFailure(503, '').retryable).toBe(true);
    expect(describeUploadFailure(409, '{"detail":"offset mismatch"}')).toEqual({
      message: 'Offset mismatch.',
      retryable: true,
    });
  });

  it("shows the server's refusal and offers no retry for it", () => {
    expect(
      describeUploadFailure(
        415,
        JSON.stringify({
          code: 'unsupported-media-type',
          detail: 'the file is an HTML document, not video or image media',
        }),
      ),
    ).toEqual({
      message: 'The file is an HTML document, not video or image media.',
      retryable: false,
    });
    expect(describeUploadFailure(403, '<html>proxy</html>')).toEqual({
      message: 'Your account is not allowed to do this.',
      retryable: false,
    });
  });
});
