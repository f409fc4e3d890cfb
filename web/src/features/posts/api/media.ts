/** Uploads with progress: fetch cannot report upload progress, so this one call is an
 * XMLHttpRequest carrying the same bearer token (and refreshing once on a 401, as the
 * client does). */
import { useMutation, useQueries } from "@tanstack/react-query";
import { API_BASE } from "@/config/env";
import { api, unwrap, type Schemas } from "@/lib/api/client";
import { toApiError } from "@/lib/api/errors";
import { getAccessToken, refreshSession } from "@/lib/auth/session";

export type Media = Schemas["MediaOut"];

function send(workspaceId: string, file: File, onProgress: (share: number) => void) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API_BASE}/api/v1/media`);
    const token = getAccessToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new TypeError("Network error"));
    const form = new FormData();
    form.append("workspace_id", workspaceId);
    form.append("file", file);
    xhr.send(form);
  });
}

export async function uploadMedia(
  workspaceId: string,
  file: File,
  onProgress: (share: number) => void,
): Promise<Media> {
  let answer = await send(workspaceId, file, onProgress);
  if (answer.status === 401 && (await refreshSession())) answer = await send(workspaceId, file, onProgress);
  if (answer.status < 200 || answer.status >= 300) throw toApiError(answer.status, answer.body);
  return answer.body as Media;
}

export function useUploadMedia(workspaceId: string) {
  return useMutation({
    mutationFn: (input: { file: File; onProgress: (share: number) => void }) =>
      uploadMedia(workspaceId, input.file, input.onProgress),
  });
}

/** Media a post already has (editing it): each one's facts, for the picker and the previews. */
export function useMediaFacts(ids: string[]) {
  return useQueries({
    queries: ids.map((id) => ({
      queryKey: ["media", id],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        unwrap(api.GET("/api/v1/media/{media_id}", { params: { path: { media_id: id } }, signal })),
      staleTime: Infinity,
    })),
    combine: (results) => ({
      data: results.every((r) => r.data) ? results.map((r) => r.data as Media) : undefined,
      error: results.find((r) => r.error)?.error ?? null,
      refetch: () => Promise.all(results.map((r) => r.refetch())),
    }),
  });
}

/** Set (or, with an empty text, clear) an image's alt text: the platforms that take it get it
 * with the image. */
export function useSetAltText() {
  return useMutation({
    mutationFn: (input: { mediaId: string; altText: string }) =>
      unwrap(
        api.PATCH("/api/v1/media/{media_id}", {
          params: { path: { media_id: input.mediaId } },
          body: { alt_text: input.altText.trim() || null },
        }),
      ),
  });
}
