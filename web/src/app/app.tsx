import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { RouterProvider } from "react-router";
import { makeQueryClient } from "@/lib/query";
import { getSession, refreshSession, subscribe } from "@/lib/auth/session";
import { createAppRouter } from "./router";

export function App() {
  const [queryClient] = useState(makeQueryClient);
  const [router] = useState(createAppRouter);
  useEffect(() => {
    // A reload keeps the session: the HttpOnly cookie buys a new access token.
    if (getSession().status === "unknown") void refreshSession();
    // Signed out (here or in another tab): nothing of the last user stays cached.
    return subscribe(() => {
      if (getSession().status === "signed-out") queryClient.clear();
    });
  }, [queryClient]);
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
