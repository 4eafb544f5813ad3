import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** The process logger (JSON lines on stdout). */
export function createLogger(level: string, name = 'hoop'): Logger {
  return pino({ name, level, redact: { paths: ['*.apiKey', '*.botToken', '*.signingSecret', 'req.headers.authorization', 'req.headers["x-slack-signature"]'], censor: '[secret]' } });
}
