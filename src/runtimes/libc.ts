import { dlopen, FFIType, type Pointer, ptr } from "bun:ffi";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;

type Libc = {
  prctl(option: number, arg2: number, arg3: number, arg4: number, arg5: number): number;
  waitpid(pid: number, status: Pointer, options: number): number;
  fallocate(fd: number, mode: number, offset: number, length: number): number;
};

let loaded: Libc | null | undefined;

/** The few C library calls Bun has no API for; null where they cannot be loaded (not glibc Linux). */
function libc(): Libc | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== "linux") return loaded;
  try {
    const { i32, i64, u64 } = FFIType;
    loaded = dlopen("libc.so.6", {
      prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
      waitpid: { args: [i32, FFIType.ptr, i32], returns: i32 },
      fallocate: { args: [i32, i32, i64, i64], returns: i32 },
    }).symbols as unknown as Libc;
  } catch (error) {
    log.warn(`cannot load libc.so.6: ${errorMessage(error)}`);
  }
  return loaded;
}

/**
 * Make this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): what its descendants
 * leave behind when their parent exits — a double fork, a daemon that called setsid() — is
 * re-parented to it instead of init, so it stays within reach, and this process must collect
 * it when it exits. False where the system does not allow it.
 */
export function setChildSubreaper(): boolean {
  return libc()?.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/** waitpid(pid, WNOHANG): collect a child that has exited, if it has. */
export function collectChild(pid: number): void {
  const status = new Int32Array(1);
  libc()?.waitpid(pid, ptr(status), WNOHANG);
}

/**
 * Free the disk blocks of a byte range of a file, leaving its size and every other byte as
 * they were (fallocate PUNCH_HOLE): the range reads as zeros afterwards. False where the
 * filesystem cannot.
 */
export function punchHole(fd: number, offset: number, length: number): boolean {
  const mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
  return libc()?.fallocate(fd, mode, offset, length) === 0;
}
