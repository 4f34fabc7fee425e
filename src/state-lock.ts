import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;

/** Another daemon holds the lock: this one must not touch the state. */
export class StateLockedError extends Error {
  constructor(
    readonly holder: number | null,
    dbPath: string,
    lockPath: string,
  ) {
    const who = holder === null ? "another agentd daemon" : `another agentd daemon (pid ${holder})`;
    const stop = holder === null ? "stop it first" : `stop it first (kill ${holder})`;
    super(
      `${who} is using ${dbPath}; one database has one daemon: ${stop}, or give this one its own --db (lock file ${lockPath})`,
    );
  }
}

/**
 * The exclusive lock that makes one daemon the owner of a database and everything recorded in
 * it: an flock(2) on a file beside the database, held open for as long as the daemon runs. The
 * kernel drops it when the process ends however it ends (SIGKILL included), so a crashed
 * daemon never leaves a stale lock behind, as a pid file would. The holder's pid is written in
 * the file, for the message a second daemon gives.
 */
export class StateLock {
  private constructor(private fd: number | null) {}

  /** Take the lock, or throw StateLockedError at once, naming the daemon that holds it. */
  static acquire(lockPath: string, dbPath: string): StateLock {
    mkdirSync(dirname(lockPath), { recursive: true, mode: 0o700 });
    const fd = openSync(lockPath, "a+", 0o600);
    const errno = tryLock(fd);
    if (errno !== 0) {
      closeSync(fd);
      if (errno === EWOULDBLOCK) throw new StateLockedError(holderOf(lockPath), dbPath, lockPath);
      throw new Error(`cannot lock ${lockPath}: flock failed with errno ${errno}`);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    return new StateLock(fd);
  }

  /** Let another daemon take over (the file stays: removing it would race with a new holder). */
  release(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

/** 0 once locked, else the errno of the failure (EWOULDBLOCK: someone else holds it). */
function tryLock(fd: number): number {
  const c = libc();
  for (;;) {
    if (c.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return 0;
    const errnoPointer = c.symbols.__errno_location();
    const errno = errnoPointer === null ? -1 : read.i32(errnoPointer, 0);
    if (errno !== EINTR) return errno;
  }
}

function holderOf(lockPath: string): number | null {
  try {
    const text = readFileSync(lockPath, "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

let loaded: ReturnType<typeof openLibc> | null = null;

function libc() {
  loaded ??= openLibc();
  return loaded;
}

function openLibc() {
  return dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}
