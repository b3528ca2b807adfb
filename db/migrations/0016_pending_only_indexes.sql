DROP INDEX "payments_reconcile_idx";--> statement-breakpoint
DROP INDEX "payment_attempts_pending_idx";--> statement-breakpoint
CREATE INDEX "payments_reconcile_idx" ON "payments" USING btree ("next_check_at") WHERE "payments"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "payment_attempts_pending_idx" ON "payment_attempts" USING btree ("tenant_id","expires_at") WHERE "payment_attempts"."status" = 'pending';--> statement-breakpoint
-- A callback's row is stored, then marked processed moments later (no indexed column changes): room
-- left on each page lets that update stay on the page (HOT) instead of adding an entry to every index.
ALTER TABLE "payment_webhook_events" SET (fillfactor = 90);
