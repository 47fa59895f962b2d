// Typed errors. Every error that reaches the CLI is a TsrunError: its message is the
// one line the user sees; the subclasses carry the failing field, syscall or path
// so that callers (and tests) can tell causes apart without parsing text.

export class TsrunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A command's failure that runc reports with a prefix and an exit status of its own:
 * `exec failed: <why>` and 255 (its callers tell that from the exec'd process's own 1).
 */
export class CommandFailure extends TsrunError {
  constructor(readonly prefix: string, readonly inner: unknown, readonly exitStatus: number) {
    super(`${prefix}: ${inner instanceof Error ? inner.message : String(inner)}`);
  }
}

/** Bad input in config.json or on the command line; `field` is a JSON path or flag name. */
export class ConfigError extends TsrunError {
  constructor(readonly field: string, readonly reason: string) {
    super(field ? `${field}: ${reason}` : reason);
  }
}

/** A config field tsrun does not implement yet: refused, never silently ignored. */
export class NotSupportedError extends ConfigError {
  constructor(field: string) {
    super(field, 'not supported yet');
    this.message = `not supported yet: ${field}`;
  }
}

/** A failed system call, from the addon or from the container's init. */
export class SyscallError extends TsrunError {
  constructor(readonly syscall: string, readonly code: string, message?: string) {
    super(message ?? `${syscall}: ${code}`);
  }
}

/** runc's words exactly (callers match them in stderr); the id is kept on the error. */
export class ContainerNotFoundError extends TsrunError {
  constructor(readonly id: string) {
    super('container does not exist');
  }
}

export class ContainerExistsError extends TsrunError {
  constructor(readonly id: string) {
    super(`container with id ${id} already exists`);
  }
}

/** The container is in the wrong state for the command (runc's phrases). */
export class ContainerStateError extends TsrunError {}

/** The init process reported a failure while setting the container up. */
export class InitError extends TsrunError {}

/** A container id that may not be used as a directory name under --root. */
export class InvalidContainerIdError extends ConfigError {
  constructor(readonly id: string, reason: string) {
    super('id', reason);
    this.message = `invalid container id ${JSON.stringify(id)}: ${reason}`;
  }
}

/** A cgroup filesystem operation failed or the cgroup layout is unusable; `path` names the file or dir. */
export class CgroupError extends TsrunError {
  /** `errno`: the failed syscall's error code, where there was one (EBUSY...). */
  constructor(readonly path: string, message: string, readonly errno?: string) {
    super(message);
  }
}
