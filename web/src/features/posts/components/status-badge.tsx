import { Badge } from "@/components/ui/badge";
import { postStatusWords } from "../lib/target-state";

export function PostStatusBadge({ status }: { status: string }) {
  const words = postStatusWords(status);
  return <Badge tone={words.tone}>{words.label}</Badge>;
}
