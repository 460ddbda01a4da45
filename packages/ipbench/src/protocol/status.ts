/** Port an ipbench client (tester) daemon listens on. */
export const CLIENT_DAEMON_PORT = 8036;
/** Port an ipbench target daemon listens on. */
export const TARGET_DAEMON_PORT = 8037;

/** ipbench daemon status codes and their fixed texts (`ipbenchd.py`'s `str_status`). */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  100: 'IPBENCH V1.0',
  200: 'OK',
  220: 'VALID DATA',
  221: 'INVALID DATA',
  222: 'CLOSING CONTROL CONNECTION',
  400: 'ERROR',
  421: 'SERVICE NOT AVAILABLE',
  451: 'LOCAL PROCESSING ERROR',
  500: 'SYNTAX ERROR',
});

/** A status code the daemon sends. */
export type StatusCode = 100 | 200 | 220 | 221 | 222 | 400 | 421 | 451 | 500;

/** `CODE TEXT` or `CODE TEXT (message)`, newline-terminated. */
export function statusLine(code: StatusCode, message?: string): string {
  const text = `${code} ${STATUS_TEXT[code]}`;
  return message ? `${text} (${message.replace(/[()\r\n]/g, ' ').trim()})\n` : `${text}\n`;
}

/** A parsed status line. */
export interface StatusReply {
  /** Three-digit code. */
  code: number;
  /** The fixed text (`OK`, `SYNTAX ERROR`, …). */
  text: string;
  /** The parenthesised message, or empty. */
  message: string;
}

/** Parses `CODE TEXT (message)`; null unless the line starts with three digits. */
export function parseStatusLine(line: string): StatusReply | null {
  const m = /^(\d{3})(?:\s+([^(]*?))?\s*(?:\((.*)\))?\s*$/.exec(line.trim());
  if (!m) return null;
  return { code: Number(m[1]), text: m[2] ?? '', message: m[3] ?? '' };
}
