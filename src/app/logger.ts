import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.schema.js';

/** One root logger per process; everything else gets a child carrying requestId / jobId / analysisId. */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      base: { service: 'guardian' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-csrf-token"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.key',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
