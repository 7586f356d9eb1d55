DROP TABLE `cursor_events`;--> statement-breakpoint
DROP TABLE `cursor_seconds`;