export { Composer } from "./components/composer";
export { PostList } from "./components/post-list";
export { PostDetail } from "./components/post-detail";
export { Calendar } from "./components/calendar";
export { ApprovalQueue } from "./components/approval-queue";
export { usePost } from "./api/posts";
