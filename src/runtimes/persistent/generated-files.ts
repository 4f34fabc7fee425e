import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConflictError } from "../../errors.ts";
import type { GeneratedFile } from "./assets.ts";
import { lineDiff } from "./line-diff.ts";

export interface HandEdit {
  path: string;
  /** From what agentd would write to what is on disk. */
  diff: string;
}

interface Manifest {
  version: 1;
  /** sha256 of what agentd last wrote, by path. */
  files: Record<string, string>;
}

/**
 * The files agentd generates, with a record (a manifest beside them) of what it last wrote.
 * A file whose content no longer matches that record was edited by hand: it is reported,
 * and only overwritten when the caller forces it. agentd never reverts an edit silently.
 */
export class GeneratedFiles {
  constructor(private readonly manifestPath: string) {}

  /** Write every file that needs it; throws ConflictError (409) if any was hand-edited. */
  write(files: GeneratedFile[], force: boolean): void {
    const manifest = this.load();
    const edits = files.flatMap((file) => {
      const edit = handEdit(file, manifest);
      return edit ? [edit] : [];
    });
    if (edits.length > 0 && !force) {
      throw new ConflictError(
        `generated files were edited by hand since agentd wrote them: ${edits.map((e) => e.path).join(", ")}. ` +
          "agentd does not overwrite them: merge the change into the agent's config (PATCH) or " +
          "retry with ?force=1 to replace them; error.details shows the difference",
        { hand_edits: edits },
      );
    }
    for (const file of files) {
      if (readText(file.path) !== file.content) writeAtomically(file);
      else chmodSync(file.path, file.mode);
      manifest.files[file.path] = sha256(file.content);
    }
    this.save(manifest);
  }

  /** Delete a generated file and its record. */
  remove(path: string): void {
    rmSync(path, { force: true });
    const manifest = this.load();
    if (!(path in manifest.files)) return;
    delete manifest.files[path];
    this.save(manifest);
  }

  private load(): Manifest {
    const text = readText(this.manifestPath);
    if (text === null) return { version: 1, files: {} };
    try {
      const parsed = JSON.parse(text) as Partial<Manifest>;
      return { version: 1, files: { ...parsed.files } };
    } catch {
      // Without a record every differing file counts as hand-edited: the safe side.
      return { version: 1, files: {} };
    }
  }

  private save(manifest: Manifest): void {
    writeAtomically({
      path: this.manifestPath,
      content: `${JSON.stringify(manifest, null, 2)}\n`,
      mode: 0o600,
    });
  }
}

function handEdit(file: GeneratedFile, manifest: Manifest): HandEdit | null {
  const actual = readText(file.path);
  if (actual === null || actual === file.content) return null;
  if (manifest.files[file.path] === sha256(actual)) return null;
  return {
    path: file.path,
    diff: lineDiff(file.content, actual, ["what agentd would write", `${file.path} on disk`]),
  };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Readers (systemd among them) see the old file or the new one, never half of one. */
function writeAtomically(file: GeneratedFile): void {
  mkdirSync(dirname(file.path), { recursive: true, mode: 0o700 });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.content, { mode: file.mode });
  chmodSync(temporary, file.mode);
  renameSync(temporary, file.path);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
