import * as fs from 'fs';
import * as path from 'path';
import { renameFile, writeFile } from '../host-files';

/** Write then rename, so a reader never sees half a file (pid files). */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFile(tmp, content, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
  renameFile(tmp, file);
}
