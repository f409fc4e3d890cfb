import { useId } from "react";
import { NativeSelect } from "@/components/ui/input";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import type { Account } from "@/features/accounts";
import type { PostStatus } from "../api/posts";
import { POST_STATUSES, postStatusWords } from "../lib/target-state";

export type Filters = { status: PostStatus | ""; accountId: string };

export function PostFilters({
  accounts,
  value,
  onChange,
}: {
  accounts: Account[];
  value: Filters;
  onChange: (next: Filters) => void;
}) {
  const id = useId();
  return (
    <div className="flex flex-wrap gap-3" role="group" aria-label="Filters">
      <div className="grid gap-1">
        <label htmlFor={`${id}-status`} className="text-sm font-medium">
          Status
        </label>
        <NativeSelect
          id={`${id}-status`}
          className="min-w-40"
          value={value.status}
          onChange={(e) => onChange({ ...value, status: e.target.value as PostStatus | "" })}
        >
          <option value="">Any status</option>
          {POST_STATUSES.map((s) => (
            <option key={s} value={s}>
              {postStatusWords(s).label}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-1">
        <label htmlFor={`${id}-account`} className="text-sm font-medium">
          Account
        </label>
        <NativeSelect
          id={`${id}-account`}
          className="min-w-48"
          value={value.accountId}
          onChange={(e) => onChange({ ...value, accountId: e.target.value })}
        >
          <option value="">Every account</option>
          {accounts.map((a) => (
            <option key={a.id} value={a.id}>
              {PLATFORM_LABELS[a.platform as PlatformName] ?? a.platform} @{a.username}
            </option>
          ))}
        </NativeSelect>
      </div>
    </div>
  );
}
