import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type Webhook = Schemas["EndpointOut"];
export type WebhookWithSecret = Schemas["EndpointWithSecret"];
export type Delivery = Schemas["DeliveryOut"];
export type WebhookPatch = Schemas["EndpointPatch"];
export type NewWebhook = Omit<Schemas["EndpointIn"], "workspace_id">;

export const webhooksKey = (workspaceId: string) => ["webhooks", workspaceId] as const;
export const deliveriesKey = (webhookId: string) => ["webhook-deliveries", webhookId] as const;

const hook = (webhookId: string) => ({ params: { path: { webhook_id: webhookId } } });

export function useWebhooks(workspaceId: string) {
  return useQuery({
    queryKey: webhooksKey(workspaceId),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET("/api/v1/webhooks", { params: { query: { workspace_id: workspaceId } }, signal }),
        )
      ).items,
  });
}

export function useCreateWebhook(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: NewWebhook) =>
      unwrap(api.POST("/api/v1/webhooks", { body: { ...input, workspace_id: workspaceId } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhooksKey(workspaceId) }),
  });
}

export function useUpdateWebhook(workspaceId: string, webhookId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: WebhookPatch) =>
      unwrap(api.PATCH("/api/v1/webhooks/{webhook_id}", { ...hook(webhookId), body: patch })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhooksKey(workspaceId) }),
  });
}

export function useDeleteWebhook(workspaceId: string, webhookId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/webhooks/{webhook_id}", hook(webhookId))),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhooksKey(workspaceId) }),
  });
}

export function useRotateSecret(webhookId: string) {
  return useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/webhooks/{webhook_id}/rotate-secret", hook(webhookId))),
  });
}

export function useSendTest(webhookId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/webhooks/{webhook_id}/test", hook(webhookId))),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: deliveriesKey(webhookId) }),
  });
}

const PAGE = 20;

/** An endpoint's deliveries, newest first, a page at a time; asked again every few seconds
 * while one of them still waits for an attempt or a retry. */
export function useDeliveries(webhookId: string, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: deliveriesKey(webhookId),
    enabled,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/webhooks/{webhook_id}/deliveries", {
          params: {
            path: { webhook_id: webhookId },
            query: { limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((d) => d.status === "pending")) ? 2_000 : false,
  });
}

export function useRedeliver(webhookId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (deliveryId: string) =>
      unwrap(
        api.POST("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {
          params: { path: { webhook_id: webhookId, delivery_id: deliveryId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: deliveriesKey(webhookId) }),
  });
}
