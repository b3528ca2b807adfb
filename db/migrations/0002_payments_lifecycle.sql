CREATE TABLE "gateway_apps" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid,
	"provider" text DEFAULT 'campay' NOT NULL,
	"base_url" text NOT NULL,
	"credentials_enc" text NOT NULL,
	"webhook_key_enc" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_webhook_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"gateway_app_id" text NOT NULL,
	"event_key" text NOT NULL,
	"gateway_reference" text NOT NULL,
	"reported_status" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"outcome" text
);
--> statement-breakpoint
CREATE TABLE "platform_counters" (
	"name" text PRIMARY KEY NOT NULL,
	"value" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX "payments_gateway_reference_key";--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "document" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "gateway_app_id" text DEFAULT 'platform' NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "attempt_id" uuid;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "invoice_id" uuid;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "phone" text NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "ussd_code" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "failure_reason" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "expires_at" timestamp with time zone NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "next_check_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "check_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "billing_phone" text;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "ussd_code" text;--> statement-breakpoint
ALTER TABLE "gateway_apps" ADD CONSTRAINT "gateway_apps_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_webhook_events_key" ON "payment_webhook_events" USING btree ("event_key");--> statement-breakpoint
CREATE INDEX "payments_reconcile_idx" ON "payments" USING btree ("status","next_check_at");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_gateway_reference_key" ON "payments" USING btree ("gateway_app_id","gateway_reference");--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD CONSTRAINT "payment_attempts_at_most_three" CHECK ("payment_attempts"."attempt_number" between 1 and 3);