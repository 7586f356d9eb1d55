-- cursor_rollups as a WITHOUT ROWID table: the primary key is the table itself, so the first write of a bucket is
-- one row written instead of two (the row and its primary-key index), which is what D1 bills and counts. Rebuilt
-- with the same columns; drizzle's schema (src/db/schema.ts) describes it unchanged.
CREATE TABLE `cursor_rollups_new` (
	`session_id` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`distance` real NOT NULL,
	`peak_speed` real NOT NULL,
	`event_count` integer NOT NULL,
	`start_x` real NOT NULL,
	`start_y` real NOT NULL,
	`end_x` real NOT NULL,
	`end_y` real NOT NULL,
	`last_seq` integer NOT NULL,
	`total_distance` real NOT NULL,
	`last_t` integer NOT NULL,
	PRIMARY KEY(`session_id`, `bucket_start`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `cursor_rollups_new` SELECT `session_id`, `bucket_start`, `distance`, `peak_speed`, `event_count`,
  `start_x`, `start_y`, `end_x`, `end_y`, `last_seq`, `total_distance`, `last_t` FROM `cursor_rollups`;--> statement-breakpoint
DROP TABLE `cursor_rollups`;--> statement-breakpoint
ALTER TABLE `cursor_rollups_new` RENAME TO `cursor_rollups`;
