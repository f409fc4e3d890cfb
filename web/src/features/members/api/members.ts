import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";
import { refreshSession } from "@/lib/auth/session";
import { meQueryKey } from "@/features/auth";
import { workspacesQueryKey } from "@/features/workspaces";

export type Member = Schemas["MemberOut"];
export type Invitation = Schemas["InvitationOut"];
export type MyInvitation = Schemas["MeInvitation"];
import type { Role } from "../lib/roles";

export const membersKey = (workspaceId: string) => ["members", workspaceId] as const;
export const invitationsKey = (workspaceId: string) => ["invitations", workspaceId] as const;

const ws = (workspaceId: string) => ({ params: { path: { workspace_id: workspaceId } } });

/** The members; `fresh` asks again on every mount (a list of authors must know newcomers). */
export function useMembers(workspaceId: string, { fresh = false }: { fresh?: boolean } = {}) {
  return useQuery({
    queryKey: membersKey(workspaceId),
    refetchOnMount: fresh ? "always" : true,
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workspaces/{workspace_id}/members", { ...ws(workspaceId), signal })),
  });
}

export function useChangeRole(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { userId: string; role: Role }) =>
      unwrap(
        api.PATCH("/api/v1/workspaces/{workspace_id}/members/{user_id}", {
          params: { path: { workspace_id: workspaceId, user_id: input.userId } },
          body: { role: input.role },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: membersKey(workspaceId) }),
  });
}

export function useRemoveMember(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) =>
      unwrap(
        api.DELETE("/api/v1/workspaces/{workspace_id}/members/{user_id}", {
          params: { path: { workspace_id: workspaceId, user_id: userId } },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: membersKey(workspaceId) }),
  });
}

/** Open invitations (owners and admins only: the server refuses the others). */
export function useInvitations(workspaceId: string, enabled: boolean) {
  return useQuery({
    queryKey: invitationsKey(workspaceId),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workspaces/{workspace_id}/invitations", { ...ws(workspaceId), signal })),
  });
}

export function useInvite(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { email: string; role: Role }) =>
      unwrap(
        api.POST("/api/v1/workspaces/{workspace_id}/invitations", {
          ...ws(workspaceId),
          body: input,
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: invitationsKey(workspaceId) }),
  });
}

export function useRevokeInvitation(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (invitationId: string) =>
      unwrap(
        api.DELETE("/api/v1/workspaces/{workspace_id}/invitations/{invitation_id}", {
          params: { path: { workspace_id: workspaceId, invitation_id: invitationId } },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: invitationsKey(workspaceId) }),
  });
}

/** Accept or decline an invitation to one's own email. Accepting refreshes the session's token:
 * roles ride in the access token, read when it is issued, so the new workspace's role is
 * honoured only by a fresh one. */
export function useAnswerInvitation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: { invitation: MyInvitation; accept: boolean }) => {
      const path = { params: { path: { invitation_id: input.invitation.id } } };
      if (input.accept) {
        await unwrap(api.POST("/api/v1/invitations/{invitation_id}/accept", path));
        await refreshSession();
      } else {
        await unwrap(api.POST("/api/v1/invitations/{invitation_id}/decline", path));
      }
      return input;
    },
    onSettled: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: meQueryKey }),
        queryClient.invalidateQueries({ queryKey: workspacesQueryKey }),
      ]),
  });
}
