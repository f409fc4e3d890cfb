import { Badge } from "@/components/ui/badge";
import type { Account } from "../api/accounts";

const LOOKS: Record<Account["status"], { tone: "success" | "warning" | "neutral"; text: string }> = {
  active: { tone: "success", text: "Active" },
  reauth_required: { tone: "warning", text: "Needs reconnecting" },
  disconnected: { tone: "neutral", text: "Disconnected" },
};

export function StatusBadge({ status }: { status: Account["status"] }) {
  const look = LOOKS[status];
  return <Badge tone={look.tone}>{look.text}</Badge>;
}
