export { useMembers, type Member } from "./api/members";
export { MembersPanel } from "./components/members-panel";
export { InvitationsBanner } from "./components/invitations-banner";
export { canManageMembers } from "./lib/roles";
