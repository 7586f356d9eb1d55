-- Exact counts for unfiltered list totals: backfilled once, then kept by triggers inside every insert and delete.
INSERT INTO `counters` (`name`, `value`) SELECT 'products', count(*) FROM `products` WHERE true
	ON CONFLICT(`name`) DO UPDATE SET `value` = excluded.`value`;
--> statement-breakpoint
INSERT INTO `counters` (`name`, `value`) SELECT 'tasks', count(*) FROM `tasks` WHERE true
	ON CONFLICT(`name`) DO UPDATE SET `value` = excluded.`value`;
--> statement-breakpoint
CREATE TRIGGER `products_count_insert` AFTER INSERT ON `products` BEGIN
	UPDATE `counters` SET `value` = `value` + 1 WHERE `name` = 'products';
END;
--> statement-breakpoint
CREATE TRIGGER `products_count_delete` AFTER DELETE ON `products` BEGIN
	UPDATE `counters` SET `value` = `value` - 1 WHERE `name` = 'products';
END;
--> statement-breakpoint
CREATE TRIGGER `tasks_count_insert` AFTER INSERT ON `tasks` BEGIN
	UPDATE `counters` SET `value` = `value` + 1 WHERE `name` = 'tasks';
END;
--> statement-breakpoint
CREATE TRIGGER `tasks_count_delete` AFTER DELETE ON `tasks` BEGIN
	UPDATE `counters` SET `value` = `value` - 1 WHERE `name` = 'tasks';
END;
