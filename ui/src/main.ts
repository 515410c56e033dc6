// Entry point: defines every element (app-root pulls in the rest) and applies the remembered theme; Lit renders in
// a microtask, so the theme is in place before the first paint.
import './app-root.ts';
import { applyTheme, storedTheme } from './theme.ts';

applyTheme(storedTheme());
