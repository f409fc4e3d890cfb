/** An image's alt text, saved on the media when the field loses focus: X, LinkedIn and
 * Instagram get it with the image (1,000 characters at most, X's limit). */
import { useId, useState } from "react";
import { Textarea } from "@/components/ui/input";
import { describeError } from "@/lib/api/errors";
import { useSetAltText, type Media } from "../api/media";

export const ALT_TEXT_MAX = 1000;

export function AltTextField({ media, name }: { media: Media; name: string }) {
  const id = useId();
  const [text, setText] = useState(media.alt_text ?? "");
  const [saved, setSaved] = useState(media.alt_text ?? "");
  const save = useSetAltText();
  const length = [...text].length;
  const over = length > ALT_TEXT_MAX;
  const commit = () => {
    if (over || text.trim() === saved.trim()) return;
    save.mutate(
      { mediaId: media.id, altText: text },
      { onSuccess: (m) => setSaved(m.alt_text ?? "") },
    );
  };
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="font-medium">
        Alt text for {name}
      </label>
      <Textarea
        id={id}
        value={text}
        rows={2}
        className="min-h-0 text-xs"
        aria-describedby={`${id}-hint`}
        aria-invalid={over || undefined}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
      />
      <span id={`${id}-hint`} aria-live="polite" className={over ? "text-destructive" : "text-muted-foreground"}>
        {save.isError
          ? describeError(save.error)
          : over
            ? `${length.toLocaleString()} / ${ALT_TEXT_MAX.toLocaleString()} characters — too long for X`
            : save.isPending
              ? "Saving…"
              : text.trim() && text.trim() === saved.trim()
                ? "Saved; sent to X, LinkedIn and Instagram"
                : `${length.toLocaleString()} / ${ALT_TEXT_MAX.toLocaleString()} characters`}
      </span>
    </div>
  );
}
