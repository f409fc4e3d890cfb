/** Who may do what to whom, as auth decides it (`services/auth/.../workspaces/service.py`):
 * admins manage editors, viewers and other admins; only owners touch owners or grant the owner
 * role. The UI offers only what the server would allow; the server still decides. */
export const ROLES = ["owner", "admin", "editor", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  editor: "Editor",
  viewer: "Viewer",
};

export const ROLE_HINTS: Record<Role, string> = {
  owner: "everything, including owners",
  admin: "members, invitations, approvals",
  editor: "composes posts (approved first when the workspace asks)",
  viewer: "reads",
};

export function isRole(value: string | null | undefined): value is Role {
  return value != null && (ROLES as readonly string[]).includes(value);
}

/** Whether someone with `mine` may manage members and invitations at all. */
export function canManageMembers(mine: string | null | undefined): boolean {
  return isRole(mine) && RANK[mine] >= RANK.admin;
}

/** The roles someone with `mine` may grant (invite with, or change a role to). */
export function grantableRoles(mine: string | null | undefined): Role[] {
  if (!canManageMembers(mine)) return [];
  return mine === "owner" ? [...ROLES] : ROLES.filter((r) => r !== "owner");
}

/** Whether someone with `mine` may change or remove a member whose role is `theirs`. */
export function canManage(mine: string | null | undefined, theirs: string): boolean {
  if (!canManageMembers(mine)) return false;
  return theirs !== "owner" || mine === "owner";
}
