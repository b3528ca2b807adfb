CREATE TABLE "channel_account_routes" (
	"channel_account_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "channel_account_routes" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "channel_account_routes" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "channel_account_routes" ADD CONSTRAINT "channel_account_routes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE POLICY "platform_only" ON "channel_account_routes" AS PERMISSIVE FOR ALL TO public USING (coalesce(current_setting('app.platform', true), '') = 'on') WITH CHECK (coalesce(current_setting('app.platform', true), '') = 'on');