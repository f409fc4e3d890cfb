/** Each platform's options, as the publisher's rules take them. */
import { useId } from "react";
import { Button } from "@/components/ui/button";
import { Input, NativeSelect, Textarea } from "@/components/ui/input";
import type { TargetDraft } from "../lib/draft";
import { countFor } from "../lib/counting";
import { FIRST_COMMENT_LIMITS, firstCommentLength, type OptionsDraft, type OptionsOf } from "../lib/options";
import { CoverFrame, type VideoFacts } from "./cover-frame";

type Props = {
  target: TargetDraft;
  name: string;
  onChange: (next: TargetDraft) => void;
  /** The post's video, for TikTok's cover frame (null: no video yet). */
  video?: VideoFacts | null;
};

function SelectOption({
  label,
  value,
  choices,
  onChange,
  placeholder,
}: {
  label: string;
  value: string;
  choices: Array<[string, string]>;
  onChange: (value: string) => void;
  placeholder?: string;
}) {
  const id = useId();
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <NativeSelect id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {placeholder !== undefined && <option value="">{placeholder}</option>}
        {choices.map(([v, words]) => (
          <option key={v} value={v}>
            {words}
          </option>
        ))}
      </NativeSelect>
    </div>
  );
}

function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="flex min-h-9 items-center gap-2 text-sm">
      <input
        type="checkbox"
        className="size-4 accent-primary"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      {label}
    </label>
  );
}

function Thread({ options, accountId, name, onChange }: {
  options: OptionsOf<"x">;
  accountId: string;
  name: string;
  onChange: (next: OptionsOf<"x">) => void;
}) {
  const thread = options.thread ?? [];
  const set = (next: string[]) => onChange({ ...options, thread: next });
  return (
    <fieldset className="grid gap-2">
      <legend className="text-sm font-medium">Thread replies</legend>
      {thread.map((reply, i) => {
        const count = countFor("x", reply);
        return (
          <div key={i} className="grid gap-1">
            <label className="text-sm" htmlFor={`${accountId}-reply-${i}`}>
              Reply {i + 1} for {name}
            </label>
            <Textarea
              id={`${accountId}-reply-${i}`}
              className="min-h-16"
              value={reply}
              onChange={(e) => set(thread.map((r, j) => (j === i ? e.target.value : r)))}
            />
            <div className="flex items-center justify-between text-xs">
              <span className={count.over ? "font-semibold text-destructive" : "text-muted-foreground"}>
                {count.used} / {count.limit}
              </span>
              <Button type="button" variant="ghost" size="sm" onClick={() => set(thread.filter((_, j) => j !== i))}>
                Remove reply {i + 1}
              </Button>
            </div>
          </div>
        );
      })}
      {thread.length < 24 && (
        <Button type="button" variant="outline" size="sm" className="justify-self-start" onClick={() => set([...thread, ""])}>
          Add a reply to the thread
        </Button>
      )}
    </fieldset>
  );
}

/** Select values are strings; "" is the placeholder (the option's null). */
function orNull<T extends string>(v: string): T | null {
  return v === "" ? null : (v as T);
}

export function PlatformOptions(props: Props) {
  const { target, name, onChange } = props;
  const options = target.options;
  const limit = FIRST_COMMENT_LIMITS[options.platform];
  if (limit === undefined) return <OptionsOfPlatform {...props} />;
  const stories = options.platform === "instagram" && options.media_type === "STORIES";
  return (
    <div className="grid gap-3">
      <OptionsOfPlatform {...props} />
      {!stories && (
        <FirstComment
          value={(options as { first_comment?: string | null }).first_comment ?? ""}
          name={name}
          limit={limit}
          onChange={(v) => onChange({ ...target, options: { ...options, first_comment: v } as OptionsDraft })}
        />
      )}
    </div>
  );
}

function FirstComment({
  value,
  name,
  limit,
  onChange,
}: {
  value: string;
  name: string;
  limit: number;
  onChange: (v: string) => void;
}) {
  const id = useId();
  const used = firstCommentLength(value);
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        First comment on {name} (optional)
      </label>
      <Textarea
        id={id}
        className="min-h-16"
        value={value}
        aria-describedby={`${id}-count`}
        placeholder="Posted as the account under the post once it is published"
        onChange={(e) => onChange(e.target.value)}
      />
      <span id={`${id}-count`} className={used > limit ? "text-xs font-semibold text-destructive" : "text-xs text-muted-foreground"}>
        {used} / {limit}
      </span>
    </div>
  );
}

function OptionsOfPlatform({ target, name, onChange, video }: Props) {
  const options = target.options;
  const set = (next: OptionsDraft) => onChange({ ...target, options: next });
  switch (options.platform) {
    case "x":
      return (
        <div className="grid gap-3">
          <SelectOption
            label={`Who can reply on ${name}`}
            value={options.reply_settings ?? ""}
            placeholder="Everyone"
            choices={[
              ["following", "Accounts it follows"],
              ["mentionedUsers", "Accounts it mentions"],
              ["subscribers", "Subscribers"],
              ["verified", "Verified accounts"],
            ]}
            onChange={(v) => set({ ...options, reply_settings: orNull<NonNullable<OptionsOf<"x">["reply_settings"]>>(v) })}
          />
          <Thread options={options} accountId={target.accountId} name={name} onChange={set} />
        </div>
      );
    case "tiktok":
      return (
        <div className="grid gap-2">
          <SelectOption
            label={`Who can watch on ${name}`}
            value={options.privacy_level}
            placeholder="Choose (TikTok requires it)"
            choices={[
              ["PUBLIC_TO_EVERYONE", "Everyone"],
              ["MUTUAL_FOLLOW_FRIENDS", "Friends"],
              ["FOLLOWER_OF_CREATOR", "Followers"],
              ["SELF_ONLY", "Only me"],
            ]}
            onChange={(v) => set({ ...options, privacy_level: orNull<OptionsOf<"tiktok">["privacy_level"]>(v) ?? "" })}
          />
          <Check label="Turn off comments" checked={options.disable_comment} onChange={(v) => set({ ...options, disable_comment: v })} />
          <Check label="Turn off duets" checked={options.disable_duet} onChange={(v) => set({ ...options, disable_duet: v })} />
          <Check label="Turn off stitches" checked={options.disable_stitch} onChange={(v) => set({ ...options, disable_stitch: v })} />
          <CoverFrame
            name={name}
            video={video ?? null}
            valueMs={options.video_cover_timestamp_ms ?? null}
            onChange={(ms) => set({ ...options, video_cover_timestamp_ms: ms })}
          />
        </div>
      );
    case "youtube":
      return (
        <div className="grid gap-2">
          <YouTubeTitle value={options.title} name={name} onChange={(v) => set({ ...options, title: v })} />
          <SelectOption
            label={`Visibility on ${name}`}
            value={options.privacy_status}
            choices={[
              ["public", "Public"],
              ["unlisted", "Unlisted"],
              ["private", "Private"],
            ]}
            onChange={(v) => set({ ...options, privacy_status: v as OptionsOf<"youtube">["privacy_status"] })}
          />
          <Check label="Made for kids" checked={options.made_for_kids} onChange={(v) => set({ ...options, made_for_kids: v })} />
        </div>
      );
    case "instagram":
      return (
        <SelectOption
          label={`Post as on ${name}`}
          value={options.media_type ?? ""}
          placeholder="Decide from the media"
          choices={[
            ["FEED", "Feed post"],
            ["CAROUSEL", "Carousel"],
            ["REELS", "Reel"],
            ["STORIES", "Story"],
          ]}
          onChange={(v) => set({ ...options, media_type: orNull<NonNullable<OptionsOf<"instagram">["media_type"]>>(v) })}
        />
      );
    case "linkedin":
      return (
        <SelectOption
          label={`Who sees it on ${name}`}
          value={options.visibility}
          choices={[
            ["PUBLIC", "Anyone"],
            ["CONNECTIONS", "Connections only"],
            ["LOGGED_IN", "Signed-in members"],
          ]}
          onChange={(v) => set({ ...options, visibility: v as OptionsOf<"linkedin">["visibility"] })}
        />
      );
    case "facebook":
      return <LinkOption value={options.link ?? ""} name={name} onChange={(v) => set({ ...options, link: v || null })} />;
  }
}

function YouTubeTitle({ value, name, onChange }: { value: string; name: string; onChange: (v: string) => void }) {
  const id = useId();
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        Video title on {name}
      </label>
      <Input id={id} value={value} maxLength={100} onChange={(e) => onChange(e.target.value)} />
      <span className="text-xs text-muted-foreground">{value.length} / 100</span>
    </div>
  );
}

function LinkOption({ value, name, onChange }: { value: string; name: string; onChange: (v: string) => void }) {
  const id = useId();
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        Link to share on {name} (optional)
      </label>
      <Input id={id} type="url" inputMode="url" placeholder="https://" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
