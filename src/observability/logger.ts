import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths that never reach a log line: tokens, passwords, codes, BSNs and message bodies. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.accessToken',
  '*.refreshToken',
  '*.password',
  '*.code',
  '*.activationCode',
  '*.bsn',
  '*.body',
  '*.text',
  'variables.*',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ggz-portal-gateway' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
