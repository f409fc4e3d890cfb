/** TikTok's cover frame (`video_cover_timestamp_ms`): a slider over the video's length, the
 * frame shown from the user's own file (a blob: address, which the CSP's media-src allows). */
import { useEffect, useId, useRef } from "react";
import { Button } from "@/components/ui/button";
import { coverLabel, coverMaxMs } from "../lib/preview";

export type VideoFacts = {
  /** The video's length as the server measured it. */
  durationS: number | null;
  /** A blob: address of the file picked in this tab (none for media uploaded earlier). */
  src: string | null;
};

export function CoverFrame({
  name,
  video,
  valueMs,
  onChange,
}: {
  name: string;
  video: VideoFacts | null;
  valueMs: number | null;
  onChange: (ms: number | null) => void;
}) {
  const id = useId();
  const player = useRef<HTMLVideoElement>(null);
  const max = coverMaxMs(video?.durationS ?? null);
  const at = valueMs ?? 0;
  useEffect(() => {
    if (player.current && Number.isFinite(at)) player.current.currentTime = at / 1000;
  }, [at, video?.src]);
  if (!video || max === null)
    return <p className="text-sm text-muted-foreground">Add a video to choose its cover frame on {name}.</p>;
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        Cover frame on {name}
      </label>
      <div className="flex flex-wrap items-center gap-3">
        {video.src && (
          <video
            ref={player}
            src={video.src}
            muted
            playsInline
            preload="auto"
            aria-label={`The cover frame at ${coverLabel(at)}`}
            className="h-24 w-auto rounded bg-black"
          />
        )}
        <input
          id={id}
          type="range"
          min={0}
          max={max}
          step={100}
          value={Math.min(at, max)}
          aria-valuetext={coverLabel(at)}
          className="w-48 accent-primary"
          onChange={(e) => onChange(Number(e.target.value))}
        />
        <span className="text-sm tabular-nums">{valueMs === null ? "first frame (TikTok's default)" : coverLabel(at)}</span>
        {valueMs !== null && (
          <Button type="button" variant="ghost" size="sm" onClick={() => onChange(null)}>
            Use TikTok's default cover
          </Button>
        )}
      </div>
    </div>
  );
}
