import { useState } from "preact/hooks";
import { validateJobName } from "../../../host/src/jobs/names.ts";
import { upload, type Job, type JobType } from "../api.ts";
import { useResource } from "../live.ts";
import { href, navigate } from "../router.ts";

interface Picked {
  /** What is sent: a zip or a single script. */
  blob: Blob;
  filename: string;
  /** What the user sees. */
  summary: string;
  suggestedName: string;
}

const baseName = (filename: string) => filename.replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_-]/g, "-");

/** Reads every file under a dropped folder (the File and Directory Entries API). */
async function readFolder(entry: FileSystemDirectoryEntry, prefix = ""): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    for (const child of batch) {
      if (child.isDirectory) {
        Object.assign(files, await readFolder(child as FileSystemDirectoryEntry, `${prefix}${child.name}/`));
      } else {
        const file = await new Promise<File>((resolve, reject) =>
          (child as FileSystemFileEntry).file(resolve, reject),
        );
        files[`${prefix}${child.name}`] = new Uint8Array(await file.arrayBuffer());
      }
    }
  }
  return files;
}

/** Zips a folder in the browser; the zip library is loaded only when a folder is chosen. */
async function zipFolder(name: string, files: Record<string, Uint8Array>): Promise<Picked> {
  const { zipSync } = await import("fflate");
  const zip = zipSync(files, { level: 6 });
  return {
    blob: new Blob([zip as Uint8Array<ArrayBuffer>], { type: "application/zip" }),
    filename: `${name}.zip`,
    summary: `folder ${name} (${Object.keys(files).length} files, zipped here)`,
    suggestedName: baseName(name),
  };
}

const fromFile = (file: File): Picked => ({
  blob: file,
  filename: file.name,
  summary: `${file.name} (${file.size} bytes)`,
  suggestedName: baseName(file.name),
});

/** Deploy by dropping a zip or a folder, or picking a script, zip or folder. */
export function DeployPage() {
  const jobs = useResource<Job[]>("/api/webjobs", (e) => e.kind === "job");
  const [name, setName] = useState("");
  const [type, setType] = useState<JobType>("triggered");
  const [picked, setPicked] = useState<Picked | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  let nameProblem: string | null = null;
  if (name) {
    try {
      validateJobName(name);
    } catch (e) {
      nameProblem = (e as Error).message;
    }
  }
  const existing = jobs.data?.find((job) => job.name === name && job.type === type);

  const choose = (next: Picked) => {
    setPicked(next);
    setError(null);
    if (!name) setName(next.suggestedName);
  };

  const onDrop = async (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const item = event.dataTransfer?.items[0];
    const entry = item?.webkitGetAsEntry?.();
    if (entry?.isDirectory) {
      choose(await zipFolder(entry.name, await readFolder(entry as FileSystemDirectoryEntry)));
      return;
    }
    const file = event.dataTransfer?.files[0];
    if (file) choose(fromFile(file));
  };

  const onFolder = async (input: HTMLInputElement) => {
    const list = [...(input.files ?? [])];
    if (list.length === 0) return;
    const root = list[0].webkitRelativePath.split("/")[0];
    const files: Record<string, Uint8Array> = {};
    for (const file of list) {
      files[file.webkitRelativePath.slice(root.length + 1)] = new Uint8Array(await file.arrayBuffer());
    }
    choose(await zipFolder(root, files));
  };

  const deploy = async (event: Event) => {
    event.preventDefault();
    if (!picked || nameProblem || !name) return;
    setError(null);
    setProgress(0);
    try {
      await upload(type, name, picked.blob, picked.filename, setProgress);
      navigate(href("jobs", type, name));
    } catch (e) {
      setError((e as Error).message);
      setProgress(null);
    }
  };

  return (
    <>
      <h1>Deploy a job</h1>
      <form onSubmit={deploy} class="deploy">
        <div
          class={`dropzone${dragging ? " dragging" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>Drop a zip, a folder or a script here, or pick one:</p>
          <div class="row">
            <label class="button">
              Zip or script
              <input
                type="file"
                class="visually-hidden"
                aria-label="zip or script"
                onChange={(e) => e.currentTarget.files?.[0] && choose(fromFile(e.currentTarget.files[0]))}
              />
            </label>
            <label class="button">
              Folder
              <input
                type="file"
                class="visually-hidden"
                aria-label="folder"
                {...{ webkitdirectory: "" }}
                onChange={(e) => void onFolder(e.currentTarget)}
              />
            </label>
          </div>
          <p aria-live="polite">{picked ? `Chosen: ${picked.summary}` : "Nothing chosen yet."}</p>
        </div>
        <div class="row">
          <label>
            Job name
            <input
              aria-label="job name"
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
              aria-invalid={!!nameProblem}
              aria-describedby="name-help"
              autocomplete="off"
            />
          </label>
          <label>
            Type
            <select value={type} onChange={(e) => setType(e.currentTarget.value as JobType)}>
              <option value="triggered">triggered (on demand or scheduled)</option>
              <option value="continuous">continuous</option>
            </select>
          </label>
        </div>
        <p id="name-help" class={nameProblem ? "error" : "muted"} aria-live="polite">
          {nameProblem ??
            (existing
              ? `A ${type} job named ${name} exists: deploying replaces its code.`
              : "Letters, digits, - and _.")}
        </p>
        <button
          type="submit"
          class="primary"
          disabled={!picked || !name || !!nameProblem || progress !== null}
        >
          Deploy
        </button>
        {progress !== null && (
          <progress max={1} value={progress} aria-label="Upload progress">
            {Math.round(progress * 100)} %
          </progress>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </>
  );
}
