/**
 * Crash tracking (deployment_command_tracker.rb): before a command runs, the agent writes
 * `<root>/ongoing-deployment/<deployment-id>` holding the host command's id, and deletes it when
 * the command is over. A file left there is a command a crash or a kill interrupted: at its next
 * start the agent reports it Failed with code 7 ("failed after restart"), unless it is older than
 * 24 hours (then it is dropped).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Layout } from './layout.js';

export const STALE_AFTER_MS = 24 * 3600 * 1000;

export interface Interrupted {
  deploymentId: string;
  hostCommandIdentifier: string;
  mtimeMs: number;
}

export class CommandTracker {
  constructor(private readonly layout: Layout) {}

  start(deploymentId: string, hostCommandIdentifier: string): void {
    mkdirSync(this.layout.ongoingDir, { recursive: true });
    writeFileSync(this.layout.ongoingFile(deploymentId), hostCommandIdentifier);
  }

  end(deploymentId: string): void {
    try {
      unlinkSync(this.layout.ongoingFile(deploymentId));
    } catch {
      // already gone
    }
  }

  /** The commands left by an earlier run, newest first (stale ones are deleted). */
  interrupted(now = Date.now()): Interrupted[] {
    let names: string[];
    try {
      names = readdirSync(this.layout.ongoingDir);
    } catch {
      return [];
    }
    const found: Interrupted[] = [];
    for (const name of names) {
      const file = join(this.layout.ongoingDir, name);
      try {
        const { mtimeMs } = statSync(file);
        if (now - mtimeMs > STALE_AFTER_MS) {
          unlinkSync(file);
          continue;
        }
        const id = readFileSync(file, 'utf8').trim();
        if (id) found.push({ deploymentId: name, hostCommandIdentifier: id, mtimeMs });
        else unlinkSync(file);
      } catch {
        // a file that vanished or is not readable: not a command to report
      }
    }
    return found.sort((a, b) => b.mtimeMs - a.mtimeMs);
  }

  /** Forget one interrupted command once it is reported. */
  clear(deploymentId: string): void {
    this.end(deploymentId);
  }

  clearAll(): void {
    rmSync(this.layout.ongoingDir, { recursive: true, force: true });
  }
}
