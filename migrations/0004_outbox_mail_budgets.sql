ALTER TABLE `outbox` ADD `actor_id` text;--> statement-breakpoint
CREATE INDEX `outbox_budget_recipient_idx` ON `outbox` (lower("recipient_email"),`created_at`) WHERE status <> 'suppressed';--> statement-breakpoint
CREATE INDEX `outbox_budget_actor_idx` ON `outbox` (`actor_id`,`created_at`) WHERE status <> 'suppressed' AND actor_id IS NOT NULL;