/** A workspace's API keys: name, role, prefix, created, last used; make one (its role at most
 * the maker's; the key shown once) and revoke one (confirmed). */
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input, NativeSelect } from "@/components/ui/input";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { useApiKeys, useCreateApiKey, useRevokeApiKey, type ApiKey } from "../api/api-keys";
import { keyRoles, placeError, type KeyRole } from "../lib/integrations";
import { ConfirmButton } from "./confirm-button";
import { SecretBox } from "./secret-box";

const ROLE_WORDS: Record<string, string> = { owner: "Owner", admin: "Admin", editor: "Editor", viewer: "Viewer" };
const FIELDS = ["name", "role"] as const;

function CreateKey({ workspaceId, myRole }: { workspaceId: string; myRole: string }) {
  const create = useCreateApiKey(workspaceId);
  const roles = keyRoles(myRole);
  const [name, setName] = useState("");
  const [role, setRole] = useState<KeyRole>(roles.includes("editor") ? "editor" : (roles[0] ?? "viewer"));
  const refusal = create.isError ? placeError(create.error, FIELDS, { InsufficientRole: "role" }) : null;
  if (create.isSuccess)
    return (
      <SecretBox label="API key" value={create.data.key} onDone={() => create.reset()}>
        Send it as <code>Authorization: Bearer &lt;key&gt;</code>; lost, revoke it and make another.
      </SecretBox>
    );
  return (
    <form
      aria-label="Make an API key"
      className="grid gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-end"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate({ name: name.trim(), role }, { onSuccess: () => setName("") });
      }}
    >
      <Field label="Key name" error={refusal?.field === "name" ? refusal.message : undefined}>
        <Input
          required
          maxLength={100}
          autoComplete="off"
          placeholder="What it is for"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </Field>
      <Field label="Key role" error={refusal?.field === "role" ? refusal.message : undefined}>
        <NativeSelect
          value={role}
          onChange={(e) => {
            const next = roles.find((r) => r === e.target.value);
            if (next) setRole(next);
          }}
        >
          {roles.map((r) => (
            <option key={r} value={r}>
              {ROLE_WORDS[r]}
            </option>
          ))}
        </NativeSelect>
      </Field>
      <Button type="submit" disabled={create.isPending || name.trim() === ""}>
        {create.isPending ? "Making…" : "Make key"}
      </Button>
      {refusal && refusal.field === null && <Alert className="sm:col-span-3">{refusal.message}</Alert>}
    </form>
  );
}

function KeyRow({ apiKey, format }: { apiKey: ApiKey; format: Intl.DateTimeFormat }) {
  const revoke = useRevokeApiKey(apiKey.workspace_id);
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-3">
      <div className="min-w-0">
        <p className="flex flex-wrap items-center gap-2 font-medium">
          <span className="break-words">{apiKey.name}</span>
          <Badge>{ROLE_WORDS[apiKey.role] ?? apiKey.role}</Badge>
        </p>
        <p className="text-sm text-muted-foreground">
          <span className="font-mono">{apiKey.prefix}…</span> · made {format.format(new Date(apiKey.created_at))}{" "}
          · {apiKey.last_used_at ? `last used ${format.format(new Date(apiKey.last_used_at))}` : "never used"}
        </p>
      </div>
      <ConfirmButton
        label="Revoke"
        accessibleName={`Revoke the key ${apiKey.name}`}
        title={`Revoke ${apiKey.name}?`}
        confirm="Revoke"
        keep="Keep it"
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={(close) => revoke.mutate(apiKey.id, { onSuccess: close })}
      >
        Whatever uses it is refused from now on (within seconds everywhere). This cannot be undone.
      </ConfirmButton>
    </li>
  );
}

export function ApiKeysPanel({ workspaceId, myRole, zone }: { workspaceId: string; myRole: string; zone: string }) {
  const keys = useApiKeys(workspaceId);
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: zone });
  return (
    <div className="grid gap-6">
      {keys.isPending ? (
        <Loading label="Loading the API keys…" />
      ) : keys.isError ? (
        <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.length === 0 ? (
        <EmptyState title="No API keys">Make one for a script or an automation tool.</EmptyState>
      ) : (
        <ul aria-label="API keys" className="divide-y divide-border">
          {keys.data.map((k) => (
            <KeyRow key={k.id} apiKey={k} format={format} />
          ))}
        </ul>
      )}
      <div className="grid gap-3">
        <h3 className="font-semibold">Make a key</h3>
        <CreateKey workspaceId={workspaceId} myRole={myRole} />
      </div>
    </div>
  );
}
