import * as fs from 'fs';
import * as path from 'path';
import { removeFile, renameFile, writeFile } from '../host-files';

/**
 * Write then rename, so a reader never sees half a file (pid files). The temporary
 * file is made new (O_EXCL, O_NOFOLLOW) under a name not known before: a pid file's
 * directory may be writable by others (/tmp), and a symlink planted at a temporary
 * name tsrun would open must never make root write through it (runc: O_EXCL too).
 */
export function writeFileAtomic(file: string, content: string): void {
  const dir = path.dirname(file);
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
  for (let attempt = 1; ; attempt++) {
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    try {
      writeFile(tmp, content, flags, 0o644);
    } catch (e) {
      // Someone else's file at that name: another name.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
      throw e;
    }
    try {
      renameFile(tmp, file);
    } catch (e) {
      try {
        removeFile(tmp);
      } catch {
        // the rename's error is the one to report
      }
      throw e;
    }
    return;
  }
}
