import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type ApiKey = Schemas["ApiKeyOut"];
export type NewApiKey = Omit<Schemas["ApiKeyIn"], "workspace_id">;

export const apiKeysKey = (workspaceId: string) => ["api-keys", workspaceId] as const;

export function useApiKeys(workspaceId: string) {
  return useQuery({
    queryKey: apiKeysKey(workspaceId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/api-keys", { params: { query: { workspace_id: workspaceId } }, signal })),
  });
}

export function useCreateApiKey(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: NewApiKey) =>
      unwrap(api.POST("/api/v1/api-keys", { body: { ...input, workspace_id: workspaceId } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: apiKeysKey(workspaceId) }),
  });
}

export function useRevokeApiKey(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (keyId: string) =>
      unwrap(api.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: keyId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: apiKeysKey(workspaceId) }),
  });
}
