/** A workspace's members with their roles, open invitations, inviting by email, and the
 * workspace's approval setting. Controls appear for owners and admins; the server decides. */
import { useId, useRef, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { Input, NativeSelect } from "@/components/ui/input";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { useMe } from "@/features/auth";
import { useUpdateWorkspace, type Workspace } from "@/features/workspaces";
import { describeError } from "@/lib/api/errors";
import {
  useChangeRole,
  useInvitations,
  useInvite,
  useMembers,
  useRemoveMember,
  useRevokeInvitation,
  type Member,
} from "../api/members";
import {
  canManage,
  canManageMembers,
  grantableRoles,
  isRole,
  ROLE_HINTS,
  ROLE_LABELS,
  type Role,
} from "../lib/roles";

function RemoveButton({ workspaceId, member }: { workspaceId: string; member: Member }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const remove = useRemoveMember(workspaceId);
  const titleId = useId();
  const who = member.name || member.email;
  return (
    <>
      <Button variant="outline" size="sm" onClick={() => dialog.current?.showModal()} aria-label={`Remove ${who}`}>
        Remove
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={titleId}
        className="m-auto max-w-sm rounded-lg border border-border bg-card p-6 text-foreground backdrop:bg-black/50"
      >
        <h2 id={titleId} className="text-lg font-semibold">
          Remove {who}?
        </h2>
        <p className="mt-2 text-sm text-muted-foreground">
          They lose access to this workspace; their posts stay.
        </p>
        {remove.isError && <Alert className="mt-3">{describeError(remove.error)}</Alert>}
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="outline" onClick={() => dialog.current?.close()}>
            Keep them
          </Button>
          <Button
            variant="destructive"
            disabled={remove.isPending}
            onClick={() => remove.mutate(member.user_id, { onSuccess: () => dialog.current?.close() })}
          >
            Remove
          </Button>
        </div>
      </dialog>
    </>
  );
}

function MemberRow({
  workspaceId,
  member,
  myRole,
  isMe,
}: {
  workspaceId: string;
  member: Member;
  myRole: string | null | undefined;
  isMe: boolean;
}) {
  const selectId = useId();
  const change = useChangeRole(workspaceId);
  const who = member.name || member.email;
  const manageable = canManage(myRole, member.role);
  const roles = grantableRoles(myRole);
  return (
    <li className="grid gap-2 py-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate font-medium">
            {who}
            {isMe && <span className="text-muted-foreground"> (you)</span>}
          </p>
          <p className="truncate text-sm text-muted-foreground">{member.email}</p>
        </div>
        {manageable ? (
          <div className="flex flex-wrap items-center gap-2">
            <label htmlFor={selectId} className="sr-only">
              Role of {who}
            </label>
            <NativeSelect
              id={selectId}
              className="w-32"
              value={member.role}
              disabled={change.isPending}
              onChange={(e) => {
                if (isRole(e.target.value)) change.mutate({ userId: member.user_id, role: e.target.value });
              }}
            >
              {(roles.includes(member.role) ? roles : [member.role, ...roles]).map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </NativeSelect>
            <RemoveButton workspaceId={workspaceId} member={member} />
          </div>
        ) : (
          <Badge>{ROLE_LABELS[member.role]}</Badge>
        )}
      </div>
      {change.isError && <Alert>{describeError(change.error)}</Alert>}
    </li>
  );
}

function InviteForm({ workspaceId, myRole }: { workspaceId: string; myRole: string | null | undefined }) {
  const emailId = useId();
  const roleId = useId();
  const invite = useInvite(workspaceId);
  const roles = grantableRoles(myRole);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("editor");
  return (
    <form
      aria-label="Invite someone"
      className="grid gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        invite.mutate({ email: email.trim(), role }, { onSuccess: () => setEmail("") });
      }}
    >
      <div className="grid gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-end">
        <div className="grid gap-1">
          <label htmlFor={emailId} className="text-sm font-medium">
            Email to invite
          </label>
          <Input
            id={emailId}
            type="email"
            required
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="grid gap-1">
          <label htmlFor={roleId} className="text-sm font-medium">
            Role
          </label>
          <NativeSelect
            id={roleId}
            value={role}
            onChange={(e) => {
              if (isRole(e.target.value)) setRole(e.target.value);
            }}
          >
            {roles.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </NativeSelect>
        </div>
        <Button type="submit" disabled={invite.isPending}>
          {invite.isPending ? "Inviting…" : "Invite"}
        </Button>
      </div>
      <p className="text-xs text-muted-foreground">
        {ROLE_LABELS[role]}: {ROLE_HINTS[role]}. Whoever signs in with this email sees the
        invitation and may accept it.
      </p>
      {invite.isError && <Alert>{describeError(invite.error)}</Alert>}
      {invite.isSuccess && (
        <Alert tone="info">
          Invited {invite.data.email} as {ROLE_LABELS[invite.data.role].toLowerCase()}.
        </Alert>
      )}
    </form>
  );
}

function OpenInvitations({ workspaceId, zone }: { workspaceId: string; zone: string }) {
  const invitations = useInvitations(workspaceId, true);
  const revoke = useRevokeInvitation(workspaceId);
  if (invitations.isPending) return <Loading label="Loading the invitations…" />;
  if (invitations.isError)
    return <ErrorState error={invitations.error} onRetry={() => void invitations.refetch()} />;
  if (invitations.data.length === 0) return <EmptyState title="No open invitations" />;
  const expires = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: zone });
  return (
    <>
      <ul aria-label="Open invitations" className="divide-y divide-border">
        {invitations.data.map((inv) => (
          <li key={inv.id} className="flex flex-wrap items-center justify-between gap-2 py-3">
            <div className="min-w-0">
              <p className="truncate font-medium">{inv.email}</p>
              <p className="text-sm text-muted-foreground">
                {ROLE_LABELS[inv.role]} · expires {expires.format(new Date(inv.expires_at))}
              </p>
            </div>
            <Button
              variant="outline"
              size="sm"
              aria-label={`Revoke the invitation of ${inv.email}`}
              disabled={revoke.isPending}
              onClick={() => revoke.mutate(inv.id)}
            >
              Revoke
            </Button>
          </li>
        ))}
      </ul>
      {revoke.isError && <Alert>{describeError(revoke.error)}</Alert>}
    </>
  );
}

function ApprovalSetting({ workspace }: { workspace: Workspace }) {
  const id = useId();
  const update = useUpdateWorkspace(workspace.id);
  return (
    <div className="grid gap-2">
      <div className="flex items-start gap-3">
        <input
          id={id}
          type="checkbox"
          className="mt-1 size-4 accent-primary"
          checked={workspace.require_approval}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ require_approval: e.target.checked })}
          aria-describedby={`${id}-hint`}
        />
        <div>
          <label htmlFor={id} className="font-medium">
            Require approval of editors' posts
          </label>
          <p id={`${id}-hint`} className="text-sm text-muted-foreground">
            An owner or admin approves each post an editor composes before it is scheduled.
          </p>
        </div>
      </div>
      {update.isError && <Alert>{describeError(update.error)}</Alert>}
    </div>
  );
}

export function MembersPanel({ workspace }: { workspace: Workspace }) {
  const members = useMembers(workspace.id);
  const me = useMe();
  const manager = canManageMembers(workspace.role);
  return (
    <div className="grid gap-6">
      <Card aria-labelledby="members-title">
        <CardTitle id="members-title">Members</CardTitle>
        {members.isPending ? (
          <Loading label="Loading the members…" />
        ) : members.isError ? (
          <ErrorState error={members.error} onRetry={() => void members.refetch()} />
        ) : (
          <ul aria-label="Members" className="mt-2 divide-y divide-border">
            {members.data.map((m) => (
              <MemberRow
                key={m.user_id}
                workspaceId={workspace.id}
                member={m}
                myRole={workspace.role}
                isMe={m.user_id === me.data?.id}
              />
            ))}
          </ul>
        )}
      </Card>
      {manager && (
        <>
          <Card aria-labelledby="invite-title">
            <CardTitle id="invite-title" className="mb-3">
              Invite
            </CardTitle>
            <InviteForm workspaceId={workspace.id} myRole={workspace.role} />
          </Card>
          <Card aria-labelledby="invitations-title">
            <CardTitle id="invitations-title" className="mb-2">
              Open invitations
            </CardTitle>
            <OpenInvitations workspaceId={workspace.id} zone={workspace.timezone} />
          </Card>
          <Card aria-labelledby="settings-title">
            <CardTitle id="settings-title" className="mb-3">
              Approvals
            </CardTitle>
            <ApprovalSetting workspace={workspace} />
          </Card>
        </>
      )}
    </div>
  );
}
