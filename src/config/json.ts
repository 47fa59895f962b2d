import { ConfigError } from '../errors';

/** JSON.parse whose error names the file it came from (config.json, process.json). */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError('', `${file}: invalid JSON: ${(e as Error).message}`);
  }
}
