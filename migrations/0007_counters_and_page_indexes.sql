CREATE TABLE `counters` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `products_brand_idx`;--> statement-breakpoint
DROP INDEX `products_created_at_idx`;--> statement-breakpoint
CREATE INDEX `products_brand_created_at_sku_idx` ON `products` (`brand`,`created_at`,`sku`);--> statement-breakpoint
CREATE INDEX `products_created_at_sku_idx` ON `products` (`created_at`,`sku`);--> statement-breakpoint
DROP INDEX `tasks_created_at_idx`;--> statement-breakpoint
CREATE INDEX `tasks_created_at_id_idx` ON `tasks` (`created_at`,`id`);