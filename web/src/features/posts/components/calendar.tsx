/**
 * The calendar: month, week and list views of the workspace's posts, in the workspace's zone.
 * A scheduled post (or one waiting for approval) can be dragged to another day (month) or
 * hour (week): it keeps its wall time otherwise, and the server's refusal is shown in words.
 * Built on native drag and drop and Tailwind classes: FullCalendar v6 injects a <style>
 * element at runtime, which the app's CSP (style-src 'self') refuses (docs/web.md).
 * Keyboard users move a post from its page (Reschedule).
 */
import { addDays, addMonths } from "date-fns";
import { memo, useCallback, useMemo, useState, type DragEvent } from "react";
import { Link } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import { useAccounts } from "@/features/accounts";
import { useWorkspaces } from "@/features/workspaces";
import { describeError } from "@/lib/api/errors";
import { cn } from "@/lib/utils";
import { usePostRange, useReschedule, type CalendarEntry } from "../api/posts";
import { postStatusWords } from "../lib/target-state";
import { calendarDays, formatInZone, movedWallTime, wallTimeFast, wallTimeParam, zoneLabel } from "../lib/zoned";
import { PostFilters, type Filters } from "./post-filters";
import { PostStatusBadge } from "./status-badge";

type View = "month" | "week" | "list";
const MOVABLE = new Set(["draft", "scheduled", "pending_approval"]);
const HOURS = Array.from({ length: 24 }, (_, h) => h);
const DRAG_TYPE = "application/x-socialseed-post";

/** A post as the calendar places it: its wall time in the workspace's zone computed once. */
type Placed = CalendarEntry & { wall: string; names: string };
type MoveHandler = (postId: string, date: string, hour?: number) => void;

function platformNames(entry: CalendarEntry): string {
  return entry.platforms.map((p) => PLATFORM_LABELS[p as PlatformName] ?? p).join(", ");
}

function startDrag(e: DragEvent, id: string) {
  e.dataTransfer.setData(DRAG_TYPE, id);
  e.dataTransfer.setData("text/plain", id);
  e.dataTransfer.effectAllowed = "move";
}

/** A post in a day or an hour. Memoised: a drop or a filter re-renders only what changed,
 * not a month's 2,000 chips. */
const Chip = memo(function Chip({ post, workspaceId }: { post: Placed; workspaceId: string }) {
  const movable = MOVABLE.has(post.status);
  const words = postStatusWords(post.status);
  const time = post.wall.slice(11);
  const text = post.text || "(no text)";
  return (
    <Link
      to={`/w/${workspaceId}/posts/${post.id}`}
      draggable={movable}
      onDragStart={movable ? (e) => startDrag(e, post.id) : undefined}
      className={cn(
        "block truncate rounded border-l-4 bg-muted px-1.5 py-0.5 text-xs hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
        words.tone === "success" && "border-success",
        words.tone === "warning" && "border-warning",
        words.tone === "danger" && "border-destructive",
        words.tone === "neutral" && "border-border",
        movable && "cursor-grab",
      )}
      aria-label={`${time} ${text} (${words.label}, ${post.names})`}
    >
      {time} {text}
    </Link>
  );
});

function useDrop(onDrop: (postId: string) => void) {
  const [over, setOver] = useState(false);
  return {
    over,
    handlers: {
      onDragOver: (e: DragEvent) => {
        if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "move";
        setOver(true);
      },
      onDragLeave: () => setOver(false),
      onDrop: (e: DragEvent) => {
        setOver(false);
        const id = e.dataTransfer.getData(DRAG_TYPE);
        if (!id) return;
        e.preventDefault();
        onDrop(id);
      },
    },
  };
}

const NONE: Placed[] = [];

/** Each post's wall time once, then the days (and a day's hours) it falls in. */
function place(entries: CalendarEntry[], zone: string) {
  const byDay = new Map<string, Placed[]>();
  const byHour = new Map<string, Placed[]>();
  const byId = new Map<string, Placed>();
  for (const entry of entries) {
    const post: Placed = { ...entry, wall: wallTimeFast(entry.scheduled_at, zone), names: platformNames(entry) };
    byId.set(post.id, post);
    const day = post.wall.slice(0, 10);
    const hour = `${day}T${post.wall.slice(11, 13)}`;
    (byDay.get(day) ?? byDay.set(day, []).get(day)!).push(post);
    (byHour.get(hour) ?? byHour.set(hour, []).get(hour)!).push(post);
  }
  return { byDay, byHour, byId };
}

const DayCell = memo(function DayCell({
  day,
  posts,
  workspaceId,
  onMove,
}: {
  day: ReturnType<typeof calendarDays>["days"][number];
  posts: Placed[];
  workspaceId: string;
  onMove: MoveHandler;
}) {
  const drop = useDrop((id) => onMove(id, day.date));
  return (
    <li
      data-date={day.date}
      aria-label={day.label}
      {...drop.handlers}
      className={cn(
        "min-h-20 min-w-0 border-b border-r border-border p-1",
        !day.inMonth && "bg-muted/40 text-muted-foreground",
        drop.over && "bg-primary/10 ring-2 ring-inset ring-primary",
        posts.length === 0 && "max-sm:hidden",
      )}
    >
      <p className={cn("text-xs", day.today && "font-bold text-primary")}>
        <span className="sm:hidden">{day.label}</span>
        <span className="max-sm:hidden">{Number(day.date.slice(8))}</span>
        {day.today && <span className="sr-only"> (today)</span>}
      </p>
      {posts.length > 0 && (
        <ul className="mt-1 grid min-w-0 grid-cols-1 gap-1">
          {posts.map((p) => (
            <li key={p.id}>
              <Chip post={p} workspaceId={workspaceId} />
            </li>
          ))}
        </ul>
      )}
    </li>
  );
});

const HourCell = memo(function HourCell({
  date,
  hour,
  label,
  posts,
  workspaceId,
  onMove,
}: {
  date: string;
  hour: number;
  label: string;
  posts: Placed[];
  workspaceId: string;
  onMove: MoveHandler;
}) {
  const drop = useDrop((id) => onMove(id, date, hour));
  return (
    <div
      data-date={date}
      data-hour={hour}
      role="gridcell"
      title={`${label}, ${String(hour).padStart(2, "0")}:00`}
      {...drop.handlers}
      className={cn("grid min-h-8 min-w-0 grid-cols-1 border-b border-r border-border p-0.5", drop.over && "bg-primary/10 ring-2 ring-inset ring-primary")}
    >
      {posts.map((p) => (
        <Chip key={p.id} post={p} workspaceId={workspaceId} />
      ))}
    </div>
  );
});

export function Calendar({ workspaceId }: { workspaceId: string }) {
  const [view, setView] = useState<View>("month");
  const [anchor, setAnchor] = useState(() => new Date());
  const [filters, setFilters] = useState<Filters>({ status: "", accountId: "" });
  const workspaces = useWorkspaces();
  const accounts = useAccounts(workspaceId);
  const reschedule = useReschedule(workspaceId);
  const [moved, setMoved] = useState<string | null>(null);
  const zone = useMemo(() => workspaces.data?.find((w) => w.id === workspaceId)?.timezone ?? "UTC", [workspaces.data, workspaceId]);
  const grid = calendarDays(view === "week" ? "week" : "month", anchor, zone);
  const posts = usePostRange(workspaceId, {
    from: grid.start.toISOString(),
    to: grid.end.toISOString(),
    status: filters.status || undefined,
    accountId: filters.accountId || undefined,
  }, workspaces.isSuccess); // the range is the zone's: asked once the zone is known, not first in UTC
  const placed = useMemo(() => place(posts.data ?? NONE, zone), [posts.data, zone]);

  // One handler for every cell while the posts stay the same, so memoised cells keep their props.
  const { mutate } = reschedule;
  const move = useCallback<MoveHandler>((postId, date, hour) => {
    const post = placed.byId.get(postId);
    if (!post || !MOVABLE.has(post.status)) return;
    const postZone = post.timezone || zone;
    const from = postZone === zone ? post.wall : wallTimeFast(post.scheduled_at, postZone);
    const wall = movedWallTime(from, date, hour);
    if (wall === from) return;
    setMoved(null);
    mutate(
      { postId, scheduledAt: wallTimeParam(wall) },
      {
        onSuccess: (p) =>
          setMoved(p?.scheduled_at ? `Moved to ${formatInZone(p.scheduled_at, zone)} (${zone}).` : null),
      },
    );
  }, [placed, zone, mutate]);

  const step = (direction: 1 | -1) =>
    setAnchor((a) => (view === "week" ? addDays(a, 7 * direction) : addMonths(a, direction)));
  const title =
    view === "week"
      ? `Week of ${grid.days[0]?.label ?? ""}`
      : formatInZone(new Date((grid.start.getTime() + grid.end.getTime()) / 2), zone, "MMMM yyyy");

  return (
    <div className="grid grid-cols-1 gap-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex flex-wrap items-center gap-2">
          <div role="group" aria-label="View" className="flex gap-1">
            {(["month", "week", "list"] as const).map((v) => (
              <Button key={v} size="sm" variant={view === v ? "default" : "outline"} aria-pressed={view === v} onClick={() => setView(v)}>
                {v[0]!.toUpperCase() + v.slice(1)}
              </Button>
            ))}
          </div>
          <div className="flex gap-1">
            <Button size="sm" variant="outline" onClick={() => step(-1)}>
              Previous<span className="sr-only"> {view === "week" ? "week" : "month"}</span>
            </Button>
            <Button size="sm" variant="outline" onClick={() => setAnchor(new Date())}>
              Today
            </Button>
            <Button size="sm" variant="outline" onClick={() => step(1)}>
              Next<span className="sr-only"> {view === "week" ? "week" : "month"}</span>
            </Button>
          </div>
        </div>
        <PostFilters accounts={accounts.data ?? []} value={filters} onChange={setFilters} />
      </div>
      <h2 className="text-lg font-semibold" aria-live="polite">
        {title}
      </h2>
      <p className="text-sm text-muted-foreground">
        Times in {zoneLabel(zone)}, the workspace's zone. Drag a scheduled post to move it, or open it
        and choose Reschedule.
      </p>
      {reschedule.isError && <Alert>Could not move the post: {describeError(reschedule.error)}</Alert>}
      {moved && !reschedule.isError && <Alert tone="info">{moved}</Alert>}
      {workspaces.isError && <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />}
      {posts.isPending && !workspaces.isError && <Loading label="Loading the calendar…" />}
      {posts.isError && <ErrorState error={posts.error} onRetry={() => void posts.refetch()} />}
      {posts.isSuccess && view === "month" && (
        <div>
          <div aria-hidden="true" className="grid grid-cols-7 border-l border-t border-border text-center text-xs font-medium max-sm:hidden">
            {["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d) => (
              <div key={d} className="border-b border-r border-border py-1">
                {d}
              </div>
            ))}
          </div>
          <ol aria-label={`Days of ${title}`} className="grid border-l border-border max-sm:border-t sm:grid-cols-7">
            {grid.days.map((day) => (
              <DayCell key={day.date} day={day} posts={placed.byDay.get(day.date) ?? NONE} workspaceId={workspaceId} onMove={move} />
            ))}
          </ol>
          {posts.data.length === 0 && <p className="mt-2 text-sm text-muted-foreground">No posts this month.</p>}
        </div>
      )}
      {posts.isSuccess && view === "week" && (
        <div className="overflow-x-auto">
          <div role="grid" aria-label={title} className="grid min-w-[42rem] grid-cols-[3rem_repeat(7,1fr)] border-l border-t border-border">
            <div role="row" className="contents">
              <div role="columnheader" className="border-b border-r border-border" />
              {grid.days.map((d) => (
                <div role="columnheader" key={d.date} className={cn("border-b border-r border-border p-1 text-center text-xs font-medium", d.today && "text-primary")}>
                  {formatInZone(`${d.date}T12:00:00Z`, "UTC", "EEE d")}
                </div>
              ))}
            </div>
            {HOURS.map((h) => (
              <div role="row" key={h} className="contents">
                <div role="rowheader" className="border-b border-r border-border pr-1 text-right text-xs text-muted-foreground">
                  {String(h).padStart(2, "0")}:00
                </div>
                {grid.days.map((d) => (
                  <HourCell
                    key={d.date}
                    date={d.date}
                    hour={h}
                    label={d.label}
                    posts={placed.byHour.get(`${d.date}T${String(h).padStart(2, "0")}`) ?? NONE}
                    workspaceId={workspaceId}
                    onMove={move}
                  />
                ))}
              </div>
            ))}
          </div>
        </div>
      )}
      {posts.isSuccess && view === "list" && (
        posts.data.length === 0 ? (
          <EmptyState title="No posts this month" />
        ) : (
          <ul aria-label={`Posts of ${title}`} className="divide-y divide-border rounded-lg border border-border">
            {posts.data.map((p) => (
              <li key={p.id}>
                <Link to={`/w/${workspaceId}/posts/${p.id}`} className="flex flex-wrap items-center gap-3 px-4 py-3 hover:bg-muted">
                  <time dateTime={p.scheduled_at} className="w-44 text-sm text-muted-foreground">
                    {formatInZone(p.scheduled_at, zone)}
                  </time>
                  <span className="min-w-0 max-w-full flex-1 truncate">{p.text || "(no text)"}</span>
                  <span className="text-xs text-muted-foreground">{platformNames(p)}</span>
                  <PostStatusBadge status={p.status} />
                </Link>
              </li>
            ))}
          </ul>
        )
      )}
    </div>
  );
}
