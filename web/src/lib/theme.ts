/** Light or dark: the user's choice (a preference, nothing sensitive) or the system's. */
export type Theme = "light" | "dark";
const KEY = "socialseed-theme";

export function initialTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme, remember = false): void {
  document.documentElement.classList.toggle("dark", theme === "dark");
  if (remember) localStorage.setItem(KEY, theme);
}
