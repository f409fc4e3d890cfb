import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type Post = Schemas["PostOut"];
export type Target = Schemas["TargetOut"];
export type PostDraft = Schemas["PostIn"];
export type PostStatus = NonNullable<
  NonNullable<import("@/lib/api/client").paths["/api/v1/posts"]["get"]["parameters"]["query"]>["status"]
>;

export const postsKey = (workspaceId: string) => ["posts", workspaceId] as const;
export const postKey = (postId: string) => ["post", postId] as const;

/** The server's verdict on a draft (nothing stored), asked again as the draft changes. */
export function useValidateDraft(draft: PostDraft | null) {
  return useQuery({
    queryKey: ["validate", draft],
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/posts/validate", { body: draft!, signal })),
    enabled: draft !== null,
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 10_000,
  });
}

export function useCreatePost(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (draft: PostDraft) => unwrap(api.POST("/api/v1/posts", { body: draft })),
    onSuccess: (post) => {
      queryClient.setQueryData(postKey(post.id), post);
      return queryClient.invalidateQueries({ queryKey: postsKey(workspaceId) });
    },
  });
}

export type PostFilters = {
  from?: string;
  to?: string;
  status?: PostStatus;
  accountId?: string;
};

/** The workspace's posts by scheduled time, a page at a time. */
export function usePostList(workspaceId: string, filters: PostFilters) {
  return useInfiniteQuery({
    queryKey: [...postsKey(workspaceId), "list", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/posts", {
          params: {
            query: {
              workspace_id: workspaceId,
              from: filters.from,
              to: filters.to,
              status: filters.status,
              account_id: filters.accountId,
              cursor: pageParam,
              limit: 50,
            },
          },
          signal,
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export type CalendarEntry = Schemas["CalendarEntry"];

/** Every post in [from, to) (the calendar's range) as much as a chip shows
 * (`GET /posts/calendar`): a busy month is one request (5,000 a page). */
export function usePostRange(workspaceId: string, filters: PostFilters & { from: string; to: string }, enabled = true) {
  return useQuery({
    queryKey: [...postsKey(workspaceId), "range", filters],
    enabled,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) => {
      const items: CalendarEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          api.GET("/api/v1/posts/calendar", {
            params: {
              query: {
                workspace_id: workspaceId,
                from: filters.from,
                to: filters.to,
                status: filters.status,
                account_id: filters.accountId,
                cursor,
                limit: 5000,
              },
            },
            signal,
          }),
        );
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return items; // only posts with a time: the server leaves untimed drafts out
    },
  });
}

export function usePost(postId: string) {
  return useQuery({
    queryKey: postKey(postId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/posts/{post_id}", { params: { path: { post_id: postId } }, signal })),
    // Follow it while it may still change by itself.
    refetchInterval: (query) => {
      const post = query.state.data;
      const moving = post?.targets.some((t) =>
        ["scheduled", "publishing", "in_doubt", "waiting"].includes(t.status),
      );
      return moving && post?.approval !== "pending" ? 2000 : false;
    },
  });
}

function usePostChange<TInput>(
  workspaceId: string,
  call: (input: TInput) => Promise<Post | undefined>,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (post) => {
      if (post) queryClient.setQueryData(postKey(post.id), post);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: postsKey(workspaceId) }),
  });
}

export function useCancelPost(workspaceId: string, postId: string) {
  const queryClient = useQueryClient();
  return usePostChange(workspaceId, async () => {
    await unwrap(api.DELETE("/api/v1/posts/{post_id}", { params: { path: { post_id: postId } } }));
    await queryClient.invalidateQueries({ queryKey: postKey(postId) });
    return undefined;
  });
}

export function useRetryPost(workspaceId: string, postId: string) {
  return usePostChange(workspaceId, () =>
    unwrap(api.POST("/api/v1/posts/{post_id}/retry", { params: { path: { post_id: postId } } })),
  );
}

/** Move a post to another time (an instant: the calendar's slot). */
export function useReschedule(workspaceId: string) {
  return usePostChange(workspaceId, (input: { postId: string; scheduledAt: string }) =>
    unwrap(
      api.PATCH("/api/v1/posts/{post_id}", {
        params: { path: { post_id: input.postId } },
        body: { scheduled_at: input.scheduledAt },
      }),
    ),
  );
}

export function useApprove(workspaceId: string) {
  return usePostChange(workspaceId, (postId: string) =>
    unwrap(api.POST("/api/v1/posts/{post_id}/approve", { params: { path: { post_id: postId } } })),
  );
}

export function useReject(workspaceId: string) {
  return usePostChange(workspaceId, (input: { postId: string; reason: string }) =>
    unwrap(
      api.POST("/api/v1/posts/{post_id}/reject", {
        params: { path: { post_id: input.postId } },
        body: { reason: input.reason },
      }),
    ),
  );
}

/** Change the post (`PATCH`): its text alone (`textEdit`), or its accounts, media and options
 * too (the composer's edit, `toPatch`). */
export function useEditPost(workspaceId: string) {
  return usePostChange(workspaceId, (input: { postId: string; patch: Schemas["PostPatch"] }) =>
    unwrap(
      api.PATCH("/api/v1/posts/{post_id}", {
        params: { path: { post_id: input.postId } },
        body: input.patch,
      }),
    ),
  );
}

export const useEditText = useEditPost;

/** Schedule a draft (`draft: false`): at its own time, now (`scheduledAt: null`), or at a new
 * time; in a workspace that requires approval an editor's draft is submitted for it instead. */
export function useScheduleDraft(workspaceId: string) {
  return usePostChange(workspaceId, (input: { postId: string; scheduledAt?: string | null }) =>
    unwrap(
      api.PATCH("/api/v1/posts/{post_id}", {
        params: { path: { post_id: input.postId } },
        body: {
          draft: false,
          ...(input.scheduledAt !== undefined ? { scheduled_at: input.scheduledAt } : {}),
        },
      }),
    ),
  );
}
