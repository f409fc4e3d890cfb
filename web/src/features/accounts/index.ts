export { useAccounts, type Account } from "./api/accounts";
export { AccountsPanel } from "./components/accounts-panel";
export { ConnectCallback } from "./components/connect-callback";
