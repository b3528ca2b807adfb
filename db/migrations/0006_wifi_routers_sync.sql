ALTER TABLE "mikrotik_routers" ADD COLUMN "router_os_version" text;--> statement-breakpoint
ALTER TABLE "mikrotik_routers" ADD COLUMN "consecutive_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "mikrotik_routers" ADD COLUMN "next_sync_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "mikrotik_routers" ADD COLUMN "sync_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "wifi_sessions" ADD COLUMN "router_entry_id" text;--> statement-breakpoint
ALTER TABLE "wifi_vouchers" ADD COLUMN "profile" text;--> statement-breakpoint
ALTER TABLE "wifi_vouchers" ADD COLUMN "time_limit_seconds" integer;--> statement-breakpoint
ALTER TABLE "wifi_vouchers" ADD COLUMN "data_limit_bytes" bigint;--> statement-breakpoint
ALTER TABLE "wifi_vouchers" ADD COLUMN "router_user_id" text;--> statement-breakpoint
ALTER TABLE "wifi_vouchers" ADD COLUMN "pushed_to_router_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "wifi_vouchers_expiry_idx" ON "wifi_vouchers" USING btree ("tenant_id","status","expires_at");