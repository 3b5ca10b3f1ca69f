/**
 * Errors a caller can act on. Each has a stable code: the problem+json `type` is
 * `https://secureai-guardian.dev/problems/<code>` and `code` is repeated as an extension member.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail ?? title);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError(404, 'not-found', 'Not found', `${what} not found`);
export const conflict = (detail: string) => new AppError(409, 'conflict', 'Conflict', detail);
export const badRequest = (code: string, detail: string) => new AppError(400, code, 'Bad request', detail);
export const payloadTooLarge = (limit: number) =>
  new AppError(
    413,
    'upload-too-large',
    'Upload too large',
    `the upload exceeds the limit of ${limit} bytes`,
    {
      limitBytes: limit,
    },
  );
export const unsupportedMedia = (detail: string) =>
  new AppError(415, 'unsupported-media-type', 'Unsupported media type', detail);
export const unprocessableMedia = (detail: string) =>
  new AppError(422, 'media-unreadable', 'Media could not be read', detail);
/** The file is cut: its index points past the data, or an image has no end. */
export const mediaTruncated = (detail: string) =>
  new AppError(422, 'media-truncated', 'Media is truncated', detail);
/** The samples are there but no frame decodes. */
export const mediaUndecodable = (detail: string) =>
  new AppError(422, 'media-undecodable', 'Media does not decode', detail);
/** The bitstream declares pictures beyond MAX_VIDEO_PIXELS / MAX_IMAGE_PIXELS / MAX_MEDIA_DIMENSION. */
export const mediaDimensionsTooLarge = (detail: string) =>
  new AppError(422, 'media-dimensions-too-large', 'Media dimensions too large', detail);
export const unauthorized = () =>
  new AppError(
    401,
    'unauthenticated',
    'Authentication required',
    'sign in (session cookie) or send Authorization: Bearer <API key>',
  );
export const forbidden = (detail: string) => new AppError(403, 'forbidden', 'Forbidden', detail);
