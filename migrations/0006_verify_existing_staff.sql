-- Accounts that existed before email verification: admins and the superuser were made by configuration or by an
-- admin (vouched for), so they count as verified. Members may have registered themselves with any address, so they
-- verify like new members do (POST /api/v1/auth/verify-email/resend).
UPDATE `users` SET `email_verified_at` = `created_at` WHERE `role` IN ('admin', 'superuser') AND `email_verified_at` IS NULL AND `deleted_at` IS NULL;
