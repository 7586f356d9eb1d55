CREATE TABLE `cursor_rollups` (
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
);
