import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CONNECT_RETURN_PATH, type PlatformName } from "@/config/env";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type Account = Schemas["AccountOut"];

export const accountsQueryKey = (workspaceId: string) => ["accounts", workspaceId] as const;

export function useAccounts(workspaceId: string) {
  return useQuery({
    queryKey: accountsQueryKey(workspaceId),
    // An account's status changes by itself (a platform refusing its grant during a publish):
    // every page that shows it asks again.
    staleTime: 0,
    queryFn: () =>
      unwrap(api.GET("/api/v1/accounts", { params: { query: { workspace_id: workspaceId } } })),
  });
}

/** Start a connect and go to the platform's consent page; it sends the browser back to
 * CONNECT_RETURN_PATH with `state` and `code` (or `error`). */
export function useStartConnect() {
  return useMutation({
    mutationFn: async (input: { workspaceId: string; platform: PlatformName }) => {
      const started = await unwrap(
        api.POST("/api/v1/accounts/connect", {
          body: {
            workspace_id: input.workspaceId,
            platform: input.platform,
            redirect_uri: `${window.location.origin}${CONNECT_RETURN_PATH}`,
          },
        }),
      );
      window.location.assign(started.authorize_url);
    },
  });
}

export function useCompleteConnect() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { state: string; code: string }) =>
      unwrap(api.POST("/api/v1/accounts/oauth/complete", { body: input })),
    onSuccess: (done) => {
      const workspaceId = done.accounts[0]?.workspace_id;
      if (workspaceId)
        void queryClient.invalidateQueries({ queryKey: accountsQueryKey(workspaceId) });
    },
  });
}

export function useDisconnect(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (accountId: string) =>
      unwrap(
        api.DELETE("/api/v1/accounts/{account_id}", { params: { path: { account_id: accountId } } }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: accountsQueryKey(workspaceId) }),
  });
}
