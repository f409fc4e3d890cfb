/** How the post will look on each chosen account's platform, drawn from the composer's state
 * alone (text, the account's own text, media picked in this tab, options): nothing is fetched,
 * so the CSP's `img-src 'self' data: blob:` holds. Each preview is a labelled region. */
import { useEffect, useId, useRef } from "react";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import { cn } from "@/lib/utils";
import type { OptionsDraft } from "../lib/options";
import { FOLDS, coverLabel, foldText, frameOf, linkHost, youtubeTitle, type Frame } from "../lib/preview";

export type PreviewMedia = {
  key: string;
  kind: "image" | "video";
  /** A blob: address of a file picked in this tab; null for media uploaded earlier. */
  src: string | null;
  width: number | null;
  height: number | null;
  durationS: number | null;
};

export type PreviewTarget = {
  accountId: string;
  username: string;
  text: string;
  options: OptionsDraft;
};

const FRAMES: Record<Frame, string> = {
  square: "aspect-square",
  portrait: "aspect-[4/5]",
  vertical: "aspect-[9/16] max-h-96",
  wide: "aspect-video",
  natural: "",
};

function Folding({ text, platform, className }: { text: string; platform: PlatformName; className?: string }) {
  const fold = FOLDS[platform];
  const { shown, folded } = fold ? foldText(text, fold) : { shown: text, folded: false };
  return (
    <p className={cn("whitespace-pre-wrap break-words text-sm", className)}>
      {shown || <span className="text-muted-foreground">(no text)</span>}
      {folded && fold && (
        <span className="text-muted-foreground" data-fold="">
          {platform === "linkedin" ? "…" : "… "}
          {fold.more}
        </span>
      )}
    </p>
  );
}

function VideoFrame({ media, coverMs, className }: { media: PreviewMedia; coverMs: number | null; className: string }) {
  const player = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (player.current) player.current.currentTime = (coverMs ?? 0) / 1000;
  }, [coverMs, media.src]);
  if (!media.src)
    return (
      <div className={cn("grid place-items-center bg-black text-sm text-white", className)}>
        ▶ Video{media.durationS ? `, ${Math.round(media.durationS)} s` : ""}
      </div>
    );
  return (
    <video
      ref={player}
      src={media.src}
      muted
      playsInline
      preload="auto"
      aria-label={coverMs !== null ? `Video, cover at ${coverLabel(coverMs)}` : "Video"}
      className={cn("bg-black object-cover", className)}
    />
  );
}

function MediaView({ media, frame, coverMs }: { media: PreviewMedia[]; frame: Frame; coverMs?: number | null }) {
  if (media.length === 0) return null;
  const shape = FRAMES[frame];
  const grid = frame === "natural" && media.length > 1 ? "grid grid-cols-2 gap-0.5" : "grid";
  const shown = frame === "natural" ? media.slice(0, 4) : media.slice(0, 1);
  return (
    <div className={cn(grid, "overflow-hidden rounded-md", frame === "vertical" && "justify-items-center")}>
      {shown.map((m, i) =>
        m.kind === "video" ? (
          <VideoFrame key={m.key} media={m} coverMs={coverMs ?? null} className={cn("w-full", shape)} />
        ) : m.src ? (
          <img key={m.key} src={m.src} alt={`Image ${i + 1}`} className={cn("w-full object-cover", shape || "max-h-72")} />
        ) : (
          <div
            key={m.key}
            className={cn("grid w-full place-items-center bg-muted text-xs text-muted-foreground", shape || "aspect-video")}
          >
            Image{m.width && m.height ? ` ${m.width}×${m.height}` : ""}
          </div>
        ),
      )}
      {frame !== "natural" && media.length > 1 && (
        <p className="mt-1 text-center text-xs text-muted-foreground">1 of {media.length} (swipe for the rest)</p>
      )}
    </div>
  );
}

function Header({ username, platform }: { username: string; platform: PlatformName }) {
  return (
    <div className="flex items-center gap-2">
      <span aria-hidden="true" className="grid size-8 place-items-center rounded-full bg-primary text-xs font-bold text-primary-foreground">
        {username.slice(0, 1).toUpperCase()}
      </span>
      <span className="text-sm font-semibold">@{username}</span>
      <span className="ml-auto text-xs text-muted-foreground">{PLATFORM_LABELS[platform]}</span>
    </div>
  );
}

function Body({ target, media }: { target: PreviewTarget; media: PreviewMedia[] }) {
  const o = target.options;
  const video = media.some((m) => m.kind === "video");
  switch (o.platform) {
    case "x":
      return (
        <ol className="grid gap-0" aria-label="The thread">
          {[target.text, ...(o.thread ?? [])].map((text, i) => (
            <li key={i} className={cn("grid gap-2 border-l-2 border-border pl-3", i > 0 && "pt-3")}>
              <p className="whitespace-pre-wrap break-words text-sm">
                {text || <span className="text-muted-foreground">(empty)</span>}
              </p>
              {i === 0 && <MediaView media={media} frame="natural" />}
            </li>
          ))}
          {o.reply_settings && <li className="pt-2 text-xs text-muted-foreground">Who can reply is limited.</li>}
        </ol>
      );
    case "instagram": {
      const frame = frameOf("instagram", o.media_type, video);
      return (
        <div className="grid gap-2">
          <MediaView media={media} frame={frame} />
          {media.length === 0 && <p className="text-xs text-destructive">Instagram needs an image or a video.</p>}
          <Folding text={target.text} platform="instagram" />
        </div>
      );
    }
    case "tiktok":
      return (
        <div className="relative mx-auto w-full max-w-56 overflow-hidden rounded-md bg-black text-white">
          <MediaView
            media={media.filter((m) => m.kind === "video").slice(0, 1)}
            frame="vertical"
            coverMs={o.video_cover_timestamp_ms ?? null}
          />
          {!video && <div className="grid aspect-[9/16] place-items-center text-xs">TikTok needs a video.</div>}
          <div className="absolute inset-x-0 bottom-0 bg-gradient-to-t from-black/80 p-2">
            <p className="text-xs font-semibold">@{target.username}</p>
            <Folding text={target.text} platform="tiktok" className="text-xs" />
          </div>
        </div>
      );
    case "youtube":
      return (
        <div className="grid gap-2">
          <MediaView media={media.filter((m) => m.kind === "video").slice(0, 1)} frame="wide" />
          {!video && <div className="grid aspect-video place-items-center rounded-md bg-muted text-xs">YouTube needs a video.</div>}
          <p className="font-semibold">{youtubeTitle(o.title)}</p>
          <p className="text-xs text-muted-foreground">
            {o.privacy_status === "public" ? "Public" : o.privacy_status === "unlisted" ? "Unlisted" : "Private"}
            {o.made_for_kids ? " · Made for kids" : ""}
          </p>
          <Folding text={target.text} platform="youtube" className="rounded-md bg-muted p-2" />
        </div>
      );
    case "linkedin":
      return (
        <div className="grid gap-2">
          <Folding text={target.text} platform="linkedin" />
          <MediaView media={media} frame="natural" />
        </div>
      );
    case "facebook": {
      const host = linkHost(o.link);
      return (
        <div className="grid gap-2">
          <Folding text={target.text} platform="facebook" />
          {host ? (
            <div className="rounded-md border border-border">
              <div className="grid aspect-[1.91/1] place-items-center bg-muted text-xs text-muted-foreground">Link preview</div>
              <p className="px-2 py-1 text-xs uppercase text-muted-foreground">{host}</p>
            </div>
          ) : (
            <MediaView media={media} frame="natural" />
          )}
        </div>
      );
    }
  }
}

/** One account's preview. */
export function PostPreview({ target, media }: { target: PreviewTarget; media: PreviewMedia[] }) {
  const id = useId();
  const platform = target.options.platform;
  return (
    <section
      aria-labelledby={id}
      className="grid gap-3 rounded-lg border border-border bg-background p-3"
      data-platform={platform}
    >
      <h3 id={id} className="sr-only">
        Preview on {PLATFORM_LABELS[platform]} @{target.username}
      </h3>
      <Header username={target.username} platform={platform} />
      <Body target={target} media={media} />
    </section>
  );
}

/** Every chosen account's preview. */
export function PostPreviews({ targets, media }: { targets: PreviewTarget[]; media: PreviewMedia[] }) {
  if (targets.length === 0) return <p className="text-sm text-muted-foreground">Choose an account to see how it will look there.</p>;
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      {targets.map((t) => (
        <PostPreview key={t.accountId} target={t} media={media} />
      ))}
    </div>
  );
}
