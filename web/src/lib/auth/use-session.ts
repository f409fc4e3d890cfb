import { useSyncExternalStore } from "react";
import { getSession, subscribe, type Session } from "@/lib/auth/session";

export function useSession(): Session {
  return useSyncExternalStore(subscribe, getSession, getSession);
}
