import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { api, unwrap, type Schemas } from "@/lib/api/client";
import { refreshSession } from "@/lib/auth/session";

export type Workspace = Schemas["WorkspaceOut"];
export const workspacesQueryKey = ["workspaces"] as const;

export function useWorkspaces() {
  return useQuery({
    queryKey: workspacesQueryKey,
    queryFn: () => unwrap(api.GET("/api/v1/workspaces")),
  });
}

export const createWorkspaceSchema = z.object({
  name: z.string().trim().min(1, "Name the workspace.").max(200),
  timezone: z.string().min(1, "Choose a time zone."),
});
export type CreateWorkspaceInput = z.infer<typeof createWorkspaceSchema>;

export function useCreateWorkspace() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: CreateWorkspaceInput) => {
      const created = await unwrap(
        api.POST("/api/v1/workspaces", {
          // The server holds the list of zones it knows: a zone it lacks is a named error.
          body: {
            name: input.name,
            timezone: input.timezone as Schemas["WorkspaceIn"]["timezone"],
            require_approval: false,
          },
        }),
      );
      // Roles ride in the access token, read when it is issued: a fresh one carries "owner".
      await refreshSession();
      return created;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: workspacesQueryKey }),
  });
}

/** Change a workspace's settings (owners and admins; the server refuses the others). */
export function useUpdateWorkspace(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: Schemas["WorkspacePatch"]) =>
      unwrap(api.PATCH("/api/v1/workspaces/{workspace_id}", { params: { path: { workspace_id: workspaceId } }, body: patch })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: workspacesQueryKey }),
  });
}
