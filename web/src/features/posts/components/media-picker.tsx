/** Upload images and videos with progress; images get a preview (a blob: address of the
 * file itself, which the CSP allows), videos a card with their length (their blob: address
 * serves the composer's cover frame and previews). Media a post already had (when editing)
 * come without a file: a card with their size. */
import { useEffect, useId, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { describeError } from "@/lib/api/errors";
import { uploadMedia, type Media } from "../api/media";
import { AltTextField } from "./alt-text-field";

export type Upload = {
  key: string;
  name: string;
  kind: "image" | "video";
  preview: string | null;
  progress: number;
  media: Media | null;
  error: string | null;
};

let counter = 0;

export function MediaPicker({
  workspaceId,
  uploads,
  onChange,
}: {
  workspaceId: string;
  uploads: Upload[];
  onChange: (update: (uploads: Upload[]) => Upload[]) => void;
}) {
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [previews] = useState(() => new Set<string>());
  useEffect(() => () => previews.forEach((url) => URL.revokeObjectURL(url)), [previews]);

  const patch = (key: string, change: Partial<Upload>) =>
    onChange((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const add = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const key = `upload-${++counter}`;
      const kind = file.type.startsWith("video/") ? "video" : "image";
      // a blob: of the file itself: an image's thumbnail, a video's frames (cover, previews)
      const preview = URL.createObjectURL(file);
      if (preview) previews.add(preview);
      onChange((all) => [
        ...all,
        { key, name: file.name, kind, preview, progress: 0, media: null, error: null },
      ]);
      uploadMedia(workspaceId, file, (share) => patch(key, { progress: share }))
        .then((media) => patch(key, { media, progress: 1 }))
        .catch((error: unknown) => patch(key, { error: describeError(error) }));
    }
    if (input.current) input.current.value = "";
  };

  return (
    <div className="grid gap-2">
      <div className="flex flex-wrap items-center gap-2">
        <label htmlFor={inputId} className="text-sm font-medium">
          Media
        </label>
        <input
          ref={input}
          id={inputId}
          type="file"
          multiple
          accept="image/jpeg,image/png,image/gif,image/webp,video/mp4,video/quicktime,video/webm"
          className="max-w-full text-sm file:mr-3 file:min-h-9 file:rounded-md file:border file:border-input file:bg-background file:px-3 file:text-foreground"
          onChange={(e) => add(e.target.files)}
        />
      </div>
      {uploads.length > 0 && (
        <ul className="grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Attached media">
          {uploads.map((u) => (
            <li key={u.key} className="grid gap-1 rounded-md border border-border p-2 text-xs">
              {u.preview && u.kind === "image" ? (
                <img src={u.preview} alt={`Preview of ${u.name}`} className="aspect-square w-full rounded object-cover" />
              ) : (
                <div className="grid aspect-square w-full place-items-center rounded bg-muted text-center">
                  {u.kind === "video" ? "Video" : "Image"}
                  {u.media?.duration_s ? `, ${Math.round(u.media.duration_s)} s` : ""}
                </div>
              )}
              <span className="truncate" title={u.name}>
                {u.name}
              </span>
              {u.error ? (
                <span role="alert" className="text-destructive">
                  {u.error}
                </span>
              ) : u.media ? (
                <span className="text-muted-foreground">
                  {u.media.width && u.media.height ? `${u.media.width}×${u.media.height}` : "Uploaded"}
                </span>
              ) : (
                <progress
                  className="w-full accent-primary"
                  max={1}
                  value={u.progress}
                  aria-label={`Uploading ${u.name}`}
                />
              )}
              {u.media && u.kind === "image" && <AltTextField media={u.media} name={u.name} />}
              <Button
                type="button"
                variant="ghost"
                size="sm"
                onClick={() => onChange((all) => all.filter((x) => x.key !== u.key))}
              >
                Remove<span className="sr-only"> {u.name}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
