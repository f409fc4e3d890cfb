import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/lib/api/client";

export const meQueryKey = ["me"] as const;

export function useMe() {
  return useQuery({
    queryKey: meQueryKey,
    queryFn: () => unwrap(api.GET("/api/v1/auth/me")),
  });
}
