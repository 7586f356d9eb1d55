ALTER TABLE `outbox` ADD `sealed_token` text;--> statement-breakpoint
ALTER TABLE `rate_limits` ADD `expires_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `rate_limits_expires_at_idx` ON `rate_limits` (`expires_at`);--> statement-breakpoint
-- Counters from before this column keep the one-day lifetime they had; new ones end with their window.
UPDATE `rate_limits` SET `expires_at` = `window_start` + 86400000;