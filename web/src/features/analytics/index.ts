export { AnalyticsPanel } from "./components/analytics-panel";
export { PostAnalytics } from "./components/post-analytics";
