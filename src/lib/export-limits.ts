/**
 * The bounds of a CSV export, in a module with no imports so the console can read the same numbers (it disables
 * the export button with the reason when a list matches more rows than an export holds).
 */

/** The most rows one export holds; a filter that matches more is refused before anything is read. */
export const EXPORT_MAX_ROWS = 10_000;
/** Exports per caller (the signed-in user, else the client address) per window: far above what a person clicks. */
export const EXPORT_MAX_PER_WINDOW = 30;
export const EXPORT_WINDOW_SECONDS = 600;
