import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Root can mount small filesystems (and permissions do not stop it); others cannot. */
export const IS_ROOT = process.getuid?.() === 0;

const mounted: string[] = [];

/**
 * Unmount and remove every filesystem smallFilesystem() or blockRemoval() mounted. Each test file that makes one
 * calls this in its own afterAll: a helper's afterAll belongs to the first file that loads it.
 */
export function unmountAll(): void {
  for (const dir of mounted.splice(0).reverse()) {
    unmount(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function unmount(dir: string): void {
  Bun.spawnSync(["umount", "-l", dir]);
}

function mount(dir: string, bytes: number): void {
  const result = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir]);
  if (result.exitCode !== 0) throw new Error(`mount failed: ${result.stderr.toString()}`);
}

/**
 * A directory of its own on a tmpfs of `bytes` (root only), for unmountAll() to remove. Not
 * inside a tempDir(): those may be removed first, and a mount point cannot be.
 */
export function smallFilesystem(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), "agentd-small-fs-"));
  mount(dir, bytes);
  mounted.push(dir);
  return dir;
}

/**
 * Fill the filesystem `dir` is on until not one more byte fits; `free()` gives the space
 * back. (A small tmpfs: anything larger would take a while.)
 */
export function fillFilesystem(dir: string): { free(): void } {
  const filler = join(dir, `.filler-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(filler, "w");
  const block = Buffer.alloc(64 * 1024, 0x78);
  try {
    for (let size = block.length; size >= 1; ) {
      try {
        writeSync(fd, block, 0, size);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        size = Math.floor(size / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
  return { free: () => rmSync(filler, { force: true }) };
}

/**
 * Make `dir` impossible to remove until `release()`: as root, a filesystem mounted inside it
 * (EBUSY); otherwise, no write permission on it (EACCES).
 */
export function blockRemoval(dir: string): { release(): void } {
  if (IS_ROOT) {
    const mountPoint = join(dir, "mounted");
    mkdirSync(mountPoint);
    mount(mountPoint, 64 * 1024);
    mounted.push(mountPoint);
    return {
      release: () => {
        unmount(mountPoint);
        mounted.splice(mounted.indexOf(mountPoint), 1);
      },
    };
  }
  chmodSync(dir, 0o500);
  return { release: () => chmodSync(dir, 0o700) };
}
