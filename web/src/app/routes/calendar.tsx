import { useParams } from "react-router";
import { Calendar } from "@/features/posts";

export function CalendarRoute() {
  const { workspaceId = "" } = useParams();
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Calendar</h1>
      <Calendar key={workspaceId} workspaceId={workspaceId} />
    </>
  );
}
