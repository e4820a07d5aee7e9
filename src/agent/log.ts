/**
 * The agent's own log: one line per event on stderr (journald, or the terminal), with a level and a
 * UTC timestamp. Script output goes to the deployment's scripts.log instead (scripts.ts).
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface AgentLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function streamLog(write: (line: string) => void, verbose = false): AgentLog {
  const at = (level: Level) => (message: string) => {
    if (level === 'debug' && !verbose) return;
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A log that keeps its lines (tests), or drops them. */
export function memoryLog(lines: string[] = []): AgentLog & { lines: string[] } {
  const at = (level: Level) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
