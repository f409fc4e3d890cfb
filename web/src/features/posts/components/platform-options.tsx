/** Each platform's options, as the publisher's rules take them. */
import { useId } from "react";
import { Button } from "@/components/ui/button";
import { Input, NativeSelect, Textarea } from "@/components/ui/input";
import type { TargetDraft } from "../lib/draft";
import { countFor } from "../lib/counting";

type Props = {
  target: TargetDraft;
  name: string;
  onChange: (next: TargetDraft) => void;
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

function Thread({ target, name, onChange }: Props) {
  const set = (thread: string[]) => onChange({ ...target, thread });
  return (
    <fieldset className="grid gap-2">
      <legend className="text-sm font-medium">Thread replies</legend>
      {target.thread.map((reply, i) => {
        const count = countFor("x", reply);
        return (
          <div key={i} className="grid gap-1">
            <label className="text-sm" htmlFor={`${target.accountId}-reply-${i}`}>
              Reply {i + 1} for {name}
            </label>
            <Textarea
              id={`${target.accountId}-reply-${i}`}
              className="min-h-16"
              value={reply}
              onChange={(e) => set(target.thread.map((r, j) => (j === i ? e.target.value : r)))}
            />
            <div className="flex items-center justify-between text-xs">
              <span className={count.over ? "font-semibold text-destructive" : "text-muted-foreground"}>
                {count.used} / {count.limit}
              </span>
              <Button
                type="button"
                variant="ghost"
                size="sm"
                onClick={() => set(target.thread.filter((_, j) => j !== i))}
              >
                Remove reply {i + 1}
              </Button>
            </div>
          </div>
        );
      })}
      {target.thread.length < 24 && (
        <Button type="button" variant="outline" size="sm" className="justify-self-start" onClick={() => set([...target.thread, ""])}>
          Add a reply to the thread
        </Button>
      )}
    </fieldset>
  );
}

export function PlatformOptions({ target, name, onChange }: Props) {
  const value = (key: string) => String(target.options[key] ?? "");
  const flag = (key: string) => target.options[key] === true;
  const set = (key: string, v: string | boolean) =>
    onChange({ ...target, options: { ...target.options, [key]: v } });
  switch (target.platform) {
    case "x":
      return (
        <div className="grid gap-3">
          <SelectOption
            label={`Who can reply on ${name}`}
            value={value("reply_settings")}
            placeholder="Everyone"
            choices={[
              ["following", "Accounts it follows"],
              ["mentionedUsers", "Accounts it mentions"],
              ["subscribers", "Subscribers"],
              ["verified", "Verified accounts"],
            ]}
            onChange={(v) => set("reply_settings", v)}
          />
          <Thread target={target} name={name} onChange={onChange} />
        </div>
      );
    case "tiktok":
      return (
        <div className="grid gap-2">
          <SelectOption
            label={`Who can watch on ${name}`}
            value={value("privacy_level")}
            placeholder="Choose (TikTok requires it)"
            choices={[
              ["PUBLIC_TO_EVERYONE", "Everyone"],
              ["MUTUAL_FOLLOW_FRIENDS", "Friends"],
              ["FOLLOWER_OF_CREATOR", "Followers"],
              ["SELF_ONLY", "Only me"],
            ]}
            onChange={(v) => set("privacy_level", v)}
          />
          <Check label="Turn off comments" checked={flag("disable_comment")} onChange={(v) => set("disable_comment", v)} />
          <Check label="Turn off duets" checked={flag("disable_duet")} onChange={(v) => set("disable_duet", v)} />
          <Check label="Turn off stitches" checked={flag("disable_stitch")} onChange={(v) => set("disable_stitch", v)} />
        </div>
      );
    case "youtube":
      return (
        <div className="grid gap-2">
          <YouTubeTitle value={value("title")} name={name} onChange={(v) => set("title", v)} />
          <SelectOption
            label={`Visibility on ${name}`}
            value={value("privacy_status") || "public"}
            choices={[
              ["public", "Public"],
              ["unlisted", "Unlisted"],
              ["private", "Private"],
            ]}
            onChange={(v) => set("privacy_status", v)}
          />
          <Check label="Made for kids" checked={flag("made_for_kids")} onChange={(v) => set("made_for_kids", v)} />
        </div>
      );
    case "instagram":
      return (
        <SelectOption
          label={`Post as on ${name}`}
          value={value("media_type")}
          placeholder="Decide from the media"
          choices={[
            ["FEED", "Feed post"],
            ["CAROUSEL", "Carousel"],
            ["REELS", "Reel"],
            ["STORIES", "Story"],
          ]}
          onChange={(v) => set("media_type", v)}
        />
      );
    case "linkedin":
      return (
        <SelectOption
          label={`Who sees it on ${name}`}
          value={value("visibility") || "PUBLIC"}
          choices={[
            ["PUBLIC", "Anyone"],
            ["CONNECTIONS", "Connections only"],
            ["LOGGED_IN", "Signed-in members"],
          ]}
          onChange={(v) => set("visibility", v)}
        />
      );
    case "facebook":
      return <LinkOption value={value("link")} name={name} onChange={(v) => set("link", v)} />;
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
