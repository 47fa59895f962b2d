import type { CommandModule } from 'yargs';
import type * as Stats from '../../cgroups/stats';
import { TsrunError } from '../../errors';
import { containerId, type GlobalOptions } from './common';
import { writeStdout } from '../../output';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadStats = (): typeof Stats => require('../../cgroups/stats');

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadEvents = (): typeof import('../../lifecycle/events') => require('../../lifecycle/events');

/** The longest Go duration (int64 nanoseconds), in ms. */
const GO_MAX_DURATION_MS = 9223372036854.775807;

/**
 * A Go duration as runc's --interval takes it (time.ParseDuration): "5s", "500ms",
 * "1m30s", ".5s", "1.s", a sign, and a bare "0"; runc then refuses one that is not
 * above 0 in words of its own.
 */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const sign = text.startsWith('-') ? -1 : 1;
  const body = /^[-+]/.test(text) ? text.slice(1) : text;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += Number(m[1]) * units[m[2]];
    matched = re.lastIndex;
  }
  const unparsed = body !== '0' && (body === '' || matched !== body.length);
  // Go keeps a duration in int64 nanoseconds: past 2562047h47m16.854775807s it refuses it.
  if (unparsed || total > GO_MAX_DURATION_MS) throw new TsrunError(`invalid value "${text}" for flag -interval: parse error`);
  if (sign * total <= 0) throw new TsrunError('duration interval must be greater than 0');
  return total;
}

export const events: CommandModule<GlobalOptions, GlobalOptions & { stats: boolean; interval: string }> = {
  command: 'events [container-id]',
  describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', describe: 'the container id' })
      .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
      .option('stats', { type: 'boolean', default: false, describe: 'display the container\'s stats then exit' }),
  handler: async (argv) => {
    const id = containerId(argv, 'events');
    const intervalMs = parseDuration(argv.interval);
    const print = (e: unknown): void => {
      writeStdout(loadStats().statsJson(e) + '\n');
    };
    if (argv.stats) {
      print(loadEvents().statsEvent(argv.root, id));
      return;
    }
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await loadEvents().streamEvents(argv.root, id, intervalMs, print, abort.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
